"""PATCH bodies applied the way kube-apiserver applies them: JSON patch, JSON merge patch and strategic merge patch.

``apply_patch`` never mutates its input. Errors carry the HTTP status the real API server answers with
(k8s.io/apiserver/pkg/endpoints/handlers/patch.go):

* 400 BadRequest: the body is not JSON, is not the right JSON shape (a JSON patch that is not a list, a merge patch
  that is not an object), or a strategic-merge directive is malformed.
* 422 Invalid: the patch is well-formed but does not apply. For a JSON patch (a failing ``test`` op, a path that
  does not exist) upstream answers ``NewGenericServerResponse(422, ...)``, whose Status message is the fixed
  "the server rejected our request due to an error in our request" and names no field; ``PatchError.api_error``
  reproduces that body, while ``str(error)`` keeps the detail for logs.
* 415 UnsupportedMediaType: any other content type. Server-side apply (``application/apply-patch+yaml``) is not a
  patch applied here: the API server merges it with field ownership (sim/managed_fields.py).

The strategic merge patch follows k8s.io/apimachinery/pkg/util/strategicpatch with the patch metadata of the
built-in kinds this simulator serves condensed into ``LIST_MERGE_KEYS``.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import jsonpatch
import jsonpointer

from .errors import ApiError

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"  # server-side apply: sim/managed_fields.py, not a patch applied here
PATCH_CONTENT_TYPES: tuple[str, ...] = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

GENERIC_INVALID_MESSAGE = "the server rejected our request due to an error in our request"


class PatchError(ValueError):
    """A patch that cannot be applied. ``code`` is the HTTP status: 400 (malformed) or 422 (does not apply)."""

    def __init__(self, message: str, *, code: int = 422, status_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_message = status_message or message

    @property
    def reason(self) -> str:
        return {400: "BadRequest", 415: "UnsupportedMediaType"}.get(self.code, "Invalid")

    def api_error(self) -> ApiError:
        return ApiError(self.code, self.reason, self.status_message)


class UnsupportedPatchType(PatchError):
    """The PATCH Content-Type is not one we apply (415)."""

    def __init__(self, content_type: str) -> None:
        accepted = ", ".join((*PATCH_CONTENT_TYPES, APPLY_PATCH))
        super().__init__(
            f"the body of the request was in an unknown format - accepted media types include: {accepted}",
            code=415,
        )
        self.content_type = content_type


def _bad_request(message: str) -> PatchError:
    return PatchError(message, code=400)


def media_type(content_type: str) -> str:
    """The bare media type: parameters such as ``; charset=utf-8`` dropped, lower-cased."""
    return content_type.split(";", 1)[0].strip().lower()


def apply_patch(original: Mapping[str, Any], body: bytes | str, content_type: str) -> dict[str, Any]:
    """Apply a PATCH body of the given Content-Type to ``original`` and return the new object."""
    kind = media_type(content_type)
    if kind not in PATCH_CONTENT_TYPES:
        raise UnsupportedPatchType(content_type)
    patch = _decode(body)
    if kind == JSON_PATCH:
        return json_patch(original, patch)
    if not isinstance(patch, dict):
        raise _bad_request(f"the patch must be a JSON object, got {type(patch).__name__}")
    if kind == MERGE_PATCH:
        return merge_patch(original, patch)
    return strategic_merge_patch(original, patch)


def _decode(body: bytes | str) -> Any:
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad_request(f"error decoding patch: {exc}") from None


# ---------------------------------------------------------------------------------------------------------------
# RFC 6902 JSON patch and RFC 7386 merge patch


def json_patch(original: Mapping[str, Any], operations: Any) -> dict[str, Any]:
    """Apply a decoded RFC 6902 operation list."""
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise _bad_request("json: cannot unmarshal the patch into a list of JSON patch operations")
    try:
        result = jsonpatch.JsonPatch(operations).apply(copy.deepcopy(dict(original)))
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise PatchError(f"json patch does not apply: {exc}", status_message=GENERIC_INVALID_MESSAGE) from None
    except (TypeError, KeyError, IndexError, AttributeError) as exc:
        # jsonpatch trips over ops with wrongly typed members (a numeric path...); upstream fails them in Apply too.
        raise PatchError(f"invalid json patch operation: {exc!r}", status_message=GENERIC_INVALID_MESSAGE) from None
    if not isinstance(result, dict):
        raise PatchError("json patch replaced the object with a non-object", status_message=GENERIC_INVALID_MESSAGE)
    return result


def merge_patch(original: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386: null deletes, objects merge recursively, everything else (lists included) replaces."""
    merged = _json_merge(copy.deepcopy(dict(original)), copy.deepcopy(dict(patch)))
    assert isinstance(merged, dict)  # an object patch always yields an object
    return merged


def _json_merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _json_merge(result.get(key), value)
    return result


# ---------------------------------------------------------------------------------------------------------------
# Strategic merge patch

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"

ANY_PARENT = "*"
SET_MERGE = ""  # merge key of a list of primitives that merges as a set
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

