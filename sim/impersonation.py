"""Impersonation (`kubectl --as USER --as-group GROUP`): act as another identity when RBAC lets the caller.

The caller needs `impersonate` on users (by name), groups, or serviceaccounts (in their namespace); the
impersonated identity then goes through authorization as if it had sent the request.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from aiohttp import web

from incident_response.sim import errors
from incident_response.sim.authz import Authorizer
from incident_response.sim.identity import ANONYMOUS, AUTHENTICATED, UserInfo, service_account_user
from incident_response.sim.rbac import Attributes

SA_PREFIX = "system:serviceaccount:"


def _check(authz: Authorizer, caller: UserInfo, attrs: Attributes) -> None:
    if not authz.decide(caller, attrs).allowed:
        raise errors.forbidden(caller.name, "impersonate", attrs.resource, "", attrs.namespace or None, attrs.name)


def impersonated(request: web.Request, caller: UserInfo, authz: Authorizer) -> UserInfo:
    """The identity the request acts as: the caller, or whom its Impersonate-* headers name (403 if not allowed)."""
    name = request.headers.get("Impersonate-User")
    groups = tuple(request.headers.getall("Impersonate-Group", []))
    if name is None:
        if groups:
            raise errors.bad_request("requested impersonation of groups without impersonating a user")
        return caller
    if name.startswith(SA_PREFIX) and name.count(":") == 3:
        namespace, account = name[len(SA_PREFIX) :].split(":")
        _check(authz, caller, Attributes("impersonate", "serviceaccounts", namespace=namespace, name=account))
        base = service_account_user(namespace, account, "")
        extra_groups = base.groups
    else:
        _check(authz, caller, Attributes("impersonate", "users", name=name))
        extra_groups = () if name == ANONYMOUS else (AUTHENTICATED,)
    for group in groups:
        _check(authz, caller, Attributes("impersonate", "groups", name=group))
    return UserInfo(name, tuple(dict.fromkeys((*groups, *extra_groups))))
