"""RBAC's escalation prevention: nobody grants through a Role or binding what they do not hold themselves.

As upstream (k8s.io/kubernetes/pkg/registry/rbac): creating or updating a Role or ClusterRole needs the `escalate`
verb on it, or holding every permission its rules grant; a RoleBinding or ClusterRoleBinding needs `bind` on the
role it references, or holding every permission of that role where the binding applies. A ClusterRole with an
aggregationRule needs `escalate` (what it will hold is not known when it is written). system:masters is exempt.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from incident_response.sim import errors
from incident_response.sim.authz import Authorizer
from incident_response.sim.identity import UserInfo
from incident_response.sim.rbac import RBAC_GROUP, Attributes, Policy, rule_matches
from incident_response.sim.resources import (
    CLUSTERROLEBINDINGS,
    CLUSTERROLES,
    ROLEBINDINGS,
    ROLES,
    ResourceType,
)
from incident_response.sim.store import Obj

RBAC_KINDS = (ROLES, CLUSTERROLES, ROLEBINDINGS, CLUSTERROLEBINDINGS)


def _list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _atoms(rule: Obj) -> Iterator[tuple[Attributes, str]]:
    """Each single permission of a rule (one verb on one resource, name or URL) and how upstream prints it."""
    verbs = _list(rule.get("verbs"))
    for url in _list(rule.get("nonResourceURLs")):
        for verb in verbs:
            yield Attributes(verb, path=url), f'{{NonResourceURLs:["{url}"], Verbs:["{verb}"]}}'
    names = _list(rule.get("resourceNames")) or [""]
    for group in _list(rule.get("apiGroups")):
        for full in _list(rule.get("resources")):
            resource, _, sub = full.partition("/")
            for name in names:
                for verb in verbs:
                    named = f", ResourceNames:[{json.dumps(name)}]" if name else ""
                    text = f'{{APIGroups:["{group}"], Resources:["{full}"]{named}, Verbs:["{verb}"]}}'
                    yield Attributes(verb, resource, group, sub, name=name), text


def _not_held(policy: Policy, user: UserInfo, rules: list[Obj], namespace: str) -> list[str]:
    with policy.store.lock:
        held = [g.rule for g in policy.grants(user, namespace)]
    missing: list[str] = []
    for rule in rules:
        for atom, text in _atoms(rule):
            if not any(rule_matches(own, atom) for own in held) and text not in missing:
                missing.append(text)
    return missing


def _refuse(res: ResourceType, name: str, user: UserInfo, missing: list[str]) -> errors.ApiError:
    groups = json.dumps(list(user.groups)).replace(", ", " ").replace(",", " ")
    return errors.ApiError(
        403,
        "Forbidden",
        f'{errors.qualified(res.plural, res.group)} "{name}" is forbidden: user "{user.name}" (groups={groups}) is '
        "attempting to grant RBAC permissions not currently held:\n" + "\n".join(missing),
        kind=res.plural,
        name=name,
        group=res.group,
    )


def check(authz: Authorizer, policy: Policy, user: UserInfo, res: ResourceType, obj: Obj) -> None:
    """Raise 403 when writing `obj` (a Role, ClusterRole or binding) would grant what `user` does not hold."""
    if user.privileged or res not in RBAC_KINDS:
        return
    meta = obj.get("metadata") or {}
    name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
    if res in (ROLES, CLUSTERROLES):
        if authz.decide(user, Attributes("escalate", res.plural, RBAC_GROUP, namespace=namespace, name=name)).allowed:
            return
        if res is CLUSTERROLES and obj.get("aggregationRule"):
            raise _refuse(res, name, user, ["(an aggregationRule needs the escalate verb)"])
        rules = [r for r in obj.get("rules") or [] if isinstance(r, dict)]
        missing = _not_held(policy, user, rules, namespace)
        if missing:
            raise _refuse(res, name, user, missing)
        return
    ref = obj.get("roleRef") or {}
    role_kind, role_name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    role_res = CLUSTERROLES if role_kind == "ClusterRole" else ROLES
    bind = Attributes("bind", role_res.plural, RBAC_GROUP, namespace=namespace, name=role_name)
    if authz.decide(user, bind).allowed:
        return
    role = policy.store.peek(role_res, None if role_res is CLUSTERROLES else namespace, role_name)
    if role is None:  # what a missing role will grant cannot be checked: only `bind` may point at it
        raise errors.not_found(role_res.plural, RBAC_GROUP, role_name)
    if role_res is CLUSTERROLES:
        rules = policy.cluster_role_rules(role_name)
    else:
        rules = [r for r in role.get("rules") or [] if isinstance(r, dict)]
    missing = _not_held(policy, user, rules, namespace)
    if missing:
        raise _refuse(res, name, user, missing)
