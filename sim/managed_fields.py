"""Field ownership (metadata.managedFields) and server-side apply, at the granularity of leaf fields.

Every write through the API records which fields its manager set (FieldsV1: `f:<field>`, list items of merge-keyed
lists as `k:{"<key>":...}`, set items as `v:<value>`, scalars and atomic lists as leaves). An Update owns the
fields whose value it changed, taking them from other managers; an Apply owns exactly the fields of its
configuration, shares those whose value it leaves as is, and conflicts (409, naming the managers as upstream does)
where it would change a field another manager owns, unless forced. A field an applier stops applying is removed
when no other manager owns it.

Managers are told apart as upstream does: by name, operation, subresource and (for updates) apiVersion, so
`kubectl scale` ("kubectl", Update, scale) and `kubectl apply --server-side` ("kubectl", Apply) are two managers.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from incident_response.sim import errors
from incident_response.sim.patching import SET_MERGE, list_merge_key
from incident_response.sim.resources import ResourceType

Obj = dict[str, Any]
Element = tuple[str, str]  # ("f", field) | ("k", '{"name":"web"}') | ("v", '"value"')
Path = tuple[Element, ...]

_OWNED_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")
KUBECTL = "kubectl"  # the field manager of `kubectl apply --server-side`
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_MISSING = object()


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _paths(value: Any, prefix: Path, names: tuple[str, ...], out: set[Path]) -> None:
    if isinstance(value, dict):
        if not value:
            out.add(prefix)
        for key, sub in value.items():
            _paths(sub, (*prefix, ("f", key)), (*names, key), out)
        return
    if isinstance(value, list) and names:
        merge_key = list_merge_key(names)
        if merge_key == SET_MERGE:
            out.update((*prefix, ("v", _key(item))) for item in value)
            return
        if merge_key is not None and all(isinstance(i, dict) and merge_key in i for i in value):
            for item in value:
                item_path = (*prefix, ("k", _key({merge_key: item[merge_key]})))
                out.add(item_path)
                for key, sub in item.items():
                    _paths(sub, (*item_path, ("f", key)), (*names, key), out)
            return
    out.add(prefix)


def field_paths(obj: Obj, res: ResourceType, subresource: str | None = None) -> set[Path]:
    """The fields of an object a manager can own: status through /status only, metadata's labels and the like."""
    out: set[Path] = set()
    status_apart = "status" in res.subresources
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if subresource == "status" or (status_apart and key == "status"):
            if subresource == "status" and key == "status":
                _paths(value, (("f", key),), (key,), out)
            continue
        if key == "metadata":
            for field in _OWNED_METADATA:
                if isinstance(value, dict) and field in value:
                    _paths(value[field], (("f", "metadata"), ("f", field)), ("metadata", field), out)
            continue
        _paths(value, (("f", key),), (key,), out)
    return out


def value_at(obj: Any, path: Path) -> Any:
    current = obj
    for kind, name in path:
        if kind == "f":
            if not isinstance(current, dict) or name not in current:
                return _MISSING
            current = current[name]
        else:
            wanted = json.loads(name)
            if not isinstance(current, list):
                return _MISSING
            if kind == "k":
                current = next(
                    (i for i in current if isinstance(i, dict) and all(i.get(k) == v for k, v in wanted.items())),
                    _MISSING,
                )
            else:
                current = wanted if wanted in current else _MISSING
            if current is _MISSING:
                return _MISSING
    return current


def _remove(obj: Obj, path: Path) -> None:
    """Remove the field or list item at `path`, then parents left empty (the object's top level aside)."""
    parents: list[tuple[Any, Element]] = []
    current: Any = obj
    for element in path:
        parents.append((current, element))
        current = value_at(current, (element,))
        if current is _MISSING:
            return
    while parents:
        container, (kind, name) = parents.pop()
        if kind == "f":
            container.pop(name, None)
        else:
            target = value_at(container, ((kind, name),))
            container[:] = [i for i in container if i is not target and not (kind == "v" and i == target)]
        if container or len(parents) <= 1:
            return


