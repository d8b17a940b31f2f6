"""What differs between two pod templates beyond what workloads.container_digest compares (image, command, args,
resources, ports, env values, pod labels): pod annotations (checksum/config, kubectl rollout restart's restartedAt),
the rest of each container (envFrom, volumeMounts, probes, ...) and the pod spec (volumes, nodeSelector, tolerations,
serviceAccountName, ...). A rollout of a config checksum changes nothing of the first kind, and was "0 differences".

Values are shown short and masked by shape; a field where values could carry a credential (a probe's or a hook's
exec command) is only named as changed (a probe's port, path and timing are shown).

Layer: tools.k8s.
"""

from __future__ import annotations

import json
from typing import Any

from incident_response.tools.core.masking import mask_data, mask_text

# Container fields container_digest compares already (workloads.template_differences words them).
DIGESTED = frozenset({"name", "image", "command", "args", "resources", "env", "ports"})
# Fields whose values are refs or names, safe and useful to show (the rest are named only).
SHOWN = frozenset(
    {
        "envFrom",
        "volumeMounts",
        "volumes",
        "nodeSelector",
        "tolerations",
        "serviceAccountName",
        "serviceAccount",
        "imagePullPolicy",
        "priorityClassName",
        "schedulerName",
        "runtimeClassName",
        "hostNetwork",
        "dnsPolicy",
        "restartPolicy",
        "terminationGracePeriodSeconds",
        "imagePullSecrets",
    }
)
MAX_VALUE = 90
HASH_LABEL = "pod-template-hash"


def short(value: Any, key: str | None = None) -> str:
    """A value in one short, masked piece of text ("absent" for a missing one): masked by position (a
    credential-named `key` or field) and by shape."""
    if value is None:
        return "absent"
    value = mask_data(value, key)
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
    text = mask_text(text)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


PROBES = frozenset({"readinessProbe", "livenessProbe", "startupProbe"})
PROBE_TIMING = (("initialDelaySeconds", "delay"), ("periodSeconds", "every"), ("timeoutSeconds", "timeout"))


def probe_parts(probe: Any) -> dict[str, str]:
    """Where a probe looks and how patient it is, part by part ('httpGet': 'httpGet :9090/healthz', 'every': 'every
    5s'); an exec probe's command is not shown (it may carry a credential)."""
    if not isinstance(probe, dict):
        return {"": "absent"}
    parts = {
        handler: f"{handler} :{spec.get('port')}{spec.get('path') or ''}"
        for handler in ("httpGet", "tcpSocket", "grpc")
        if isinstance(spec := probe.get(handler), dict)
    }
    if "exec" in probe:
        parts["exec"] = "exec (command not shown)"
    parts |= {word: f"{word} {probe[key]}s" for key, word in PROBE_TIMING if key in probe}
    if "failureThreshold" in probe:
        parts["failures"] = f"{probe['failureThreshold']} failures"
    return parts


def probe_change(before: Any, after: Any) -> str | None:
    """'httpGet :http/healthz -> httpGet :9090/healthz': only the parts that differ; None when none shown does."""
    old, new = probe_parts(before), probe_parts(after)
    keys = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
    if not keys:
        return None
    said = [", ".join(side.get(k, "-") for k in keys) for side in (old, new)]
    return mask_text(f"{said[0]} -> {said[1]}")


def field_change(where: str, key: str, before: Any, after: Any) -> str:
    if key in SHOWN:
        return f"{where} {key}: {short(before)} -> {short(after)}"
    if key in PROBES and before is not None and after is not None and (change := probe_change(before, after)):
        return f"{where} {key}: {change}"
    state = "added" if before is None else "removed" if after is None else "changed"
    return f"{where} {key} {state}"


def annotation_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [
        f"pod annotation {key}: {short(before.get(key), key)} -> {short(after.get(key), key)}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def by_name(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        str(c.get("name")): c
        for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        if isinstance(c, dict)
    }


def named_ports(container: dict[str, Any]) -> str:
    """The container's named ports, "http=8080, metrics=9090" (unnamed ones are only numbers: the digest has them)."""
    ports = [p for p in container.get("ports") or [] if isinstance(p, dict) and p.get("name")]
    return ", ".join(f"{p['name']}={p.get('containerPort')}" for p in sorted(ports, key=lambda p: str(p["name"])))


def other_differences(current: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Readable differences container_digest does not see, current -> other."""
    meta_now, meta_then = current.get("metadata") or {}, other.get("metadata") or {}
    changes = annotation_changes(meta_now.get("annotations") or {}, meta_then.get("annotations") or {})
    spec_now, spec_then = current.get("spec") or {}, other.get("spec") or {}
    containers_now, containers_then = by_name(spec_now), by_name(spec_then)
    for name in sorted(set(containers_now) & set(containers_then)):
        c_now, c_then = containers_now[name], containers_then[name]
        for key in sorted((set(c_now) | set(c_then)) - DIGESTED):
            if c_now.get(key) != c_then.get(key):
                changes.append(field_change(f"container {name}", key, c_now.get(key), c_then.get(key)))
        # The digest compares port numbers; a renamed port breaks every Service whose targetPort names it.
        names_now, names_then = named_ports(c_now), named_ports(c_then)
        if names_now != names_then:
            changes.append(f"container {name} port names: {names_now or 'none'} -> {names_then or 'none'}")
    for key in sorted((set(spec_now) | set(spec_then)) - {"containers", "initContainers"}):
        if spec_now.get(key) != spec_then.get(key):
            changes.append(field_change("pod spec", key, spec_now.get(key), spec_then.get(key)))
    return changes


def config_refs(template: dict[str, Any]) -> dict[str, set[str]]:
    """The ConfigMaps and Secrets a pod template reads ({"ConfigMap": {...}, "Secret": {...}}): envFrom, env
    valueFrom, volumes (projected sources too). A rollback restores the template, never these objects."""
    found: dict[str, set[str]] = {"ConfigMap": set(), "Secret": set()}
    spec = template.get("spec") or {}

    def note(kind: str, ref: Any) -> None:
        if isinstance(ref, dict) and ref.get("name"):
            found[kind].add(str(ref["name"]))

    for container in by_name(spec).values():
        for source in container.get("envFrom") or []:
            note("ConfigMap", source.get("configMapRef"))
            note("Secret", source.get("secretRef"))
        for variable in container.get("env") or []:
            value_from = variable.get("valueFrom") or {}
            note("ConfigMap", value_from.get("configMapKeyRef"))
            note("Secret", value_from.get("secretKeyRef"))
    for volume in spec.get("volumes") or []:
        note("ConfigMap", volume.get("configMap"))
        if (secret := volume.get("secret")) and secret.get("secretName"):
            found["Secret"].add(str(secret["secretName"]))
        for source in (volume.get("projected") or {}).get("sources") or []:
            note("ConfigMap", source.get("configMap"))
            note("Secret", source.get("secret"))
    return found
