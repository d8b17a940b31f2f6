"""What an in-cluster rollback leaves for the next deploy: the manifest last applied still asks for the bad revision.

`kubectl rollout undo` (what rollback_deployment and rollback_workload run) changes the workload's pod template in the
cluster only. The manifest a team or its CI applies (kubectl keeps the last one in the last-applied annotation) still
names the rolled-back image, and its replica count may differ from what runs now (a hand scale, an override): the
next `kubectl apply` puts both back. The engineer who takes over must know that before the next deploy.

Layer: tools.playbook.
"""

from __future__ import annotations

import json
from typing import Any

from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import images_of

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def applied_manifest(workload: dict[str, Any]) -> dict[str, Any] | None:
    text = meta(workload).annotations.get(LAST_APPLIED)
    if not text:
        return None
    try:
        manifest = json.loads(str(text))
    except ValueError:
        return None
    return manifest if isinstance(manifest, dict) else None


def manifest_drift(kind: str, name: str, workload: dict[str, Any]) -> str | None:
    """The open question for a workload rolled back in the cluster whose last-applied manifest would undo it, or None
    (no manifest kept, or it matches what runs)."""
    manifest = applied_manifest(workload)
    if manifest is None:
        return None
    spec = workload.get("spec") or {}
    wanted_spec: dict[str, Any] = manifest["spec"] if isinstance(manifest.get("spec"), dict) else {}
    wanted = images_of(wanted_spec.get("template") or {})
    running = images_of(spec.get("template") or {})
    parts = []
    if wanted and wanted != running:
        parts.append(f"image {', '.join(wanted)} (running now: {', '.join(running)})")
    replicas = wanted_spec.get("replicas")
    if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas != spec.get("replicas"):
        parts.append(f"{replicas} replicas (running now: {spec.get('replicas')})")
    if not parts:
        return None
    return (
        f"{kind} {name} was rolled back in the cluster only: the manifest last applied to it ({LAST_APPLIED}) "
        f"still asks for {' and '.join(parts)}, so the next kubectl apply or CI deploy of that manifest puts it back. "
        "Revert or pin it in source control before the next deploy?"
    )