def to_fields_v1(paths: Iterable[Path]) -> Obj:
    root: Obj = {}
    for path in sorted(paths):
        node = root
        for kind, name in path:
            node = node.setdefault(f"{kind}:{name}", {})
        if path and path[-1][0] == "k":
            node.setdefault(".", {})
    return root


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    if not isinstance(tree, dict):
        return out
    if not tree or "." in tree:
        if prefix:
            out.add(prefix)
    for key, sub in tree.items():
        if key == ".":
            continue
        kind, _, name = key.partition(":")
        out |= from_fields_v1(sub, (*prefix, (kind, name)))
    return out


def path_text(path: Path) -> str:
    """A path as upstream prints it: .spec.template.spec.containers[name="web"].image."""
    out = ""
    for kind, name in path:
        if kind == "f":
            out += f".{name}"
        elif kind == "k":
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(name).items()) + "]"
        else:
            out += f"[={name}]"
    return out


def _identity(entry: Obj) -> tuple[str, str, str, str]:
    operation = str(entry.get("operation", ""))
    version = str(entry.get("apiVersion", "")) if operation == "Update" else ""
    return str(entry.get("manager", "")), operation, str(entry.get("subresource", "")), version


def _owned(entries: list[Obj]) -> list[tuple[Obj, set[Path]]]:
    # copies: the entries may be the stored object's, which a dry run or a refused apply must leave as they are
    return [(dict(entry), from_fields_v1(entry.get("fieldsV1"))) for entry in entries if isinstance(entry, dict)]


def _entries(owned: list[tuple[Obj, set[Path]]], present: set[Path]) -> list[Obj]:
    out = []
    for entry, paths in owned:
        kept = {p for p in paths if p in present or any(p == q[: len(p)] for q in present)}
        if kept:
            out.append({**entry, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(kept)})
    return out


def record_update(
    old: Obj | None,
    new: Obj,
    manager: str,
    res: ResourceType,
    now: str,
    subresource: str | None = None,
) -> None:
    """Set new's managedFields after an Update by `manager`: it owns what it changed, taken from the others."""
    before = field_paths(old, res, subresource) if old is not None else set()
    after = field_paths(new, res, subresource)
    changed = {p for p in after if p not in before or value_at(old, p) != value_at(new, p)}
    # the request's managedFields when it sets them (kubectl's client-side-apply upgrade patches them), else the
    # stored ones
    given = new.get("metadata", {}).get("managedFields")
    current = given if isinstance(given, list) else (old or {}).get("metadata", {}).get("managedFields") or []
    owned = _owned(current)
    me = {"manager": manager, "operation": "Update", "apiVersion": res.api_version}
    if subresource:
        me["subresource"] = subresource
    mine = next((pair for pair in owned if _identity(pair[0]) == _identity(me)), None)
    for _, paths in owned:
        paths -= changed
    if mine is None:
        if changed:
            owned.append(({**me, "time": now}, set(changed)))
    else:
        mine[1].update(changed)
        if changed:
            mine[0]["time"] = now
    present = field_paths(new, res) | field_paths(new, res, "status")
    new.setdefault("metadata", {})["managedFields"] = _entries(owned, present)


def _merge(live: Any, config: Any, names: tuple[str, ...]) -> Any:
    if isinstance(live, dict) and isinstance(config, dict):
        out = dict(live)
        for key, value in config.items():
            out[key] = _merge(live.get(key, _MISSING), value, (*names, key))
        return out
    if isinstance(live, list) and isinstance(config, list) and names:
        merge_key = list_merge_key(names)
        if merge_key == SET_MERGE:
            return [*live, *(i for i in config if i not in live)]
        if merge_key is not None and all(isinstance(i, dict) and merge_key in i for i in [*live, *config]):
            out_list = list(live)
            for item in config:
                index = next((n for n, i in enumerate(out_list) if i[merge_key] == item[merge_key]), None)
                if index is None:
                    out_list.append(item)
                else:
                    out_list[index] = _merge(out_list[index], item, names)
            return out_list
    return copy.deepcopy(config)


def _manager_text(entry: Obj) -> str:
    text = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        text += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == "Update":
        text += f" using {entry.get('apiVersion')}"
    return text


