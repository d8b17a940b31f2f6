"""RBAC as kube-apiserver's RBAC authorizer evaluates it, over the Roles and bindings in the store.

A request is allowed when some binding that names the user (User), one of its groups (Group) or its
ServiceAccount points at a role with a rule that covers it. RBAC only grants; it never denies. A ClusterRole with
an aggregationRule also holds the rules of the ClusterRoles its selectors pick (as the aggregation controller
fills them in).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from incident_response.sim.identity import UserInfo
from incident_response.sim.resources import CLUSTERROLEBINDINGS, CLUSTERROLES, ROLEBINDINGS, ROLES
from incident_response.sim.selectors import SelectorError, selector_from_spec
from incident_response.sim.store import Obj, Store

RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do: a resource request (resource set) or a non-resource one (path set)."""

    verb: str
    resource: str = ""
    group: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def resource_request(self) -> bool:
        return not self.path

    @property
    def full_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def rule_matches(rule: Obj, attrs: Attributes) -> bool:
    verbs = _strings(rule.get("verbs"))
    if "*" not in verbs and attrs.verb not in verbs:
        return False
    if not attrs.resource_request:
        for url in _strings(rule.get("nonResourceURLs")):
            if url == "*" or url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1])):
                return True
        return False
    groups = _strings(rule.get("apiGroups"))
    if "*" not in groups and attrs.group not in groups:
        return False
    resources = _strings(rule.get("resources"))
    wanted = attrs.full_resource
    if not any(r == "*" or r == wanted or (attrs.subresource and r == f"*/{attrs.subresource}") for r in resources):
        return False
    names = _strings(rule.get("resourceNames"))
    return not names or attrs.name in names


def _subject_matches(subject: Any, user: UserInfo, binding_namespace: str) -> bool:
    if not isinstance(subject, dict):
        return False
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(name == user.name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"system:serviceaccount:{namespace}:{name}"
    return False


def _subject_text(subject: Obj, binding_namespace: str) -> str:
    """How the authorizer's reason names a subject: User "u", Group "g", ServiceAccount "sa/ns"."""
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject.get("name")}/{subject.get("namespace") or binding_namespace}"'
    return f'{subject.get("kind")} "{subject.get("name")}"'


@dataclass(frozen=True)
class Grant:
    """A rule that applies to a user, and the binding it came through (for the reason of an allow)."""

    rule: Obj
    binding_kind: str
    binding_name: str
    binding_namespace: str
    role_kind: str
    role_name: str
    subject: str

    @property
    def reason(self) -> str:
        where = f' in namespace "{self.binding_namespace}"' if self.binding_namespace else ""
        return (
            f'RBAC: allowed by {self.binding_kind} "{self.binding_name}"{where} of {self.role_kind} '
            f'"{self.role_name}" to {self.subject}'
        )


class Policy:
    """The RBAC objects of one store, asked per request."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def cluster_role_rules(self, name: str, seen: set[str] | None = None) -> list[Obj]:
        """The rules of a ClusterRole, with those its aggregationRule picks (none when it does not exist)."""
        with self.store.lock:
            return self._cluster_role_rules(name, seen)

    def _cluster_role_rules(self, name: str, seen: set[str] | None = None) -> list[Obj]:
        role = self.store.peek(CLUSTERROLES, None, name)
        if role is None:
            return []
        rules = [r for r in role.get("rules") or [] if isinstance(r, dict)]
        selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        if selectors:
            seen = (seen or set()) | {name}
            for other in self.store.values(CLUSTERROLES):
                other_name = other["metadata"]["name"]
                if other_name in seen:
                    continue
                labels = other["metadata"].get("labels") or {}
                if any(self._selects(s, labels) for s in selectors):
                    seen.add(other_name)
                    rules.extend(self._cluster_role_rules(other_name, seen))
        return rules

    @staticmethod
    def _selects(spec: Any, labels: dict[str, str]) -> bool:
        if not isinstance(spec, dict):
            return False
        try:
            return selector_from_spec(spec, matches_nothing_if_empty=True).matches(labels)
        except SelectorError:
            return False

    def _role_rules(self, ref: Any, namespace: str) -> tuple[str, str, list[Obj]]:
        if not isinstance(ref, dict):
            return "", "", []
        kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
        if kind == "ClusterRole":
            return kind, name, self._cluster_role_rules(name)
        if kind == "Role" and namespace:
            role = self.store.peek(ROLES, namespace, name)
            return kind, name, [r for r in (role or {}).get("rules") or [] if isinstance(r, dict)]
        return kind, name, []

    def grants(self, user: UserInfo, namespace: str) -> Iterator[Grant]:
        """Every rule that applies to `user` for a request in `namespace` ("" for the cluster scope)."""
        bindings: list[tuple[str, Obj]] = [("ClusterRoleBinding", b) for b in self.store.values(CLUSTERROLEBINDINGS)]
        if namespace:
            bindings += [("RoleBinding", b) for b in self.store.items(ROLEBINDINGS, namespace)]
        for kind, binding in bindings:
            bound_ns = str(binding["metadata"].get("namespace") or "")
            subject = next((s for s in binding.get("subjects") or [] if _subject_matches(s, user, bound_ns)), None)
            if subject is None:
                continue
            role_kind, role_name, rules = self._role_rules(binding.get("roleRef"), bound_ns)
            for rule in rules:
                yield Grant(
                    rule,
                    kind,
                    str(binding["metadata"]["name"]),
                    bound_ns,
                    role_kind,
                    role_name,
                    _subject_text(subject, bound_ns),
                )

    def allows(self, user: UserInfo, attrs: Attributes) -> Grant | None:
        """The grant that allows the request, or None (RBAC has no opinion: the request is denied)."""
        with self.store.lock:
            return next((g for g in self.grants(user, attrs.namespace) if rule_matches(g.rule, attrs)), None)

    def rules(self, user: UserInfo, namespace: str) -> tuple[list[Obj], list[Obj]]:
        """The resource rules and non-resource rules `user` has in `namespace` (SelfSubjectRulesReview)."""
        resource_rules: list[Obj] = []
        non_resource: list[Obj] = []
        with self.store.lock:
            grants = list(self.grants(user, namespace))
        for grant in grants:
            rule = grant.rule
            verbs = _strings(rule.get("verbs"))
            if _strings(rule.get("nonResourceURLs")):
                entry = {"verbs": verbs, "nonResourceURLs": _strings(rule.get("nonResourceURLs"))}
                if entry not in non_resource:
                    non_resource.append(entry)
            if _strings(rule.get("resources")):
                entry = {
                    "verbs": verbs,
                    "apiGroups": _strings(rule.get("apiGroups")),
                    "resources": _strings(rule.get("resources")),
                }
                if _strings(rule.get("resourceNames")):
                    entry["resourceNames"] = _strings(rule.get("resourceNames"))
                if entry not in resource_rules:
                    resource_rules.append(entry)
        return resource_rules, non_resource