# The lists whose patch strategy is "merge", by (parent field, list field) -> patchMergeKey; every other list is
# replaced whole (atomic), as for tolerations, envFrom, args, Ingress rules and NetworkPolicy ports. The parent is
# the nearest enclosing field name (list indexes skipped), which is what tells a container's ports from a
# Service's. Node spec.taints carries no patch strategy upstream (only the Taint.key tag, which does nothing), so
# it is replaced; merging it by key would make `kubectl taint node n k-` unable to remove a taint.
LIST_MERGE_KEYS: dict[tuple[str, str], str] = {
    (ANY_PARENT, "containers"): "name",
    (ANY_PARENT, "initContainers"): "name",
    (ANY_PARENT, "ephemeralContainers"): "name",
    (ANY_PARENT, "env"): "name",
    (ANY_PARENT, "volumes"): "name",
    (ANY_PARENT, "imagePullSecrets"): "name",
    (ANY_PARENT, "volumeMounts"): "mountPath",
    (ANY_PARENT, "volumeDevices"): "devicePath",
    (ANY_PARENT, "hostAliases"): "ip",
    (ANY_PARENT, "topologySpreadConstraints"): "topologyKey",
    (ANY_PARENT, "conditions"): "type",
    **{(parent, "ports"): "containerPort" for parent in _CONTAINER_LISTS},
    ("spec", "ports"): "port",  # Service spec.ports
    ("metadata", "ownerReferences"): "uid",
    ("metadata", "finalizers"): SET_MERGE,
    ("status", "addresses"): "type",  # Node status.addresses
    ("status", "podIPs"): "ip",
    ("status", "hostIPs"): "ip",
}


def list_merge_key(path: tuple[str, ...]) -> str | None:
    """The merge key of the list at ``path`` (field names from the root), SET_MERGE for sets, None if atomic."""
    field = path[-1]
    parent = path[-2] if len(path) > 1 else ""
    key = LIST_MERGE_KEYS.get((parent, field))
    return key if key is not None else LIST_MERGE_KEYS.get((ANY_PARENT, field))


# Maps whose patch strategy is "replace", by kind: a patch of them replaces the whole map.
REPLACED_MAPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "PodDisruptionBudget": (("spec", "selector"),),  # policy/v1 patchStrategy=replace (kubernetes#108137)
}


