"""Pure facts about helm releases, decoded from the release Secrets helm 3 keeps (values and manifests are dropped).

Layer: tools.k8s.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from typing import Any

import yaml
from pydantic import BaseModel

from incident_response.tools.core import errors
from incident_response.tools.k8s.views import meta

GZIP_MAGIC = b"\x1f\x8b"
MAX_DESCRIPTION = 300


class HelmRevision(BaseModel):
    revision: int
    status: str
    chart: str
    app_version: str | None
    updated: str | None
    description: str | None


def decode_release(encoded: str) -> dict[str, Any]:
    """Helm 3 stores base64(gzip(JSON)) in the Secret's `release` key (itself base64 in the API)."""
    try:
        inner = base64.b64decode(base64.b64decode(encoded))
        payload = gzip.decompress(inner) if inner[:2] == GZIP_MAGIC else inner
        decoded = json.loads(payload)
    except (binascii.Error, OSError, ValueError) as e:
        raise errors.InvalidArgument("a helm release Secret could not be decoded (not a helm 3 release?)") from e
    if not isinstance(decoded, dict):
        raise errors.InvalidArgument("a helm release Secret holds no release object")
    return decoded


def revision_row(secret: dict[str, Any]) -> HelmRevision:
    labels = meta(secret).labels
    release = decode_release(str((secret.get("data") or {}).get("release") or ""))
    info = release.get("info") or {}
    chart = (release.get("chart") or {}).get("metadata") or {}
    return HelmRevision(
        revision=int(release.get("version") or labels.get("version") or 0),
        status=str(info.get("status") or labels.get("status") or "unknown"),
        chart=f"{chart.get('name', '?')}-{chart.get('version', '?')}",
        app_version=chart.get("appVersion"),
        updated=info.get("last_deployed"),
        description=(str(info.get("description"))[:MAX_DESCRIPTION] if info.get("description") else None),
    )


# The manifest is decoded in memory; only workloads' container images are taken from it (it may render Secrets).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
WORKLOAD_KINDS = {"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}


def manifest_images(secret: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """(kind, name) -> container -> image of the workloads a release revision rendered (its `manifest`). Empty when
    the manifest is missing, too large, or not YAML: nothing is then known to compare with."""
    release = decode_release(str((secret.get("data") or {}).get("release") or ""))
    manifest = release.get("manifest")
    if not isinstance(manifest, str) or len(manifest) > MAX_MANIFEST_BYTES:
        return {}
    try:
        documents = list(yaml.safe_load_all(manifest))
    except yaml.YAMLError:
        return {}
    found: dict[tuple[str, str], dict[str, str]] = {}
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") not in WORKLOAD_KINDS:
            continue
        name = (doc.get("metadata") or {}).get("name")
        pod = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
        images = {str(c.get("name")): str(c.get("image")) for c in containers if isinstance(c, dict)}
        if isinstance(name, str) and images:
            found[(WORKLOAD_KINDS[str(doc["kind"])], name)] = images
    return found