def conflict_error(conflicts: list[tuple[Obj, Path]]) -> errors.ApiError:
    """409 Conflict as upstream words it (fieldmanager's NewConflictError)."""
    causes = [
        {"reason": "FieldManagerConflict", "message": f"conflict with {_manager_text(e)}", "field": path_text(p)}
        for e, p in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {_manager_text(entry)}: {path_text(path)}"
    else:
        by_manager: dict[str, list[str]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(_manager_text(entry), []).append(path_text(path))
        lines = []
        for manager in sorted(by_manager):
            lines.append(f"conflicts with {manager}:")
            lines += [f"- {p}" for p in by_manager[manager]]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return errors.ApiError(409, "Conflict", message, causes=causes)


def _client_side_apply_upgrade(live: Obj, manager: str, conflicts: list[tuple[Obj, Path]], res: ResourceType) -> bool:
    """Upstream's lastAppliedManager: kubectl's server-side apply takes over, without conflicts, the fields its
    client-side apply set (those of the last-applied-configuration annotation)."""
    text = (live.get("metadata", {}).get("annotations") or {}).get(LAST_APPLIED)
    if manager != KUBECTL or not text:
        return False
    try:
        last = json.loads(text)
    except ValueError:
        return False
    allowed = field_paths(last, res) if isinstance(last, dict) else set()
    return all(path in allowed for _, path in conflicts)


def apply(live: Obj | None, config: Obj, manager: str, force: bool, res: ResourceType, now: datetime) -> Obj:
    """The object after `manager` applies `config` (409 on conflicts unless `force`), its managedFields set."""
    when = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    applied = field_paths(config, res)
    me = {"manager": manager, "operation": "Apply", "apiVersion": res.api_version}
    if live is None:
        created: Obj = copy.deepcopy(config)
        created.setdefault("metadata", {})["managedFields"] = [
            {**me, "time": when, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(applied)}
        ]
        return created
    live = copy.deepcopy(live)  # the stored object: merged into and pruned below, it must stay as it is
    owned = _owned(live.get("metadata", {}).get("managedFields") or [])
    mine = next((pair for pair in owned if _identity(pair[0]) == _identity(me)), None)
    conflicts: list[tuple[Obj, Path]] = []
    for path in sorted(applied):
        if path[-1][0] != "f":
            continue  # a list item's presence; its fields are compared one by one
        now_value = value_at(live, path)
        if now_value is _MISSING or now_value == value_at(config, path):
            continue
        conflicts += [(entry, path) for entry, paths in owned if entry is not (mine or ({},))[0] and path in paths]
    if conflicts and not force and not _client_side_apply_upgrade(live, manager, conflicts, res):
        raise conflict_error(conflicts)
    if manager == KUBECTL and LAST_APPLIED in (live.get("metadata", {}).get("annotations") or {}):
        # upstream's lastAppliedUpdater: kubectl's server-side apply keeps the client-side annotation current
        annotations = config.setdefault("metadata", {}).setdefault("annotations", {})
        shown = {k: v for k, v in config.items() if k != "metadata"}
        shown["metadata"] = {k: v for k, v in config["metadata"].items() if k != "annotations"}
        annotations[LAST_APPLIED] = json.dumps(shown, separators=(",", ":"), sort_keys=True) + "\n"
        applied = field_paths(config, res)
    applied_config = {k: v for k, v in config.items() if not ("status" in res.subresources and k == "status")}
    new: Obj = _merge(live, applied_config, ())
    others = [paths for entry, paths in owned if mine is None or entry is not mine[0]]
    for path in (mine[1] if mine else set()) - applied:
        if not any(path in paths for paths in others):
            _remove(new, path)
    for entry, path in conflicts:
        next(paths for e, paths in owned if e is entry).discard(path)
    if mine is None:
        owned.append(({**me, "time": when}, applied))
    else:
        mine[0]["time"] = when
        owned[owned.index(mine)] = (mine[0], applied)
    present = field_paths(new, res) | field_paths(new, res, "status")
    new.setdefault("metadata", {})["managedFields"] = _entries(owned, present)
    return new
