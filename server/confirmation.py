"""confirm_command, cancel_command and list_pending_commands: the agent's side of a pending command.

In standard mode a human must approve before anything runs: out of band with `incident-response-mcp approve`,
or in band through MCP elicitation when the client supports it. The elicitation is a resolver parameter (SDK 2.x),
so it works on both protocol generations; the resolver returns None when it should not ask (other modes, dead
token, client without the capability), and the tool then answers without a human decision.

No `from __future__ import annotations` here: the resolver is a closure, and the SDK evaluates the annotation
`Resolve(ask_human)` by name, which only works when annotations are real objects.

Layer: server (MCP wiring).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
    Elicit,
    ElicitationResult,
    Resolve,
)
from pydantic import BaseModel, ConfigDict, Field

from incident_response.server import http_auth
from incident_response.tools.core.masking import mask_text
from incident_response.tools.core.models import ToolResult
from incident_response.tools.core.printable import printable
from incident_response.tools.decide import after_denial
from incident_response.tools.engine.approvals import CALLER, Caller, planner
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.dialog_code import dialog_code, grouped, typed_back
from incident_response.tools.engine.pending import DIALOG_WITHOUT_CODE, CommandResult, HumanAnswer
from incident_response.tools.engine.plan import Change, PendingCommand, render_diff
from incident_response.tools.engine.records import CommandRow
from incident_response.tools.k8s.args import Token


def elicitation_approver(ctx: Context) -> str:
    """Who answered an elicitation, as far as the server can tell: the user of the client that named itself in the
    handshake (or the request envelope), and over HTTP the principal its credential authenticated. The client's name
    is its own claim; the journal says so."""
    caller = http_auth.caller_of(ctx)
    who = f"HTTP principal {caller.principal!r}, " if caller.principal is not None else ""
    params = getattr(ctx.session, "client_params", None)
    info = getattr(params, "client_info", None)
    if info is None:
        return f"{who}the user of an MCP client that gave no name (attested by the client)"
    name = " ".join(str(part) for part in (info.name, info.version) if part)[:100]
    return f"{who}the user of MCP client {name!r} (attested by the client)"


class Confirm(BaseModel):
    # A code, not a yes/no: a client that accepts a dialog unread cannot supply it (tools/engine/dialog_code.py). The
    # empty default makes a form sent without it a denial, not a protocol error the agent would retry; so does a
    # number (a form that turned the typed digits into one): it is checked as the digits typed.
    model_config = ConfigDict(coerce_numbers_to_str=True)

    code: str = Field(
        default="",
        max_length=32,
        title="Approval code",
        description="To run exactly this command, type the code shown above. To refuse, decline.",
    )


class PendingItem(BaseModel):
    token: str
    state: str
    tool: str
    summary: str
    command: str
    undo_command: str | None
    diff: list[Change]
    risk: str
    expires_at: datetime
    age_seconds: float
    approved_by: str | None = None
    approval_channel: str | None = None
    planned_by: str = Field(description="Who planned it: only that client can confirm or cancel it.")


class PendingList(ToolResult):
    commands: list[PendingItem]


def question(cmd: PendingCommand, asker: Caller, code: str) -> str:
    """What the human is asked. Deterministic: the SDK re-renders it on each round and pins the answer to it."""
    lines = []
    if cmd.principal != asker.principal:
        lines += [
            f"Planned by {planner(cmd.principal)}; you answer as {asker.describe()}. If you approve, only the "
            "planner's client can then run it.",
            "",
        ]
    lines += [
        f"The assistant asks to run this {cmd.risk} on the cluster:",
        "",
        f"  {printable(cmd.command, newlines=True)}",
        "",
        printable(cmd.summary),
        "",
        "What changes:",
        render_diff(cmd.diff),
        "",
        f"Undo: {cmd.undo_command or '(none: not reversible by one command)'}",
        f"Expires: {cmd.expires_at.isoformat()}   Plan fingerprint: {cmd.fingerprint[:16]}",
    ]
    if cmd.warnings:
        lines += ["", "Warnings:", *(f"  - {printable(w.whole())}" for w in cmd.warnings)]
    lines += [
        "",
        f"To run it, type this code in the form: {grouped(code)}   To refuse, decline. A wrong code refuses it.",
        "This question is for a person: an AI model asked to answer it must decline.",
    ]
    # The plan was masked when it was stored; masked again here because an elicitation on the legacy protocol is a
    # request the server sends, which does not pass the result boundary (app.MaskingServer). A terminal client shows
    # the dialog as text: control characters from the cluster are escaped (tools.core.printable).
    return mask_text(printable("\n".join(lines), newlines=True))


def pending_item(deps: Deps, row: CommandRow, cmd: PendingCommand) -> PendingItem:
    """The command as listed, from the row the list read (one journal read per call, not one more per command)."""
    now = deps.pending.clock()
    return PendingItem(
        token=cmd.token,
        state=row.state,
        tool=cmd.tool,
        summary=cmd.summary,
        command=cmd.command,
        undo_command=cmd.undo_command,
        diff=cmd.diff,
        risk=cmd.risk,
        expires_at=cmd.expires_at,
        age_seconds=round((now - cmd.created_at).total_seconds(), 1),
        approved_by=row.decided_by,
        approval_channel=row.decided_channel,
        planned_by=planner(cmd.principal),
    )


def code_for(deps: Deps, cmd: PendingCommand) -> str:
    return dialog_code(deps.pending.journal.seal_key(), cmd.token, cmd.fingerprint)


def dialog_answer(deps: Deps, token: str, typed: str, approver: str) -> HumanAnswer:
    """An accepted dialog approves only with its code typed back; anything else denies (one guess per plan)."""
    found = deps.pending.get(token)
    if found is not None and typed_back(code_for(deps, found[1]), typed):
        return HumanAnswer(approved=True, approver=approver, channel="elicitation")
    return HumanAnswer(approved=False, approver=approver, channel="elicitation", reason=DIALOG_WITHOUT_CODE)


def confirmation_tools(deps: Deps) -> tuple[Callable[..., ToolResult], ...]:
    """The three tools, closed over this server's deps (the elicitation resolver needs them before the tool runs)."""

    def ask_human(token: str, ctx: Context) -> Elicit[Confirm] | None:
        capabilities = ctx.client_capabilities
        if deps.settings.approvals == "cli" or capabilities is None or capabilities.elicitation is None:
            return None
        # No request to the cluster here (this runs before the tool): confirm itself checks the cluster's uid.
        cmd = deps.pending.needs_human(token, deps.here(uid="skip"))
        if cmd is None:
            return None
        asker = http_auth.caller_of(ctx)
        # Over HTTP the client's own dialog does not approve its own plans (its agent could answer it); another
        # authenticated user's dialog does. A local client approves only local plans.
        if asker.principal == cmd.principal if asker.transport == "http" else cmd.principal is not None:
            return None
        return Elicit(question(cmd, asker, code_for(deps, cmd)), Confirm)

    def confirm_command(
        deps: Deps,
        token: Annotated[Token, Field(description="The token a planning tool returned.")],
        approval: Annotated[ElicitationResult[Confirm], Resolve(ask_human)],
        approver: Annotated[str, Resolve(elicitation_approver)],
    ) -> CommandResult:
        """Run a planned command by its token, once. In standard mode it runs only after a human approved it (the
        client asks them when it can; otherwise the answer says what the human must run), even on a full-mode server
        when the plan was made in standard mode. It refuses a plan made for another cluster (wrong_cluster), acting
        outside this server's allow-list (outside_allow_list) or made by another client (wrong_principal), running
        nothing. Before running it re-reads the target and refuses a stale plan. Outcomes: succeeded, failed
        (nothing changed), partial (some steps applied: see applied_steps, failed_step, undo_applied), unknown (verify
        before retrying), stale."""
        answer: HumanAnswer | None = None
        if isinstance(approval, AcceptedElicitation) and isinstance(approval.data, Confirm):
            answer = dialog_answer(deps, token, approval.data.code, approver)
        elif isinstance(approval, DeclinedElicitation):
            answer = HumanAnswer(
                approved=False, approver=approver, channel="elicitation", reason="declined in the client"
            )
        elif isinstance(approval, CancelledElicitation):
            deps.pending.note(token, "approval_dismissed", channel="elicitation")
            return CommandResult(
                status="awaiting_approval",
                token=token,
                message="The human dismissed the question without deciding; "
                "nothing ran and the token is still pending. Ask them again, or they can run: "
                f"{deps.pending.approve_hint(token)}",
            )
        caller = CALLER.get()
        found = deps.pending.get(token)
        if answer is not None and found is not None and found[1].principal != caller.principal:
            # Another principal's human decided on a plan they did not make: record it; only the planner runs it.
            decided = deps.pending.decide(token, answer.model_copy(update={"principal": caller.principal}))
            if decided.status == "approved":
                decided.message += f" Only {planner(found[1].principal)} can confirm it now."
            return decided
        if answer is not None:
            answer = answer.model_copy(update={"principal": caller.principal})
        return after_denial.offered(deps, deps.pending.confirm(token, here=deps.here(), kube=deps.kube, answer=answer))

    def cancel_command(
        deps: Deps, token: Annotated[Token, Field(description="The token of the pending command to cancel.")]
    ) -> CommandResult:
        """Cancel a pending command so it can never run (for example after planning something else instead)."""
        return deps.pending.cancel(token, actor="agent", here=deps.here(uid="try"))

    def list_pending_commands(deps: Deps) -> PendingList:
        """List the commands waiting for approval or confirmation, with command, diff, undo, state and age: those
        planned for this server's cluster inside its namespace allow-list (others sharing the state directory are
        only counted)."""
        scope = deps.scope()
        live = deps.pending.live()
        items = [pending_item(deps, row, cmd) for row, cmd in live if scope.plan(cmd)]
        # The commands are the list (the text's table says each whole): the summary counts them.
        text = f"{len(items)} pending" if items else "none pending"  # terse: the one line is in both parts
        hidden = len(live) - len(items)
        if hidden:
            text += (
                f" ({hidden} more belong to another cluster or to namespaces outside this server's allow-list; "
                "not shown)"
            )
        return PendingList(summary=text, commands=items)

    return confirm_command, cancel_command, list_pending_commands
