"""What a server may show from the journal it shares with other servers: the rows of its cluster and allow-list.

Every server a user starts shares the default state directory, so the journal holds plans, events and tool calls
of other clusters and other allow-lists. `Scope` is one server's view: a plan is shown when that server could
confirm it (`binding.misplaced`, not strict: a value it cannot read now is not held against the plan); an event
when it is about such a plan, or records a cluster and namespaces this server may see; a tool call likewise. Rows
written before plans were bound record no cluster: they are shown by namespace alone.

Layer: tools.engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from incident_response.tools.engine.binding import Binding, ClusterIdentity, cluster_mismatch, misplaced
from incident_response.tools.engine.journal import CommandRow, Event, ToolCall
from incident_response.tools.engine.plan import PendingCommand


@dataclass
class Scope:
    here: Binding
    _seen: dict[str, bool] = field(default_factory=dict, repr=False)

    def plan(self, cmd: PendingCommand) -> bool:
        return (
            misplaced(cmd.binding, cmd.namespaces(), cmd.accepted_outside_allow_list, self.here, strict=False) is None
        )

    def command(self, row: CommandRow) -> bool:
        if row.token not in self._seen:
            self._seen[row.token] = self.plan(PendingCommand.model_validate(row.plan))
        return self._seen[row.token]

    def commands(self, rows: Iterable[CommandRow]) -> list[CommandRow]:
        return [row for row in rows if self.command(row)]

    def recorded(self, cluster: Any, namespaces: Iterable[Any]) -> bool:
        """A record that names the cluster it was made on (a ClusterIdentity as JSON, or None) and namespaces."""
        if isinstance(cluster, dict):
            try:
                identity = ClusterIdentity.model_validate(cluster)
            except ValueError:
                return False
            if cluster_mismatch(identity, self.here.cluster, strict=False) is not None:
                return False
        return all(self.here.allows(str(n)) for n in namespaces if n)

    def event(self, event: Event, commands: dict[str, CommandRow]) -> bool:
        """An event about a plan follows the plan (an unknown token: not shown); others by what they record."""
        if event.token is not None:
            row = commands.get(event.token)
            return row is not None and self.command(row)
        detail = event.detail or {}
        binding = detail.get("binding")
        cluster = binding.get("cluster") if isinstance(binding, dict) else detail.get("cluster")
        namespaces = list(detail.get("namespaces") or []) + [detail.get("namespace")]
        return self.recorded(cluster, namespaces)

    def call(self, call: ToolCall) -> bool:
        return self.recorded(call.cluster, [call.arguments.get("namespace")])