def strategic_merge_patch(original: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a decoded strategic merge patch; directives never reach the result."""
    own_patch = copy.deepcopy(dict(patch))
    for path in REPLACED_MAPS.get(str(original.get("kind", "")), ()):
        _mark_replaced(own_patch, path)
    merged = _merge_map(copy.deepcopy(dict(original)), own_patch, ())
    if merged is None:
        raise PatchError("a strategic merge patch cannot delete the whole object")
    return merged


def _mark_replaced(patch: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = patch
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.setdefault(_PATCH, "replace")


def _merge_map(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    """Merge ``patch`` into ``original`` in place; None means the map was deleted with ``$patch: delete``."""
    directive = patch.pop(_PATCH, None)
    if directive == "replace":
        return _merge_map({}, patch, path)
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise _bad_request(f"unknown patch type: {directive} in map: {patch}")
    if _RETAIN_KEYS in patch:
        _retain_keys(original, patch, patch.pop(_RETAIN_KEYS))
    for key in [k for k in patch if k.startswith(_DELETE_PRIMITIVE)]:
        _delete_from_primitive_list(original, key.removeprefix(_DELETE_PRIMITIVE), patch.pop(key))
    for key in [k for k in patch if k.startswith(_SET_ORDER)]:
        _merge_with_element_order(original, patch, key.removeprefix(_SET_ORDER), patch.pop(key), path)
    for key, value in patch.items():
        _merge_field(original, key, value, path)
    return original


def _merge_field(original: dict[str, Any], key: str, value: Any, path: tuple[str, ...]) -> None:
    if value is None:
        original.pop(key, None)
        return
    child = (*path, key)
    current = original.get(key)
    if isinstance(value, dict):
        merged = _merge_map(current if isinstance(current, dict) else {}, value, child)
        if merged is None:
            original.pop(key, None)
        else:
            original[key] = merged
    elif isinstance(value, list):
        original[key] = _merge_list(current if isinstance(current, list) else [], value, child)
    else:
        original[key] = value


def _clean(value: Any, path: tuple[str, ...]) -> Any:
    """A patch value that lands where nothing was: directives processed, nulls dropped."""
    if isinstance(value, dict):
        return _merge_map({}, value, path)
    if isinstance(value, list):
        return _merge_list([], value, path)
    return value


def _retain_keys(original: dict[str, Any], patch: dict[str, Any], keys: Any) -> None:
    # $retainKeys lists the fields of a union (volume source, deployment strategy) that survive the merge.
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _bad_request("invalid patch: $retainKeys must be a list of field names")
    if any(k not in keys for k, v in patch.items() if v is not None and not k.startswith("$")):
        raise PatchError(f"patch content doesn't match retainKeys list: {keys}")
    for key in [k for k in original if k not in keys]:
        del original[key]


def _delete_from_primitive_list(original: dict[str, Any], field: str, values: Any) -> None:
    if not isinstance(values, list):
        raise _bad_request(f"invalid patch: $deleteFromPrimitiveList/{field} must be a list")
    current = original.get(field)
    if isinstance(current, list):
        original[field] = [item for item in current if item not in values]


def _merge_with_element_order(
    original: dict[str, Any], patch: dict[str, Any], field: str, order: Any, path: tuple[str, ...]
) -> None:
    """Merge the list ``field`` (if patched) and put it in the ``$setElementOrder`` order."""
    if not isinstance(order, list):
        raise _bad_request(f"invalid patch: $setElementOrder/{field} must be a list")
    child = (*path, field)
    current = original.get(field)
    server_order = current if isinstance(current, list) else []
    if field in patch:
        value = patch.pop(field)
        if value is None or not isinstance(value, list):
            _merge_field(original, field, value, path)
            return
        merged = _merge_list(list(server_order), value, child)
    elif isinstance(current, list):
        merged = current
    else:
        return
    key = list_merge_key(child) or SET_MERGE
    original[field] = _order(merged, order, server_order, key)


def _merge_list(original: list[Any], patch: list[Any], path: tuple[str, ...]) -> list[Any]:
    key = list_merge_key(path)
    if key is None:
        # Atomic list: replaced. Bare directive items ({"$patch": "replace"}) mean nothing here and are dropped.
        return [_clean(item, path) for item in patch if not (isinstance(item, dict) and _PATCH in item)]
    if key == SET_MERGE:
        return _merge_primitive_list(original, patch)
    return _merge_keyed_list(original, patch, key, path)


def _merge_primitive_list(original: list[Any], patch: list[Any]) -> list[Any]:
    merged: list[Any] = []
    for item in original + patch:
        if item not in merged:
            merged.append(item)
    return _order(merged, patch, original, SET_MERGE)


def _merge_keyed_list(original: list[Any], patch: list[Any], key: str, path: tuple[str, ...]) -> list[Any]:
    items, remaining, replace = _split_list_directives(original, patch, key)
    if replace:
        return [_clean(item, path) for item in items]
    merged = list(remaining)
    for item in items:
        if key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}")
        index = _find(merged, key, item[key])
        if index is None:
            merged.append(_clean(item, path))
        else:
            merged[index] = _merge_map(merged[index], item, path)
    return _order(merged, items, remaining, key)


def _split_list_directives(
    original: list[Any], patch: list[Any], key: str
) -> tuple[list[dict[str, Any]], list[Any], bool]:
    """Apply ``$patch`` list items: returns (plain patch items, original minus deletions, replace whole list)."""
    items: list[dict[str, Any]] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict):
            raise _bad_request(f"invalid patch: items of a list merged by {key} must be objects, got {item!r}")
        directive = item.get(_PATCH)
        if directive is None:
            items.append(item)
        elif directive == "delete":
            if key not in item:
                raise PatchError(f"map: {item} does not contain declared merge key: {key}")
            original = [o for o in original if not (isinstance(o, dict) and o.get(key) == item[key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            rest = {k: v for k, v in item.items() if k != _PATCH}
            if rest:
                items.append(rest)
        else:
            raise _bad_request(f"unknown patch type: {directive} in map: {item}")
    return items, original, replace


def _find(items: list[Any], key: str, value: Any) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get(key) == value:
            return i
    return None


def _ident(item: Any, key: str) -> Any:
    return item.get(key) if key and isinstance(item, dict) else item


def _index(ids: list[Any], ident: Any) -> int:
    for i, candidate in enumerate(ids):
        if candidate == ident:
            return i
    return -1


def _order(merged: list[Any], patch_order: list[Any], server_order: list[Any], key: str) -> list[Any]:
    """Upstream normalizeElementOrder: patched items in patch order, the others in server order, interleaved.

    An item that the server did not have goes before a server-only item it is compared with, which is why a
    container added by a patch without ``$setElementOrder`` comes first (as in the Kubernetes docs example).
    """
    patch_ids = [_ident(p, key) for p in patch_order]
    server_ids = [_ident(s, key) for s in server_order]
    patched = [m for m in merged if _index(patch_ids, _ident(m, key)) >= 0]
    server_only = [m for m in merged if _index(patch_ids, _ident(m, key)) < 0]
    patched.sort(key=lambda m: _index(patch_ids, _ident(m, key)))
    server_only.sort(key=lambda m: _index(server_ids, _ident(m, key)))
    result: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(patched):
        if j >= len(patched):
            take_server = True
        elif i >= len(server_only):
            take_server = False
        else:
            left = _index(server_ids, _ident(server_only[i], key))
            right = _index(server_ids, _ident(patched[j], key))
            take_server = 0 <= left < right
        if take_server:
            result.append(server_only[i])
            i += 1
        else:
            result.append(patched[j])
            j += 1
    return result
