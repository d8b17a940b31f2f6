"""Is a request body a well-formed object of its kind? The decoding errors (400) and validations (422) we answer.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from incident_response.sim import errors, selectors
from incident_response.sim.resources import DEPLOYMENTS, PODS, SERVICES, WORKLOADS, ResourceType
from incident_response.sim.store import Obj

if TYPE_CHECKING:
    from incident_response.sim.requests import Target


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _selector_problems(path: str, sel: Any) -> list[tuple[str, str]]:
    if sel is None:
        return []
    if not isinstance(sel, dict):
        return [(path, "expected an object")]
    out: list[tuple[str, str]] = []
    if sel.get("matchLabels") is not None and not _string_map(sel["matchLabels"]):
        out.append((f"{path}.matchLabels", "expected a map of strings"))
    expressions = sel.get("matchExpressions")
    if expressions is not None:
        ok = isinstance(expressions, list) and all(
            isinstance(e, dict)
            and isinstance(e.get("key"), str)
            and isinstance(e.get("operator"), str)
            and (
                e.get("values") is None
                or (isinstance(e["values"], list) and all(isinstance(v, str) for v in e["values"]))
            )
            for e in expressions
        )
        if not ok:
            out.append((f"{path}.matchExpressions", "expected a list of {key, operator, values} objects"))
    return out


def _bad_lists(path: str, obj: dict[str, Any], keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """Fields among `keys` that are present but not lists of objects."""
    return [
        (f"{path}.{key}", "expected a list of objects")
        for key in keys
        if obj.get(key) is not None and not (isinstance(obj[key], list) and all(isinstance(x, dict) for x in obj[key]))
    ]


def _pod_spec_problems(path: str, spec: Any) -> list[tuple[str, str]]:
    if not isinstance(spec, dict):
        return [(path, "expected an object")]
    out = _bad_lists(path, spec, ("containers", "initContainers", "volumes", "tolerations"))
    for key in ("containers", "initContainers"):
        for i, c in enumerate(spec.get(key) or [] if not out else []):
            where = f"{path}.{key}[{i}]"
            out += [
                (f"{where}.{f}", "expected a string")
                for f in ("name", "image")
                if c.get(f) is not None and not isinstance(c[f], str)
            ]
            out += _bad_lists(where, c, ("ports", "env", "volumeMounts"))
            resources = c.get("resources")
            if resources is not None and not (
                isinstance(resources, dict) and all(v is None or isinstance(v, dict) for v in resources.values())
            ):
                out.append((f"{where}.resources", "expected an object of limits and requests"))
    if spec.get("nodeName") is not None and not isinstance(spec["nodeName"], str):
        out.append((f"{path}.nodeName", "expected a string"))
    return out


def _meta_problems(path: str, meta: Any) -> list[tuple[str, str]]:
    if meta is None:
        return []
    if not isinstance(meta, dict):
        return [(path, "expected an object")]
    out = [
        (f"{path}.{key}", "expected a string")
        for key in ("name", "generateName", "namespace", "resourceVersion", "uid")
        if meta.get(key) is not None and not isinstance(meta[key], str)
    ]
    out += [
        (f"{path}.{key}", "expected a map of strings")
        for key in ("labels", "annotations")
        if meta.get(key) is not None and not _string_map(meta[key])
    ]
    out += [
        (f"{path}.{key}", "expected a list")
        for key in ("ownerReferences", "finalizers")
        if meta.get(key) is not None and not isinstance(meta[key], list)
    ]
    return out


def drop_null_template_timestamp(res: ResourceType, obj: Obj) -> None:
    """`creationTimestamp: null` in a pod template is Go's zero time: the same template as one without it.

    kubectl sends it (its `rollout undo` patch copies a ReplicaSet's template through Go structs); dropping it
    keeps template comparisons (the deployment controller's reuse of an old ReplicaSet) semantic, as upstream's are.
    """
    template = (obj.get("spec") or {}).get("template") if res in WORKLOADS else None
    meta = template.get("metadata") if isinstance(template, dict) else None
    if isinstance(meta, dict) and "creationTimestamp" in meta and meta["creationTimestamp"] is None:
        del meta["creationTimestamp"]


def shape_problems(res: ResourceType, obj: Obj) -> list[tuple[str, str]]:
    """JSON type errors the real server reports while decoding a body, before any validation."""
    out = _meta_problems("metadata", obj.get("metadata"))
    out += [
        (key, "expected an object")
        for key in ("spec", "status")
        if obj.get(key) is not None and not isinstance(obj[key], dict)
    ]
    spec = obj.get("spec")
    if out or not isinstance(spec, dict):
        return out
    if res is PODS:
        out += _pod_spec_problems("spec", spec)
    elif res in WORKLOADS:
        out += _selector_problems("spec.selector", spec.get("selector"))
        template = spec.get("template")
        if template is not None and not isinstance(template, dict):
            out.append(("spec.template", "expected an object"))
        elif template is not None:
            out += _meta_problems("spec.template.metadata", template.get("metadata"))
            if template.get("spec") is not None:
                out += _pod_spec_problems("spec.template.spec", template["spec"])
        if spec.get("strategy") is not None and not isinstance(spec["strategy"], dict):
            out.append(("spec.strategy", "expected an object"))
    elif res is SERVICES:
        out += _bad_lists("spec", spec, ("ports",))
        if spec.get("selector") is not None and not _string_map(spec["selector"]):
            out.append(("spec.selector", "expected a map of strings"))
    else:
        for key in ("selector", "podSelector"):
            out += _selector_problems(f"spec.{key}", spec.get(key))
    return out


def check_body(target: Target, body: Any, require_name: bool) -> Obj:
    """The decoded body as an object of the target's kind, given the URL's namespace (and name): else 400."""
    res = target.res
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    problems = shape_problems(res, body)
    if problems:
        field, message = problems[0]
        raise errors.bad_request(
            f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: {field}: {message}'
        )
    kind = body.get("kind")
    if kind is not None and kind != res.kind:
        raise errors.bad_request(
            f"the API version in the data ({body.get('apiVersion')}) does not match the "
            f"expected kind {res.kind} (got {kind})"
        )
    meta = body.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    if res.namespaced:
        given = meta.get("namespace")
        if given and target.namespace and given != target.namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = target.namespace or given
    if require_name and target.name and meta.get("name") not in (None, target.name):
        raise errors.bad_request(
            f"the name of the object ({meta.get('name')}) does not match the name on the URL ({target.name})"
        )
    if require_name and target.name:
        meta["name"] = target.name
    return body


def check_patched(target: Target, current: Obj, patched: Obj) -> None:
    """A patch must keep the object's name, namespace and uid, and leave it well-formed (422 otherwise)."""
    assert target.name is not None
    meta = patched.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    for key in ("name", "namespace", "uid"):
        if key in current["metadata"] and meta.get(key) != current["metadata"][key]:
            if key == "uid" and key not in meta:
                meta[key] = current["metadata"][key]
                continue
            raise errors.invalid(
                target.res.kind, target.res.group, target.name, [(f"metadata.{key}", "field is immutable")]
            )
    # A patch carries the stored resourceVersion unless the client asked for a precondition.
    meta.setdefault("resourceVersion", current["metadata"]["resourceVersion"])
    problems = shape_problems(target.res, patched)
    if problems:
        raise errors.invalid(
            target.res.kind, target.res.group, target.name, [(f, f"Invalid value: {m}") for f, m in problems]
        )


def validate(res: ResourceType, obj: Obj) -> None:
    """The few validations that matter for the playbook: bad specs must come back as 422, not be stored."""
    drop_null_template_timestamp(res, obj)
    name = str(obj.get("metadata", {}).get("name", ""))
    causes: list[tuple[str, str]] = []
    spec = obj.get("spec")
    if res in WORKLOADS and isinstance(spec, dict):
        replicas = spec.get("replicas", 1)
        if not isinstance(replicas, int) or replicas < 0:
            causes.append(("spec.replicas", f"Invalid value: {replicas!r}: must be greater than or equal to 0"))
        sel = spec.get("selector")
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not isinstance(sel, dict) or not (sel.get("matchLabels") or sel.get("matchExpressions")):
            causes.append(("spec.selector", "Required value"))
        else:
            try:
                if not selectors.selector_from_spec(sel).matches(labels):
                    causes.append(
                        (
                            "spec.template.metadata.labels",
                            f"Invalid value: {labels!r}: `selector` does not match template `labels`",
                        )
                    )
            except selectors.SelectorError as e:
                causes.append(("spec.selector", str(e)))
        containers = ((spec.get("template") or {}).get("spec") or {}).get("containers")
        if not containers:
            causes.append(("spec.template.spec.containers", "Required value"))
    if res is DEPLOYMENTS and isinstance(spec, dict):
        causes += _rolling_update_problems(spec)
    if res is PODS and isinstance(spec, dict) and not spec.get("containers"):
        causes.append(("spec.containers", "Required value"))
    if causes:
        raise errors.invalid(res.kind, res.group, name, causes)


def _rolling_update_problems(spec: Obj) -> list[tuple[str, str]]:
    """Upstream refuses a rolling update that may neither add a pod nor take one away: it could never progress."""
    rolling = (spec.get("strategy") or {}).get("rollingUpdate")
    if not isinstance(rolling, dict):
        return []
    surge, unavailable = rolling.get("maxSurge", "25%"), rolling.get("maxUnavailable", "25%")
    if _zero(surge) and _zero(unavailable):
        return [
            (
                "spec.strategy.rollingUpdate.maxUnavailable",
                f"Invalid value: {unavailable!r}: may not be 0 when `maxSurge` is 0",
            )
        ]
    return []


def _zero(value: Any) -> bool:
    return value == 0 and not isinstance(value, bool) or value in ("0", "0%")
