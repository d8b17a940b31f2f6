"""The pending-command engine: issue a token for a plan, record the human's decision, and run it exactly once.

Lifecycle of a token (states are columns in the journal; every arrow is one conditional UPDATE):

    pending ──approve──> approved ──claim──> executing ──> succeeded | failed | partial | unknown
       │                    │                    └──────> stale (the cluster changed since the plan; nothing ran)
       ├──deny──> denied    ├──cancel──> cancelled
       └──(clock passes expires_at)──> expired

The claim is the single-use guarantee: only one UPDATE ... WHERE state IN (...) can win, across threads and processes.
It records the claimer (pid, host, lease); a later call that finds `executing` with its claimer dead relabels it
`unknown` (event `abandoned`), since the write may have reached the cluster before the process died.

Layer: tools.engine.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.core.masking import mask_data, mask_text
from incident_response.tools.core.modes import Mode, stricter
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine import approvals
from incident_response.tools.engine.already_written import already_written
from incident_response.tools.engine.approvals import Approvals
from incident_response.tools.engine.binding import Binding, Misplaced, misplaced
from incident_response.tools.engine.claimers import claimer, claimer_gone
from incident_response.tools.engine.executor import (
    ExecRunner,
    Report,
    observe_after,
    read_precondition,
    read_sealed,
    run_steps,
)
from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.engine.outcomes import CommandResult, CommandStatus, HumanAnswer, Proposal, StepOutcome
from incident_response.tools.engine.plan import (
    Change,
    Drift,
    KubeWrite,
    PendingCommand,
    PlanDraft,
    drift,
    fingerprint,
    pointed_values,
    seal_digests,
)
from incident_response.tools.engine.store import Store
from incident_response.tools.kube.client import Kube

# The answer models live in tools.engine.outcomes; they are re-exported here so callers import the engine in one place.
__all__ = [
    "DEFAULT_TTL",
    "CommandResult",
    "CommandStatus",
    "HumanAnswer",
    "PendingEngine",
    "Proposal",
    "StepOutcome",
    "new_token",
    "utcnow",
]

DEFAULT_TTL = timedelta(minutes=15)
LIVE = ("pending", "approved")
FINISHED = ("succeeded", "failed", "partial", "unknown", "executing")
ABANDONED = (
    "The server process executing this command died before it finished (killed, or its host went down), so the "
    "command may or may not have been applied. Check the target's current state (verify_recovery, list_pods, "
    "rollout_status, helm_history) before anything else; plan again only if it did not take effect."
)
# Why an accepted confirmation dialog denied its plan (server.confirmation): said again to a later confirm.
DIALOG_WITHOUT_CODE = (
    "the dialog was accepted without the code it showed (none, or another), so it is refused (a dialog accepted unread "
    "cannot approve). "
    "Plan again if it is still wanted, and have the person type the code the new dialog shows"
)
# The server's instructions say the rest once: in safe mode nothing is executed through this server.
SAFE_MODE_ADVICE = "Safe mode: advice only."


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    """256 random bits, URL-safe: nothing to guess, nothing to quote in a shell. The `irm_` prefix tells the masker
    (tools/core/masking.py) this is our own token, shown on purpose, as GitHub's `ghp_` tells scanners theirs; it
    also keeps a token from starting with '-', which `approve TOKEN` would read as an option."""
    return "irm_" + secrets.token_urlsafe(32)


def _epoch(value: datetime) -> float:
    return value.timestamp()


def _answer(token: str, cmd: PendingCommand, row: CommandRow | None = None) -> dict[str, Any]:
    """The fields every CommandResult about this command repeats; with `row`, who decided and how."""
    base: dict[str, Any] = {
        "token": token,
        "command": cmd.command,
        "undo_command": cmd.undo_command,
        "diff": cmd.diff,
        "expires_at": cmd.expires_at,
    }
    if row is not None:
        base |= {"approved_by": row.decided_by, "approval_channel": row.decided_channel}
    return base


def shown(draft: PlanDraft, key: bytes) -> PlanDraft:
    """The plan as it may be stored and shown: free text masked, the writes' secrets sealed (plan.seal_secrets).
    A write or command line that would still carry a credential is refused: it would reach the journal and the
    human's screen, and masking it would change what runs."""
    steps = [
        step.model_copy(update={"action": step.action.model_copy(update={"body": seal_digests(step.action.body, key)})})
        if isinstance(step.action, KubeWrite)
        else step
        for step in draft.steps
    ]
    for step in steps:
        carried = step.action.body if isinstance(step.action, KubeWrite) else [step.action.argv, step.action.env]
        lines = [step.command, step.undo_command or "", draft.undo_command or "", draft.command_line or ""]
        if mask_data(carried) != carried or any(mask_text(line) != line for line in lines):
            raise errors.InvalidArgument(
                f"{draft.tool}: the planned write would carry a credential in clear ({step.description}), which "
                "this server never stores or shows; nothing was planned. Make this change by hand."
            )
    return draft.model_copy(
        update={
            "steps": steps,
            "summary": mask_text(draft.summary),
            "warnings": [
                w.model_copy(update={"brief": mask_text(w.brief), "detail": mask_text(w.detail)})
                for w in draft.warnings
            ],
            "diff": [
                Change(path=mask_text(c.path), before=mask_data(c.before), after=mask_data(c.after)) for c in draft.diff
            ],
        }
    )


