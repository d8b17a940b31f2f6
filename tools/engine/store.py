"""The store interface: what the pending engine and the incident tools need from wherever the journal is kept.

Two implementations pass the same contract tests: `Journal` (SQLite in the state directory, the default: one host,
several processes) and `KubeStore` (objects of our CustomResourceDefinitions on the Kubernetes API: several
replicas, approvals made with the approver's own Kubernetes credentials). Every state change of a pending command is
conditional (`transition` answers whether this call won), so exactly one of several concurrent callers wins it.

Layer: tools.engine.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from incident_response.tools.engine.records import CommandRow, Event, IncidentRow, ToolCall


class Store(Protocol):
    """Incidents, tool calls, pending commands and the timeline. Every method may raise `tools.core.errors`."""

    def approve_flags(self) -> str:
        """The options that point `incident-response-mcp approve` at this store (e.g. `--state-dir /x`)."""
        ...

    def seal_key(self) -> bytes:
        """The key of sealed values' digests (plan.seal_digest), the same for every process sharing the store."""
        ...

    # --- incidents ----------------------------------------------------------------------------------------------

    def open_incident(self, title: str, *, incident_id: str | None = None) -> str: ...

    def current_incident(self, namespace: str | None = None) -> str:
        """The open incident a call in `namespace` belongs to (tools.engine.attribution: one per namespace); opens an
        untitled one when none fits, so nothing is unattributed."""
        ...

    def incident(self, incident_id: str) -> IncidentRow | None: ...

    def incidents(self, *, open_only: bool = False, limit: int = 20) -> list[IncidentRow]:
        """Newest first."""
        ...

    def save_incident(
        self,
        before: IncidentRow | None,
        after: IncidentRow,
        events: Sequence[tuple[str, dict[str, Any]]],
        *,
        at: float | None = None,
    ) -> IncidentRow | None:
        """Write `after` and its events only if the store still holds `before` (None: insert, only while no incident
        of its namespace is open). None when another process changed things first."""
        ...

    # --- tool calls ---------------------------------------------------------------------------------------------

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
    ) -> None: ...

    def tool_calls(self, *, incident: str | None = None, tool: str | None = None) -> list[ToolCall]: ...

    # --- pending commands ---------------------------------------------------------------------------------------

    def add_command(self, plan: dict[str, Any], *, state: str, actor: str | None = None) -> None: ...

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
        """Move a command from one of `from_states` to `to_state` if it is still there (and, with `unexpired_at`, not
        expired by then), recording `event`; True if this call won."""
        ...

    def command(self, token: str) -> CommandRow | None: ...

    def commands(self, *, states: Sequence[str] | None = None, incident: str | None = None) -> list[CommandRow]:
        """Oldest first."""
        ...

    def temporary_measures(self, *, incident: str | None = None) -> list[CommandRow]: ...

    def claimer_lost(self, row: CommandRow) -> bool:
        """True when this store can tell that an `executing` command's claimer is gone where the process checks of
        `claimers.claimer_gone` cannot see it (another pod); False when it cannot tell."""
        ...

    # --- the timeline -------------------------------------------------------------------------------------------

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
    ) -> None: ...

    def events(self, *, incident: str | None = None, token: str | None = None) -> list[Event]:
        """Oldest first."""
        ...


REVERTED_OUTSIDE = "measure_reverted_outside"  # event: restore_measure closed a measure someone else reverted


def temporary_measures(done: Sequence[CommandRow], closed: Collection[str] = ()) -> list[CommandRow]:
    """Of the succeeded and partly applied commands, those that left a temporary measure (a drain that cordoned and
    then stopped leaves the cordon), minus those a later succeeded command restored, and minus a cordon or drain of a
    node that a later uncordon of it on the same cluster ended (a server with another allow-list may not see, so not
    name, the measure it ends), and minus those `closed` (tokens restore_measure found reverted outside)."""
    restored = {c.restores for c in done if c.restores}
    uncordoned = [c for c in done if c.state == "succeeded" and _uncordons(c)]
    return [
        c
        for c in done
        if c.temporary
        and c.token not in restored
        and c.token not in closed
        and not any(_ends(u, c) for u in uncordoned)
    ]


def _uncordons(row: CommandRow) -> bool:
    """An uncordon_node, or a restore_measure that uncordoned a node (its diff takes spec.unschedulable away)."""
    return any(
        isinstance(change, dict) and change.get("path") == "spec.unschedulable" and not change.get("after")
        for change in row.plan.get("diff") or []
    )


def _node_on(row: CommandRow) -> tuple[str, Any, Any] | None:
    """(node, API server, CA) of a plan acting on a node, or None."""
    target = row.plan.get("target") or {}
    if target.get("kind") != "Node":
        return None
    cluster = (row.plan.get("binding") or {}).get("cluster") or {}
    return str(target.get("name")), cluster.get("server"), cluster.get("ca_sha256")


def _ends(uncordon: CommandRow, measure: CommandRow) -> bool:
    where = _node_on(measure)
    return (
        where is not None
        and where[1] is not None
        and _node_on(uncordon) == where
        and (uncordon.finished_at or 0) > (measure.finished_at or 0)
    )
