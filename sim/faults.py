"""Fault injection for reliability tests: latency, error statuses or dropped connections on chosen requests.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["latency", "status", "drop_before", "drop_after"]


@dataclass
class Fault:
    """One rule. Empty match fields match anything.

    `drop_before` closes the connection without touching the cluster; `drop_after` applies the request and then
    closes the connection, so the client cannot know whether it happened (the case an `unknown` outcome covers).
    """

    action: Action
    verb: str | None = None  # get, list, watch, create, update, patch, delete, deletecollection
    resource: str | None = None  # plural, e.g. "deployments" (any group unless `group` is set)
    group: str | None = None  # API group: "" for core, "apps", "metrics.k8s.io" (PodMetrics are "pods" too)
    subresource: str | None = None
    namespace: str | None = None
    name: str | None = None
    status: int = 500
    message: str = "injected fault"
    seconds: float = 0.0
    times: int | None = None  # None: until cleared
    id: int = field(default=0)

    def matches(
        self,
        verb: str,
        resource: str,
        subresource: str | None,
        namespace: str | None,
        name: str | None,
        group: str = "",
    ) -> bool:
        return (
            (self.verb is None or self.verb == verb)
            and (self.resource is None or self.resource == resource)
            and (self.group is None or self.group == group)
            and (self.subresource is None or self.subresource == (subresource or ""))
            and (self.namespace is None or self.namespace == namespace)
            and (self.name is None or self.name == name)
        )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._next_id = 1

    def add(self, action: Action, **match: Any) -> Fault:
        fault = Fault(action=action, **match)
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(rule) for rule in self._rules]

    def take(
        self,
        verb: str,
        resource: str,
        subresource: str | None,
        namespace: str | None,
        name: str | None,
        group: str = "",
    ) -> list[Fault]:
        """The faults that apply to this request, consuming one use of each counted rule."""
        hits: list[Fault] = []
        with self._lock:
            for rule in list(self._rules):
                if rule.matches(verb, resource, subresource, namespace, name, group):
                    hits.append(rule)
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
        return hits
