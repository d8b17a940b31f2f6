"""Authorization for the simulated cluster: everything is allowed unless a denial says otherwise.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from incident_response.sim.resources import RESOURCES

USER = "sim-admin"


@dataclass(frozen=True)
class Denial:
    verb: str  # "*" for every verb
    resource: str  # plural, "deployments/scale" for a subresource, "*" for all
    group: str = "*"
    namespace: str | None = None  # None: every namespace and the cluster scope


class Authorizer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._denials: list[Denial] = []

    def deny(self, verb: str, resource: str, group: str = "*", namespace: str | None = None) -> None:
        with self._lock:
            self._denials.append(Denial(verb, resource, group, namespace))

    def clear(self) -> None:
        with self._lock:
            self._denials.clear()

    def allowed(
        self, verb: str, resource: str, group: str, namespace: str | None, subresource: str | None = None
    ) -> bool:
        full = f"{resource}/{subresource}" if subresource else resource
        with self._lock:
            for d in self._denials:
                if (
                    d.verb in ("*", verb)
                    and d.resource in ("*", full)
                    and d.group in ("*", group)
                    and (d.namespace is None or d.namespace == namespace)
                ):
                    return False
        return True

    def access_review(self, spec: dict[str, Any]) -> dict[str, Any]:
        attrs = spec.get("resourceAttributes") or {}
        allowed = self.allowed(
            str(attrs.get("verb", "")),
            str(attrs.get("resource", "")),
            str(attrs.get("group", "")),
            attrs.get("namespace") or None,
            attrs.get("subresource") or None,
        )
        status: dict[str, Any] = {"allowed": allowed}
        if not allowed:
            status["denied"] = True
            status["reason"] = "denied by the simulated cluster's authorization rules"
        return status

    def rules_review(self, namespace: str) -> dict[str, Any]:
        """Allowed verbs per resource in a namespace; a wildcard rule when nothing is denied."""
        with self._lock:
            nothing_denied = not self._denials
        if nothing_denied:
            rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
        else:
            rules = []
            for res in RESOURCES:
                if res.virtual:
                    continue
                names = [res.plural] + [f"{res.plural}/{sub}" for sub in res.subresources]
                for name in names:
                    plural, _, sub = name.partition("/")
                    verbs = [v for v in res.verbs if self.allowed(v, plural, res.group, namespace, sub or None)]
                    if sub == "eviction":
                        verbs = ["create"] if self.allowed("create", plural, res.group, namespace, sub) else []
                    if verbs:
                        rules.append({"verbs": verbs, "apiGroups": [res.group], "resources": [name]})
        return {
            "resourceRules": rules,
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
