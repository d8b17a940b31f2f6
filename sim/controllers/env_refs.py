"""The kubelet's container environment: a container whose env (valueFrom secretKeyRef/configMapKeyRef) or envFrom
names a Secret or ConfigMap that does not exist, or a key it lacks, is not created: it waits with reason
CreateContainerConfigError and the message upstream's makeEnvironmentVariables returns ('secret "checkout-db" not
found', "couldn't find key password in Secret shop/checkout-db"; configmap the same), and the kubelet records a
Warning Failed "Error: <message>" each time it tries. `optional: true` references are skipped. envFrom is read
before env, in order, as upstream does; the first failure is the one reported.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_response.sim.controllers.common import Obj
from incident_response.sim.resources import CONFIGMAPS, SECRETS

CONFIG_ERROR = "CreateContainerConfigError"

# reference field -> (resource, the word a not-found error names it by, the kind its missing-key message says)
_KINDS = {
    "secret": (SECRETS, "secret", "Secret"),
    "configMap": (CONFIGMAPS, "configmap", "ConfigMap"),
}

Peek = Callable[[Any, str, str], Obj | None]


def config_error(pod: Obj, container: Obj, peek: Peek) -> str | None:
    """Why the kubelet cannot build this container's environment now, in its words, or None."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    for source in container.get("envFrom") or []:
        for field, (res, word, _) in _KINDS.items():
            ref = source.get(f"{field}Ref") if isinstance(source, dict) else None
            if not isinstance(ref, dict) or ref.get("optional"):
                continue
            name = str(ref.get("name") or "")
            if peek(res, namespace, name) is None:
                return f'{word} "{name}" not found'
    for variable in container.get("env") or []:
        value_from = variable.get("valueFrom") if isinstance(variable, dict) else None
        if not isinstance(value_from, dict):
            continue
        for field, (res, word, kind) in _KINDS.items():
            ref = value_from.get(f"{field}KeyRef")
            if not isinstance(ref, dict) or ref.get("optional"):
                continue
            name, key = str(ref.get("name") or ""), str(ref.get("key") or "")
            obj = peek(res, namespace, name)
            if obj is None:
                return f'{word} "{name}" not found'
            if not any(key in (obj.get(part) or {}) for part in ("data", "binaryData", "stringData")):
                return f"couldn't find key {key} in {kind} {namespace}/{name}"
    return None
