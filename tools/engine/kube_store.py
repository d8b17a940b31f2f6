"""The team-mode store: the journal as objects of our CustomResourceDefinitions on the Kubernetes API (issue 16).

Every replica of the server, and every human's `approve --store kubernetes`, reads and writes the same objects in
one namespace. Exactly-once comes from the API's optimistic concurrency: a command's state changes only by a status
write that carries the resourceVersion it was read at, so of several concurrent confirms one write succeeds and the
others get 409 Conflict. A decision is an `Approval` object, which the approver creates with their own credentials
(the server's ServiceAccount may not: RBAC in deploy/); a store opened by the server refuses to create one.

Every change and its timeline events are one write, as one SQLite transaction holds both: a command's events go
into its status history, an incident's into its spec. Tool calls and other events (notes, blocked plans) are objects
of their own (JournalEntry): nothing depends on them being written together with anything else.

The store is built in three layers: its objects (kube_store_objects.KubeObjects), incidents on them
(kube_store_incidents.KubeIncidents), and here tool calls, pending commands and the timeline (KubeStore).

Layer: tools.engine.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine import call_reads, store
from incident_response.tools.engine import kube_objects as objects
from incident_response.tools.engine.approvals import CLI_CHANNELS
from incident_response.tools.engine.kube_objects import APPROVALS, COMMANDS, ENTRIES, INCIDENTS
from incident_response.tools.engine.kube_retention import compact
from incident_response.tools.engine.kube_store_incidents import KubeIncidents
from incident_response.tools.engine.records import CommandRow, Event, ToolCall

logger = logging.getLogger(__name__)

# How often one process looks for resolved incidents to compact (every replica does; they agree on the result).
COMPACT_INTERVAL = 3600.0

NOT_AN_APPROVER = (
    "this server stores its journal on the Kubernetes API, where a decision is an Approval object that only a human "
    "creates with their own credentials: run `incident-response-mcp approve TOKEN --store kubernetes` (or deny)"
)


class KubeStore(KubeIncidents):
    """`tools.engine.store.Store` on the Kubernetes API, in `namespace`. `approver=True` only for the approve CLI;
    with `retention` (seconds), resolved incidents older than that are compacted (kube_retention)."""

    def compact_in_background(self) -> threading.Thread | None:
        """Start retention (kube_retention.compact) in a thread, at most once an interval per process, so a tool
        call never waits for it; the thread, or None when it is not due or not configured."""
        if self.retention is None:
            return None
        now = self.clock()
        with self._lock:
            if now < self._next_compaction:
                return None
            self._next_compaction = now + COMPACT_INTERVAL
        worker = threading.Thread(target=self._compact, args=(now, self.retention), name="store-retention", daemon=True)
        worker.start()
        return worker

    def _compact(self, now: float, retention: float) -> None:
        try:
            compact(self, now=now, retention=retention)
        except errors.IncidentError as e:
            logger.warning("could not compact resolved incidents: %s", e)

    # --- tool calls -----------------------------------------------------------------------------------------------

    def record_tool_call(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        status: str,
        duration_ms: float,
        error: str | None = None,
        incident: str | None = None,
        cluster: dict[str, Any] | None = None,
    ) -> None:
        body = {
            "type": "toolCall",
            "incident": objects.masked(incident),
            "at": self.clock(),
            "tool": objects.masked(tool),
            "arguments": objects.masked(arguments),
            "status": objects.masked(status),
            "error": objects.masked(error),
            "durationMs": duration_ms,
            "pid": os.getpid(),
            "cluster": objects.masked(cluster),
        }
        self._entry("call", body, type="toolCall", incident=incident)
        self.compact_in_background()

    def tool_calls(self, *, incident: str | None = None, tool: str | None = None) -> list[ToolCall]:
        rows = [objects.tool_call_row(o) for o in self.list_objects(ENTRIES, type="toolCall", incident=incident)]
        rows += [c for summary in self._summaries(incident) for c in summary.tool_calls]
        return sorted(
            (r for r in rows if (incident is None or r.incident == incident) and (tool is None or r.tool == tool)),
            key=lambda r: r.id,
        )

    # --- pending commands -----------------------------------------------------------------------------------------

    def add_command(self, plan: dict[str, Any], *, state: str, actor: str | None = None) -> None:
        try:
            self._add_command(plan, state=state, actor=actor)
        finally:
            call_reads.forget()  # whatever this raised, the call's later reads see the command

    def _add_command(self, plan: dict[str, Any], *, state: str, actor: str | None) -> None:
        created, expires = _epoch(plan["created_at"]), _epoch(plan["expires_at"])
        made = self.kube.create(
            COMMANDS, objects.command_object(plan, created_at=created, expires_at=expires), self.namespace
        )
        detail = {"tool": plan["tool"], "command": plan.get("command"), "summary": plan.get("summary")}
        proposed = objects.history_entry(
            "proposed", number=self._sequence(), at=self.clock(), actor=actor, detail=detail
        )
        # The status subresource ignores a status sent with the create; written after, `kubectl get` shows the state.
        self.kube.patch(
            COMMANDS,
            objects.name_of(made),
            {"status": {"state": state, "history": [proposed]}},
            self.namespace,
            patch_type="merge",
            subresource="status",
        )

    def _own_pod(self) -> dict[str, Any] | None:
        """This replica's pod as a claim records it (name, namespace, uid, container restarts); None outside a pod or
        when the pod cannot be read (then the claim lease alone decides)."""
        if self.pod is None:
            return None
        name, namespace = self.pod
        try:
            found = self.kube.get("pods", name, namespace)
        except errors.IncidentError as e:
            logger.warning("this claim does not name its pod (%s/%s): %s", namespace, name, e)
            return None
        return {"name": name, "namespace": namespace, "uid": objects.uid_of(found), "restarts": objects.restarts(found)}

    def claimer_lost(self, row: CommandRow) -> bool:
        """An execution claimed in another pod is lost once that pod is gone (deleted, replaced: another uid) or its
        container restarted since the claim: the process that claimed it cannot finish it. A pod being deleted
        still runs until it is gone."""
        pod = (row.claimer or {}).get("pod")
        if row.state != "executing" or not isinstance(pod, dict) or self.pod == (pod.get("name"), pod.get("namespace")):
            return False
        try:
            found = self.kube.get("pods", str(pod.get("name")), str(pod.get("namespace")))
        except errors.NotFound:
            return True
        except errors.IncidentError:
            return False  # cannot tell: the lease decides
        return objects.uid_of(found) != pod.get("uid") or objects.restarts(found) > int(pod.get("restarts") or 0)

    def decisions(self, token: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
        """Approval objects by the command they decide, then by decision. An approval counts by its name
        (`<command>-approve` or `-deny`: one of each per command), never by its labels, which its creator chooses."""
        if token is None:
            found = self.list_objects(APPROVALS)
        else:
            names = (objects.approval_name(token, d) for d in (objects.APPROVED, objects.DENIED))
            found = [obj for name in names if (obj := self.get_object(APPROVALS, name)) is not None]
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for obj in found:
            decided = objects.decision_of(obj)
            if decided is not None:
                out.setdefault(decided[0], {})[decided[1]] = obj
        return out

    def _read(self, token: str) -> tuple[dict[str, Any], CommandRow] | None:
        # From the API: confirm, approve and their transitions act on the command's state now, not the call's memo.
        with call_reads.bypassed():
            obj = self.get_object(COMMANDS, objects.command_name(token))
            if obj is None or objects.spec(obj).get("token") != token:
                return None
            decided = self.decisions(token).get(objects.command_name(token), {})
        return obj, objects.command_row(obj, decided)

    def command(self, token: str) -> CommandRow | None:
        found = self._read(token)
        if found is not None:
            return found[1]
        return next((c for summary in self._summaries() for c in summary.commands if c.token == token), None)

    def command_rows(self, found: Sequence[dict[str, Any]]) -> list[CommandRow]:
        """The rows of these command objects, each with its decision."""
        decided = self.decisions()
        return [objects.command_row(o, decided.get(objects.name_of(o), {})) for o in found]

    def commands(self, *, states: Sequence[str] | None = None, incident: str | None = None) -> list[CommandRow]:
        rows = self.command_rows(self.list_objects(COMMANDS, incident=incident))
        live = {r.token for r in rows}
        rows += [c for summary in self._summaries(incident) for c in summary.commands if c.token not in live]
        chosen = [r for r in rows if (not states or r.state in states) and (incident is None or r.incident == incident)]
        return sorted(chosen, key=lambda r: r.created_at)

    def temporary_measures(self, *, incident: str | None = None) -> list[CommandRow]:
        # Over every incident's commands: a measure may be ended by a command of a later incident (or of another
        # server's, whose incidents are its own).
        # Only the journal's own event entries (and compacted summaries) can hold the closing event: not the full
        # timeline, which also lists every command and incident.
        entries = [objects.event_row(o) for o in self.list_objects(ENTRIES, type="event")]
        entries += [e for summary in self._summaries(None) for e in summary.events]
        closed = {e.token for e in entries if e.kind == store.REVERTED_OUTSIDE and e.token}
        measures = store.temporary_measures(self.commands(states=["succeeded", "partial"]), closed)
        return [m for m in measures if incident is None or m.incident == incident]

    @call_reads.fresh
    def transition(
        self,
        token: str,
        from_states: Sequence[str],
        to_state: str,
        *,
        event: str,
        unexpired_at: float | None = None,
        actor: str | None = None,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> bool:
        found = self._read(token)
        if found is None:
            return False
        obj, row = found
        if row.state not in from_states or (unexpired_at is not None and row.expires_at <= unexpired_at):
            return False
        fields = dict(fields or {})
        if to_state in ("approved", "denied") and row.state in objects.LIVE:
            return self._decide(row, to_state, fields, detail)
        if to_state == "executing" and isinstance(fields.get("claimer"), dict) and (pod := self._own_pod()):
            fields["claimer"] = {**fields["claimer"], "pod": pod}
        if to_state == "executing" and row.decided_by is not None:
            # The status keeps who approved what it runs, so `kubectl get` shows it after the approval is gone.
            fields = {
                "decided_by": row.decided_by,
                "decided_channel": row.decided_channel,
                "decided_principal": row.decided_principal,
                "decided_at": row.decided_at,
                "approved_fingerprint": row.approved_fingerprint,
            } | fields
        # The event goes into the status with the change it records: one write, so neither is ever without the other.
        history = [h for h in objects.status(obj).get("history") or [] if isinstance(h, dict)]
        entry = objects.history_entry(
            event, number=self._sequence(), at=self.clock(), actor=actor, channel=channel, detail=detail
        )
        change = objects.status_patch(to_state, fields) | {"history": [*history, entry]}
        try:
            won = self.swap(COMMANDS, obj, {"status": change}, status=True)
        except errors.Forbidden:
            if to_state in ("expired", "unknown"):
                return False  # an approver may not write commands; the server records what the clock says
            raise
        return won and not (to_state == "executing" and self._denied_while_claimed(token))

    def _denied_while_claimed(self, token: str) -> bool:
        """Whether a human denied the command while its claim was written, the claim then handed back as denied.

        A decision is an Approval object apart from the command: the claim's write, guarded by the command's version
        only, cannot see one made after the claim read the command, whose own check then read it still live and told
        the human "denied". Read once the claim is written: a deny made before is seen here; one made after sees the
        claim and says it came too late. Never both "denied" and run."""
        name = objects.command_name(token)
        for _ in range(3):
            with call_reads.bypassed():
                deny = self.decisions(token).get(name, {}).get(objects.DENIED)
                obj = self.get_object(COMMANDS, name) if deny is not None else None
            if deny is None:
                return False
            if obj is None or objects.status(obj).get("state") != "executing":
                return True  # gone or moved on: this claim does not run it either way
            by = objects.spec(deny)
            fields = {
                "decided_by": by.get("approver"),
                "decided_channel": by.get("channel"),
                "decided_principal": by.get("principal"),
                "decided_at": by.get("decidedAt"),
                "approved_fingerprint": None,
            }
            history = [h for h in objects.status(obj).get("history") or [] if isinstance(h, dict)]
            entry = objects.history_entry(
                "handed_back",
                number=self._sequence(),
                at=self.clock(),
                actor=str(by.get("approver")),
                detail={"reason": "denied while its confirm claimed it: nothing ran"},
            )
            change = objects.status_patch("denied", fields) | {"history": [*history, entry]}
            if self.swap(COMMANDS, obj, {"status": change}, status=True):
                return True
        logger.warning("command %s was denied while claimed and could not be marked denied: it does not run", token)
        return True

    def _decide(self, row: CommandRow, to_state: str, fields: dict[str, Any], detail: dict[str, Any] | None) -> bool:
        """A human's decision, as an Approval object; won when the command then reads as decided that way."""
        channel = str(fields.get("decided_channel") or "")
        if not self.approver or channel not in CLI_CHANNELS:
            raise errors.InvalidArgument(f"not decided: {NOT_AN_APPROVER}")
        decision = objects.APPROVED if to_state == "approved" else objects.DENIED
        # Bound to the fingerprint the engine read and the human saw, not to this later read of the object.
        bound = fields.get("approved_fingerprint") or row.fingerprint
        body = objects.approval_object(
            row.model_copy(update={"fingerprint": bound}),
            decision,
            approver=str(fields.get("decided_by") or ""),
            channel=channel,
            at=float(fields.get("decided_at") or self.clock()),
            principal=fields.get("decided_principal"),
            reason=(detail or {}).get("reason"),
        )
        if self._create(APPROVALS, body) is None:
            return False  # another human decided this way first: the caller reports their decision
        after = self.command(row.token)
        return after is not None and after.state == to_state

    # --- the timeline ---------------------------------------------------------------------------------------------

    def record_event(
        self,
        kind: str,
        *,
        incident: str | None,
        token: str | None = None,
        actor: str | None = None,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> None:
        body = {
            "type": "event",
            "incident": objects.masked(incident),
            "at": at or self.clock(),
            "token": token,
            "kind": objects.masked(kind),
            "actor": objects.masked(actor),
            "channel": objects.masked(channel),
            "detail": objects.masked(detail),
        }
        command = None if token is None else objects.command_name(token)
        self._entry("ev", body, type="event", incident=incident, command=command)

    def events(self, *, incident: str | None = None, token: str | None = None) -> list[Event]:
        command = None if token is None else objects.command_name(token)
        rows = [
            objects.event_row(o) for o in self.list_objects(ENTRIES, type="event", incident=incident, command=command)
        ]
        rows += [e for summary in self._summaries(incident) for e in summary.events]
        if token is None:
            commands = {objects.name_of(o): o for o in self.list_objects(COMMANDS, incident=incident)}
        else:
            name = objects.command_name(token)
            found = self.get_object(COMMANDS, name)
            commands = {} if found is None or objects.spec(found).get("token") != token else {name: found}
        rows += [e for obj in commands.values() for e in objects.history_events(obj)]
        if token is None:
            if incident is None:
                incidents = self.list_objects(INCIDENTS)
            else:
                one = self._incident_object(incident)
                incidents = [] if one is None else [one]
            rows += [e for obj in incidents for e in objects.history_events(obj)]
        for name, decided in self.decisions(token).items():
            if name in commands:
                rows += [objects.approval_event(d, commands[name]) for d in decided.values()]
        chosen = [
            r for r in rows if (incident is None or r.incident == incident) and (token is None or r.token == token)
        ]
        return sorted(chosen, key=lambda r: r.id)


def _epoch(value: Any) -> float:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()
