"""Which keys of a ConfigMap a pod template reads: an edit of a key no container sees (no envFrom, no volume, no
configMapKeyRef naming it) cannot be what broke its pods (review-landed8 R4: checkout reads checkout-config's
PAYMENTS_URL only, and an edit of TIMEOUT_MS was named the likely cause of its crash).

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any


def keys_read(template: dict[str, Any], configmap: str) -> set[str] | None:
    """The keys of ConfigMap `configmap` the template's containers read; None: every key (envFrom, or a volume or
    projected source without items)."""
    spec = template.get("spec") or {}
    keys: set[str] = set()
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for source in container.get("envFrom") or []:
            if ((source or {}).get("configMapRef") or {}).get("name") == configmap:
                return None
        for variable in container.get("env") or []:
            ref = ((variable or {}).get("valueFrom") or {}).get("configMapKeyRef") or {}
            if ref.get("name") == configmap:
                keys.add(str(ref.get("key")))
    sources = [v.get("configMap") for v in spec.get("volumes") or [] if isinstance(v, dict)]
    sources += [
        s.get("configMap")
        for v in spec.get("volumes") or []
        if isinstance(v, dict)
        for s in (v.get("projected") or {}).get("sources") or []
        if isinstance(s, dict)
    ]
    for source in sources:
        if isinstance(source, dict) and source.get("name") == configmap:
            items = source.get("items") or []
            if not items:
                return None
            keys |= {str(i.get("key")) for i in items if isinstance(i, dict)}
    return keys


def reads_edit(template: dict[str, Any], configmap: str, edited: list[str]) -> bool:
    """Whether the template's pods read a key the edit set (True when the edited keys are not known)."""
    read = keys_read(template, configmap)
    return not edited or read is None or bool(read & set(edited))
