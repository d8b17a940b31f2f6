"""Authorization for the simulated cluster: test denials, then system:masters, then RBAC (sim/rbac.py).

Test denials (`deny`) refuse a verb on a resource to everyone, the admin included, so tests can make any call
fail with 403. An identity in system:masters (the sim's kubeconfig) is then allowed everything; every other
identity gets exactly what the RBAC objects in the store grant. `recording()` keeps each decision for identities
outside system:masters, so a test can see which calls a ServiceAccount's work needed.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from incident_response.sim.identity import ADMIN, ADMIN_USER, UserInfo
from incident_response.sim.rbac import Attributes, Policy
from incident_response.sim.resources import RESOURCES
from incident_response.sim.store import Store

USER = ADMIN_USER
TEST_DENIAL = "denied by the simulated cluster's authorization rules"


@dataclass(frozen=True)
class Denial:
    verb: str  # "*" for every verb
    resource: str  # plural, "deployments/scale" for a subresource, "*" for all
    group: str = "*"
    namespace: str | None = None  # None: every namespace and the cluster scope


@dataclass(frozen=True)
class Decision:
    user: str
    attrs: Attributes
    allowed: bool
    reason: str = ""
    denied: bool = False  # an explicit denial (a test's), not just no rule that allows
    review: bool = False  # asked by an access review ("may I?"), not a request that needed the permission


class Authorizer:
    def __init__(self, store: Store | None = None) -> None:
        self._lock = threading.Lock()
        self._denials: list[Denial] = []
        self._records: list[list[Decision]] = []
        self.policy: Policy | None = Policy(store) if store is not None else None

    def attach(self, store: Store) -> None:
        """Enforce the RBAC objects of `store` (the API server attaches its cluster's)."""
        if self.policy is None:
            self.policy = Policy(store)

    # ----- test denials -----

    def deny(self, verb: str, resource: str, group: str = "*", namespace: str | None = None) -> None:
        with self._lock:
            self._denials.append(Denial(verb, resource, group, namespace))

    def clear(self) -> None:
        with self._lock:
            self._denials.clear()

    def _denied(self, attrs: Attributes) -> bool:
        if not attrs.resource_request:
            return False
        with self._lock:
            return any(
                d.verb in ("*", attrs.verb)
                and d.resource in ("*", attrs.full_resource)
                and d.group in ("*", attrs.group)
                and (d.namespace is None or d.namespace == (attrs.namespace or None))
                for d in self._denials
            )

    # ----- decisions -----

    def decide(self, user: UserInfo, attrs: Attributes, review: bool = False) -> Decision:
        if self._denied(attrs):
            decision = Decision(user.name, attrs, False, TEST_DENIAL, denied=True, review=review)
        elif user.privileged:
            return Decision(user.name, attrs, True, "allowed: the user is in system:masters", review=review)
        else:
            grant = self.policy.allows(user, attrs) if self.policy is not None else None
            decision = Decision(user.name, attrs, grant is not None, grant.reason if grant else "", review=review)
        if not user.privileged:
            with self._lock:
                for record in self._records:
                    record.append(decision)
        return decision

    def allowed(
        self,
        verb: str,
        resource: str,
        group: str,
        namespace: str | None,
        subresource: str | None = None,
        user: UserInfo = ADMIN,
        name: str | None = None,
    ) -> bool:
        attrs = Attributes(verb, resource, group, subresource or "", namespace or "", name or "")
        return self.decide(user, attrs).allowed

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Decision]]:
        """Every decision about an identity outside system:masters while the block runs, in order."""
        record: list[Decision] = []
        with self._lock:
            self._records.append(record)
        try:
            yield record
        finally:
            with self._lock:
                self._records.remove(record)

    # ----- reviews -----

    def access_review(self, spec: dict[str, Any], user: UserInfo = ADMIN) -> dict[str, Any]:
        """The status of a (Self|Local)SubjectAccessReview for `user`."""
        resource = spec.get("resourceAttributes")
        if isinstance(resource, dict):
            attrs = Attributes(
                str(resource.get("verb") or ""),
                str(resource.get("resource") or ""),
                str(resource.get("group") or ""),
                str(resource.get("subresource") or ""),
                str(resource.get("namespace") or ""),
                str(resource.get("name") or ""),
            )
        else:
            other = spec.get("nonResourceAttributes") or {}
            attrs = Attributes(str(other.get("verb") or ""), path=str(other.get("path") or "") or "/")
        decision = self.decide(user, attrs, review=True)
        status: dict[str, Any] = {"allowed": decision.allowed}
        if decision.denied:
            status["denied"] = True
        if decision.reason:
            status["reason"] = decision.reason
        return status

    def rules_review(self, namespace: str, user: UserInfo = ADMIN) -> dict[str, Any]:
        """What `user` may do in `namespace` (SelfSubjectRulesReview)."""
        if not user.privileged:
            assert self.policy is not None
            resource_rules, non_resource = self.policy.rules(user, namespace)
            return {"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": False}
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
                for full in names:
                    plural, _, sub = full.partition("/")
                    verbs = [v for v in res.verbs if self.allowed(v, plural, res.group, namespace, sub or None, user)]
                    if sub == "eviction":
                        verbs = ["create"] if self.allowed("create", plural, res.group, namespace, sub, user) else []
                    if verbs:
                        rules.append({"verbs": verbs, "apiGroups": [res.group], "resources": [full]})
        return {
            "resourceRules": rules,
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
