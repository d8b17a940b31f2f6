"""Pod templates compared by what they would run, not by how they were written down.

Two records of one template differ in ways that change nothing: a ReplicaSet's copy carries pod-template-hash and
a ControllerRevision's pods carry controller-revision-hash; one side has a field the API server defaulted
(`restartPolicy: Always`, `imagePullPolicy: IfNotPresent`, a probe's `periodSeconds: 10`) that the other left out;
a list the kubelet treats as a set (volumes, mounts, ports) comes in another order; a quantity is spelled `1` or
`1000m`; a map or list is empty rather than absent. `normalized` removes exactly those and nothing else: env and
container order, commands, images and annotations (a `kubectl rollout restart` stamp) stay, so a real difference
is never hidden.

Layer: tools.k8s.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

# Labels a controller adds to name a revision's pods: not part of what the template runs.
HASH_LABELS = ("pod-template-hash", "controller-revision-hash", "pod-template-generation")

# Defaults the API server fills in (pkg/apis/core/v1/defaults.go): absent means this value.
POD_DEFAULTS: dict[str, Any] = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
    "enableServiceLinks": True,
    "hostNetwork": False,
    "hostPID": False,
    "hostIPC": False,
}
CONTAINER_DEFAULTS: dict[str, Any] = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "stdin": False,
    "stdinOnce": False,
    "tty": False,
}
PROBE_DEFAULTS: dict[str, Any] = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
VOLUME_MODE_DEFAULT = 420  # 0644, for secret, configMap, projected and downwardAPI volumes

# Lists whose order the kubelet ignores, with the key that identifies an entry.
SET_LISTS: dict[str, tuple[str, ...]] = {
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "ports": ("containerPort", "protocol"),
    "imagePullSecrets": ("name",),
}

_NUMBER = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def quantity(value: Any) -> Any:
    """A quantity as an exact number (`1`, `1000m` and `1.0` are one), or the value itself when it is not one."""
    match = _NUMBER.match(str(value).strip())
    if isinstance(value, bool) or not match or match.group(2) not in _SUFFIX:
        return value
    try:
        return (Decimal(match.group(1)) * _SUFFIX[match.group(2)]).normalize()
    except InvalidOperation:
        return value


def default_pull_policy(image: Any) -> str:
    """What the API server sets when imagePullPolicy is absent: Always for `:latest` or no tag, else IfNotPresent."""
    name, _, digest = str(image or "").partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ("" if digest else "latest")
    return "Always" if tag == "latest" else "IfNotPresent"


def _without(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not (k in defaults and v == defaults[k])}


def _resources(resources: Any) -> Any:
    if not isinstance(resources, dict):
        return resources
    return {
        key: {name: quantity(q) for name, q in value.items()} if key in ("requests", "limits") and value else value
        for key, value in resources.items()
    }


def _probe(probe: Any) -> Any:
    if not isinstance(probe, dict):
        return probe
    out = _without(probe, PROBE_DEFAULTS)
    if isinstance(out.get("httpGet"), dict):
        out["httpGet"] = _without(out["httpGet"], {"scheme": "HTTP"})
    return out


def _container(container: Any) -> Any:
    if not isinstance(container, dict):
        return container
    out = _without(container, CONTAINER_DEFAULTS)
    if out.get("imagePullPolicy") == default_pull_policy(out.get("image")):
        del out["imagePullPolicy"]
    out["resources"] = _resources(out.get("resources"))
    for probe in PROBES:
        if probe in out:
            out[probe] = _probe(out[probe])
    out["ports"] = [_without(p, {"protocol": "TCP"}) if isinstance(p, dict) else p for p in out.get("ports") or []]
    out["env"] = [_env(variable) for variable in out.get("env") or []]
    return out


def _env(variable: Any) -> Any:
    source = variable.get("valueFrom") if isinstance(variable, dict) else None
    if not isinstance(source, dict) or not isinstance(source.get("fieldRef"), dict):
        return variable
    field = _without(source["fieldRef"], {"apiVersion": "v1"})
    return {**variable, "valueFrom": {**source, "fieldRef": field}}


def _volume(volume: Any) -> Any:
    if not isinstance(volume, dict):
        return volume
    out = dict(volume)
    for kind in ("secret", "configMap", "projected", "downwardAPI"):
        if isinstance(out.get(kind), dict):
            out[kind] = _without(out[kind], {"defaultMode": VOLUME_MODE_DEFAULT})
    return out


def _pod_spec(spec: Any) -> Any:
    if not isinstance(spec, dict):
        return spec
    out = _without(spec, POD_DEFAULTS)
    for key in ("containers", "initContainers", "ephemeralContainers"):
        if key in out:
            out[key] = [_container(c) for c in out[key] or []]
    out["volumes"] = [_volume(v) for v in out.get("volumes") or []]
    return out


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def _sorted_sets(value: Any, key: str | None = None) -> Any:
    """Drop nulls and empty maps and lists, and order the set-like lists by their identifying fields."""
    if isinstance(value, dict):
        out = {k: _sorted_sets(v, k) for k, v in value.items()}
        return {k: v for k, v in out.items() if not _empty(v)}
    if isinstance(value, list):
        items = [_sorted_sets(v) for v in value]
        fields = SET_LISTS.get(key or "")
        if fields is not None:
            items.sort(key=lambda item: json.dumps([item.get(f) if isinstance(item, dict) else item for f in fields]))
        return items
    return value


def normalized(template: dict[str, Any] | None) -> Any:
    """The template as it runs: hash labels, defaults, empty fields and set-list order removed (see the module)."""
    template = template or {}
    metadata = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k not in HASH_LABELS}
    metadata = {**metadata, "labels": labels}
    metadata.pop("creationTimestamp", None)
    out = {**template, "metadata": metadata, "spec": _pod_spec(template.get("spec"))}
    return _sorted_sets(out)


def same_pod_template(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """True when the two templates run the same pods (a rollback from one to the other would change nothing)."""
    return bool(normalized(a) == normalized(b))


def differences(a: dict[str, Any] | None, b: dict[str, Any] | None, limit: int = 8) -> list[str]:
    """Where two templates differ once normalized, as JSON-pointer-like paths (`spec/containers/0/image`)."""
    found: list[str] = []

    def walk(left: Any, right: Any, path: str) -> None:
        if len(found) >= limit or left == right:
            return
        if isinstance(left, dict) and isinstance(right, dict):
            for key in sorted(set(left) | set(right)):
                walk(left.get(key), right.get(key), f"{path}/{key}")
        elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
            for index, (x, y) in enumerate(zip(left, right, strict=True)):
                walk(x, y, f"{path}/{index}")
        else:
            found.append(path.lstrip("/") or "(the whole template)")

    walk(normalized(a), normalized(b), "")
    return found