class PendingEngine:
    """Issues, decides and executes pending commands, all state in the journal so any process can pick up."""

    def __init__(
        self,
        journal: Store,
        *,
        ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = utcnow,
        token_factory: Callable[[], str] | None = None,
        exec_runner: ExecRunner | None = None,
        approvals: Approvals = "any",
    ) -> None:
        self.journal = journal
        self.ttl = ttl
        self.clock = clock
        self.token_factory = token_factory or new_token
        self.exec_runner = exec_runner
        self.approvals = approvals

    def approve_hint(self, token: str) -> str:
        return f"incident-response-mcp approve {token} {self.journal.approve_flags()}"

    # --- issuing --------------------------------------------------------------------------------------------------

    def propose(
        self, draft: PlanDraft, here: Binding, *, incident: str | None = None, blocked_reason: str | None = None
    ) -> Proposal:
        """Store the plan under a fresh token, bound to `here` (the planning server's cluster, mode and allow-list);
        or, in safe mode or with `blocked_reason`, journal it as advice and issue none: a plan this server cannot
        run, e.g. helm without a helm binary, gets no token to confirm."""
        mode = here.mode
        draft = shown(draft, self.journal.seal_key())
        if mode != "safe" and blocked_reason is None and (note := self.same_target(draft, here)):
            draft = draft.model_copy(update={"warnings": [*draft.warnings, note]})
        view = {
            "command": draft.command,
            "undo_command": draft.undo_command,
            "diff": draft.diff,
            "summary": draft.summary,
            "target": draft.target,
            "risk": draft.risk,
            "steps": [s.command for s in draft.steps],
            "preconditions": draft.preconditions,
            "warnings": draft.warnings,
        }
        incident = incident or self.journal.current_incident()
        reason = SAFE_MODE_ADVICE if mode == "safe" else blocked_reason
        if reason is not None:
            detail = {
                "tool": draft.tool,
                "command": draft.command,
                "reason": reason,
                "binding": here.model_dump(mode="json"),
                "namespaces": sorted(draft.namespaces()),
            }
            self.journal.record_event("blocked", incident=incident, detail=detail)
            return Proposal(status="blocked", **view, next_step=reason)
        now = self.clock()
        cmd = PendingCommand(
            **draft.model_dump(),
            binding=here,
            principal=approvals.CALLER.get().principal,
            token=self.token_factory(),
            incident=incident,
            created_at=now,
            expires_at=now + self.ttl,
        )
        cmd.fingerprint = fingerprint(cmd)
        self.journal.add_command({**cmd.model_dump(mode="json"), "command": cmd.command}, state="pending")
        if mode == "full":
            hint = "Full mode: show the command and diff to the human, then call confirm_command(token) to run it."
        else:
            hint = (
                "Show the command, diff and undo to the human. To run it, call confirm_command(token): it asks the "
                f"human when the client supports it; otherwise the human approves with: {self.approve_hint(cmd.token)}"
            )
        return Proposal(
            status="pending",
            token=cmd.token,
            expires_at=cmd.expires_at,
            fingerprint=cmd.fingerprint,
            next_step=hint,
            **view,
        )

    def same_target(self, draft: PlanDraft, here: Binding) -> PlanWarning | None:
        """A warning when another live plan on this cluster changes the same object (review-assist8 I3: a rollback
        and a canary pull of one deployment, both pending): confirming both runs both."""
        kind, target = draft.target.kind, draft.target
        tools = sorted(
            {
                cmd.tool
                for _, cmd in self.live()
                if (cmd.target.kind, cmd.target.namespace, cmd.target.name) == (kind, target.namespace, target.name)
                and (cmd.binding.cluster if cmd.binding else None) == here.cluster
            }
        )
        if not tools:
            return None
        named = f"{kind.lower()}/{target.name}"
        return warning(
            "same_target",
            f"{', '.join(tools)} for {named} is pending too: cancel_command one",
            f"Another plan for {named} is pending ({', '.join(tools)}): confirming both runs both. cancel_command the "
            "one not meant to run (list_pending_commands shows it).",
        )

    # --- reading --------------------------------------------------------------------------------------------------

    def get(self, token: str) -> tuple[CommandRow, PendingCommand] | None:
        row = self.journal.command(token)
        return None if row is None else (row, PendingCommand.model_validate(row.plan))

    def live(self) -> list[tuple[CommandRow, PendingCommand]]:
        """Commands still waiting for a decision or a confirm, after expiring the ones whose time is up."""
        for row in self.journal.commands(states=("executing",)):
            self._abandon_if_dead(row)
        out = []
        for row in self.journal.commands(states=LIVE):
            if self._expire_if_due(row):
                continue
            out.append((row, PendingCommand.model_validate(row.plan)))
        return out

    def needs_human(self, token: str, here: Binding) -> PendingCommand | None:
        """The plan to show a human, if confirming this token at `here` would wait for one (`here` may leave the
        cluster's uid unknown: a plan for another cluster is refused by confirm after the question, never run)."""
        found = self.get(token)
        if found is None or found[0].state != "pending" or self._misplaced(found[1], here, strict=False):
            return None
        if self.mode_for(found[1], here) != "standard" or self._expire_if_due(found[0]):
            return None
        return found[1]

    @staticmethod
    def mode_for(cmd: PendingCommand, here: Binding) -> Mode:
        """The stricter of the planning and the confirming server's modes: a plan made in standard mode needs a
        human wherever it is confirmed."""
        return here.mode if cmd.binding is None else stricter(cmd.binding.mode, here.mode)

    @staticmethod
    def _misplaced(cmd: PendingCommand, here: Binding, *, strict: bool) -> tuple[Misplaced, str] | None:
        touches, accepted = cmd.namespaces(), cmd.accepted_outside_allow_list
        return misplaced(cmd.binding, touches, accepted, here, strict=strict)

    def _refuse_here(
        self, token: str, cmd: PendingCommand, here: Binding, *, strict: bool = True
    ) -> CommandResult | None:
        """A refusal, journaled, when this token's plan belongs to another cluster or outside `here`'s allow-list.
        It names nothing of the plan (this server must not show it) and leaves the token as it was."""
        found = self._misplaced(cmd, here, strict=strict)
        if found is None:
            return None
        status, message = found
        self.note(token, "refused_here", detail={"status": status, "message": message})
        return CommandResult(status=status, token=token, message=message)

    def _expire_if_due(self, row: CommandRow) -> bool:
        if row.state in LIVE and row.expires_at <= _epoch(self.clock()):
            self.journal.transition(row.token, LIVE, "expired", event="expired")
            return True
        return False

    def _abandon_if_dead(self, row: CommandRow) -> bool:
        """Relabel `unknown` an execution whose claimer died mid-way: it may have written, so it is not `failed`."""
        now = _epoch(self.clock())
        if not (claimer_gone(row, now) or self.journal.claimer_lost(row)):
            return False
        outcome = {"status": "unknown", "message": ABANDONED}
        return self.journal.transition(
            row.token,
            ("executing",),
            "unknown",
            event="abandoned",
            detail={**outcome, "claimer": row.claimer},
            fields={"finished_at": now, "result": outcome},
        )

    def _refusal(self, token: str) -> CommandResult | None:
        """Why this token cannot go on, or None while it is live."""
        found = self.get(token)
        if found is None:
            return CommandResult(
                status="unknown_token",
                token=token,
                message=f"No pending command has this token in this store ({self.journal.approve_flags()}). A "
                "human approving: check that those are the server's store options. Tokens cannot be guessed or "
                "edited; otherwise plan the mitigation again to get a new one.",
            )
        row, cmd = found
        if self._expire_if_due(row):
            row = self.journal.command(token) or row
            if row.state in LIVE:
                # Expired by the clock even where this process may not record it (an approver's team-mode store).
                row = row.model_copy(update={"state": "expired"})
        base = _answer(token, cmd, row)
        messages: dict[str, tuple[CommandStatus, str]] = {
            "expired": (
                "expired",
                f"This plan expired at {cmd.expires_at.isoformat()} without running; plan it again.",
            ),
            "denied": (
                "denied",
                self._denial(token, row)
                or f"A human denied this command ({row.decided_by} via {row.decided_channel}); it "
                "will not run. Do not retry it; ask the human what to do instead.",
            ),
            "cancelled": ("cancelled", "This command was cancelled; it will not run. Plan again if still needed."),
            "stale": (
                "stale",
                "This plan went stale (the cluster changed since it was made) and was not run; plan again.",
            ),
        }
        if row.state in messages:
            status, message = messages[row.state]
            return CommandResult(status=status, message=message, **base)
        if self._abandon_if_dead(row):
            return CommandResult(status="unknown", message=ABANDONED, **base)
        if row.state in FINISHED:
            previous = (row.result or {}).get("status", row.state)
            return CommandResult(
                status="used",
                message=f"This token was already used (outcome: {previous}); a token runs at most once. "
                "Check the cluster's state, and plan again if more is needed.",
                **base,
            )
        return None

    def _denial(self, token: str, row: CommandRow) -> str | None:
        """The answer for a plan denied for a reason the server gave (a dialog accepted without its code), which
        the generic "a human denied it" would misstate; None for a person's own denial."""
        if row.state != "denied" or row.decided_channel != approvals.ELICITATION:
            return None
        reasons = [(e.detail or {}).get("reason") for e in self.journal.events(token=token) if e.kind == "denied"]
        if not reasons or reasons[-1] != DIALOG_WITHOUT_CODE:
            return None
        return f"This command was denied ({row.decided_by} via {row.decided_channel}): {DIALOG_WITHOUT_CODE}."

    def note(self, token: str, kind: str, *, channel: str | None = None, detail: dict[str, Any] | None = None) -> None:
        """Add an event about a command to its incident's timeline."""
        row = self.journal.command(token)
        self.journal.record_event(
            kind, incident=row.incident if row else None, token=token, channel=channel, detail=detail
        )

    # --- the human's side -----------------------------------------------------------------------------------------

    def decide(self, token: str, answer: HumanAnswer) -> CommandResult:
        """Record approval or denial; approval binds to the plan's fingerprint."""
        refusal = self._refusal(token)
        if refusal is not None:
            return refusal
        row, cmd = self.get(token) or (None, None)
        assert row is not None and cmd is not None
        if row.state == "approved" and answer.approved:
            return CommandResult(
                status="approved",
                token=token,
                command=cmd.command,
                approved_by=row.decided_by,
                approval_channel=row.decided_channel,
                message="Already approved.",
            )
        shown = answer.shown_fingerprint
        if answer.approved and shown is not None and shown != row.fingerprint:
            return CommandResult(
                status="refused",
                token=token,
                command=cmd.command,
                message="The plan stored under this token is not the one you were shown (it changed after it was "
                "shown); nothing was approved. Run approve again to see the plan as it is now, and deny it if you "
                "did not expect it.",
            )
        now = _epoch(self.clock())
        to_state = "approved" if answer.approved else "denied"
        won = self.journal.transition(
            token,
            ("pending",) if answer.approved else LIVE,
            to_state,
            event=to_state,
            unexpired_at=now,
            actor=answer.approver,
            channel=answer.channel,
            detail={"reason": answer.reason},
            fields={
                "decided_by": answer.approver,
                "decided_channel": answer.channel,
                "decided_at": now,
                "decided_principal": answer.principal,
                # What the human saw, when known: a plan swapped after this read fails the check at execution.
                "approved_fingerprint": (shown or row.fingerprint) if answer.approved else None,
            },
        )
        if not won:
            return self._refusal(token) or self.decide(token, answer)
        status: CommandStatus = "approved" if answer.approved else "denied"
        return CommandResult(
            status=status,
            token=token,
            command=cmd.command,
            undo_command=cmd.undo_command,
            diff=cmd.diff,
            expires_at=cmd.expires_at,
            approved_by=answer.approver,
            approval_channel=answer.channel,
            message=f"{status} by {answer.approver} via {answer.channel}"
            + (f": {answer.reason}." if answer.reason and not answer.approved else "."),
        )

    def cancel(self, token: str, *, actor: str = "agent", here: Binding | None = None) -> CommandResult:
        """Cancel a live token; with `here`, only a plan that server shows (cancelling changes no cluster, so a plan
        that records no cluster can still be withdrawn)."""
        found = self.get(token)
        if found is not None and here is not None:
            refused = self._refuse_here(token, found[1], here, strict=False)
            if refused is not None:
                return refused
        refusal = self._refusal(token) or self._not_yours(token)
        if refusal is not None:
            return refusal
        if not self.journal.transition(token, LIVE, "cancelled", event="cancelled", actor=actor):
            return self._refusal(token) or self.cancel(token, actor=actor, here=here)
        return CommandResult(status="cancelled", token=token, message="Cancelled; it will not run.")

    # --- the agent's side -----------------------------------------------------------------------------------------

    def confirm(self, token: str, *, here: Binding, kube: Kube, answer: HumanAnswer | None = None) -> CommandResult:
        """Run the stored plan on `kube` if it was made for this cluster (`here`, read from the API server just now),
        inside `here`'s allow-list, and the stricter of the two modes allows it now; `answer` is a human decision
        gathered in band."""
        found = self.get(token)
        if found is not None:
            refused = self._refuse_here(token, found[1], here)
            if refused is not None:
                return refused
        refusal = self._refusal(token) or self._not_yours(token)
        if refusal is not None:
            return refusal
        found = self.get(token)
        assert found is not None
        row, cmd = found
        base = _answer(token, cmd)
        mode = self.mode_for(cmd, here)
        if mode == "safe":
            return CommandResult(
                status="refused",
                message="Safe mode: this server never executes mutations. A human may run the "
                "command themselves after reviewing it.",
                **base,
            )
        if mode == "standard":
            gate = self._approval_gate(row, base, answer)
            if gate is not None:
                return gate
            row = self.journal.command(token) or row
        now = _epoch(self.clock())
        fields: dict[str, Any] = {"claimed_at": now, "claimer": claimer(now)}
        unattended = mode == "full" and row.state == "pending"
        channel = approvals.NO_APPROVAL if unattended else row.decided_channel
        if unattended:
            fields |= {"decided_channel": channel, "decided_at": now}
        won = self.journal.transition(
            token,
            ("approved",) if mode == "standard" else LIVE,
            "executing",
            event="claimed",
            unexpired_at=now,
            fields=fields,
            channel=channel if unattended else None,
            detail={"mode": mode, "approval_channel": channel, "human_approved": approvals.human_verified(channel)},
        )
        if not won:
            return self._refusal(token) or CommandResult(status="used", message="Already claimed.", **base)
        claimed = self.journal.command(token)
        assert claimed is not None
        return self._execute(claimed, cmd, kube, previous_state=row.state if row.state in LIVE else "approved")

    def _approval_gate(self, row: CommandRow, base: dict[str, Any], answer: HumanAnswer | None) -> CommandResult | None:
        """Standard mode: None once an approval this server accepts is recorded (recording `answer` if it is one);
        otherwise the answer that says what is missing."""
        caller = approvals.CALLER.get()
        if row.state == "approved":
            planner = PendingCommand.model_validate(row.plan).principal
            problem = (
                approvals.unaccepted(self.approvals, row.decided_channel)
                or approvals.self_approved(caller, row.decided_channel, row.decided_principal)
                or approvals.program_self_approved(planner, row.decided_by)
            )
            if problem is None:
                return None
            return CommandResult(
                status="refused",
                message=f"Not run: {problem}. Plan it again and have the human approve the new "
                "token with the approve command.",
                **base,
            )
        if row.state != "pending":
            return None  # claimed meanwhile by a concurrent confirm: the claim below fails and says so
        if (
            answer is not None
            and approvals.unaccepted(self.approvals, answer.channel) is None
            and approvals.self_approved(caller, answer.channel, answer.principal) is None
        ):
            decided = self.decide(row.token, answer)
            return None if decided.status == "approved" else decided
        if self.approvals == "cli":
            why = " (this server does not ask in the client's dialog: --approvals cli)"
        elif caller.transport == "http":
            why = (
                " (over HTTP a client's own dialog does not count for its own plans; another authenticated user may "
                "approve it by calling confirm_command with this token from their own client)"
            )
        else:
            why = ""
        return CommandResult(
            status="awaiting_approval",
            message=f"A human must approve this command before it runs{why}. Show "
            f"them the command, diff and undo, and ask them to run: {self.approve_hint(row.token)} (or deny it with "
            "`deny` instead of `approve`). Then call confirm_command again.",
            **base,
        )

    def _not_yours(self, token: str) -> CommandResult | None:
        """A plan is confirmed or cancelled only by the principal that made it (over HTTP, its credential's
        principal; locally, a local client), so one client cannot run what another planned."""
        found = self.get(token)
        if found is None:
            return None
        cmd, caller = found[1], approvals.CALLER.get()
        if cmd.principal == caller.principal:
            return None
        return CommandResult(
            status="wrong_principal",
            message=f"This plan was made by {approvals.planner(cmd.principal)}, not by "
            f"{caller.describe()}; only its planner can confirm or cancel it. Nothing ran. Plan it again from this "
            "client if it is still needed.",
            **_answer(token, cmd),
        )

    def _execute(self, row: CommandRow, cmd: PendingCommand, kube: Kube, *, previous_state: str) -> CommandResult:
        base = _answer(row.token, cmd, row)
        finished = False

        def finish(result: CommandResult) -> CommandResult:
            nonlocal finished
            detail = {"status": result.status, "message": result.message}
            self.journal.transition(
                row.token,
                ("executing",),
                result.status,
                event="executed" if result.status != "stale" else "stale",
                detail=detail,
                fields={"finished_at": _epoch(self.clock()), "result": result.model_dump(mode="json")},
            )
            finished = True
            return result

        try:
            if fingerprint(cmd) != row.fingerprint or row.approved_fingerprint not in (None, row.fingerprint):
                return finish(
                    CommandResult(
                        status="failed",
                        message="The stored plan no longer matches what was approved; nothing ran. Plan again.",
                        **base,
                    )
                )
            try:
                reads = [read_precondition(kube, pre) for pre in cmd.preconditions]
                steps, resealed = read_sealed(kube, cmd.steps, self.journal.seal_key())
            except errors.IncidentError as e:
                # Nothing was written: hand the claim back so the same approved token can be confirmed again.
                self.journal.transition(
                    row.token, ("executing",), previous_state, event="released", detail={"error": str(e)}
                )
                finished = True
                return CommandResult(
                    status="failed",
                    message=f"Could not re-read the target, so nothing ran: {e} "
                    "The token is still valid; confirm again once the API answers.",
                    **base,
                )
            before = {
                r.pre.name or r.pre.label_selector or r.pre.resource: pointed_values(r.pre, r.found)
                for r in reads
                if r.pre.expect  # a Ready floor has no values to show, and would hide a pod set on the same selector
            }
            changes = [d for r in reads for d in drift(r.pre, r.found)] + resealed
            if changes:
                what = "; ".join(d.describe() for d in changes)
                # Someone made the same change (a hand rollback): planning again would go past it.
                then = (
                    f" {cmd.target.kind.lower()}/{cmd.target.name} already has what this plan writes (the same change "
                    "was made by someone else): nothing to plan again; verify_recovery."
                    if not resealed and already_written(kube, steps)
                    else " Assess again (assess_namespace) before planning again: what changed may have fixed or moved "
                    "the problem."
                )
                return finish(
                    CommandResult(
                        status="stale",
                        changes=changes,
                        before=before,
                        message=f"The cluster changed since the plan ({what}); nothing ran.{then}",
                        **base,
                    )
                )
            return finish(self._run_steps(cmd.model_copy(update={"steps": steps}), kube, base, before))
        finally:
            if not finished:
                self.journal.transition(
                    row.token,
                    ("executing",),
                    "unknown",
                    event="executed",
                    detail={"status": "unknown", "message": "execution was interrupted"},
                )

    def _drift_now(self, kube: Kube, cmd: PendingCommand) -> list[Drift]:
        """What changed since the plan, read again now; nothing when the reads fail (the refusal stands as is)."""
        try:
            return [d for pre in cmd.preconditions for d in drift(pre, read_precondition(kube, pre).found)]
        except errors.IncidentError:
            return []

    def _run_steps(
        self, cmd: PendingCommand, kube: Kube, base: dict[str, Any], before: dict[str, Any]
    ) -> CommandResult:
        status, outcomes, answers = run_steps(kube, cmd.steps, self.exec_runner)
        after = observe_after(kube, cmd.preconditions, answers)
        report = Report(cmd.steps, status, outcomes)
        if report.status == "failed" and (changes := self._drift_now(kube, cmd)):
            # A write guarded by the plan's preconditions (a JSON-patch `test`) was refused: the cluster changed
            # between the confirm-time check and the write. Nothing was applied, so it is stale, not a failure.
            what = "; ".join(d.describe() for d in changes)
            return CommandResult(
                status="stale",
                changes=changes,
                steps=outcomes,
                before=before,
                after=after,
                message=f"The cluster changed while the command ran ({what}); the write refused it and nothing "
                "changed. Plan again.",
                **base,
            )
        return CommandResult(
            status=report.status,
            message=report.message(),
            steps=outcomes,
            before=before,
            after=after,
            applied_steps=[step.command for step in report.applied if report.status != "succeeded"],
            failed_step=report.failed_step,
            undo_applied=report.undo if report.status != "succeeded" else None,
            **base,
        )
