"""RoleBinding, ClusterRoleBinding and ServiceAccount columns (upstream printers.go; Roles and ClusterRoles use the
default Name and Created At).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from datetime import datetime

from ._common import AGE_COLUMN, NAME_COLUMN, Cell, Column, Obj, Printer, age, get_dicts, get_list, get_str, name_of

BINDING_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Role",
        "string",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the "
        "RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.",
    ),
    AGE_COLUMN,
    Column("Users", "string", "Users in the roleBinding", priority=1),
    Column("Groups", "string", "Groups in the roleBinding", priority=1),
    Column("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", priority=1),
)

SERVICEACCOUNT_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Secrets",
        "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are "
        "allowed to use.",
    ),
    AGE_COLUMN,
)


def binding_cells(obj: Obj, now: datetime) -> list[Cell]:
    users, groups, accounts = [], [], []
    for subject in get_dicts(obj, "subjects"):
        name, kind = str(subject.get("name") or ""), subject.get("kind")
        if kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
        elif kind == "ServiceAccount":
            namespace = str(subject.get("namespace") or "")
            accounts.append(f"{namespace}/{name}" if namespace else name)
    role = f"{get_str(obj, 'roleRef', 'kind')}/{get_str(obj, 'roleRef', 'name')}"
    return [name_of(obj), role, age(obj, now), ", ".join(users), ", ".join(groups), ", ".join(accounts)]


def serviceaccount_cells(obj: Obj, now: datetime) -> list[Cell]:
    return [name_of(obj), len(get_list(obj, "secrets")), age(obj, now)]


PRINTERS = {
    "rolebindings.rbac.authorization.k8s.io": Printer(BINDING_COLUMNS, binding_cells),
    "clusterrolebindings.rbac.authorization.k8s.io": Printer(BINDING_COLUMNS, binding_cells),
    "serviceaccounts": Printer(SERVICEACCOUNT_COLUMNS, serviceaccount_cells),
}
