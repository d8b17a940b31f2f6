"""helm_history: a release's revisions read from helm's own release Secrets. No helm binary, and no values or
manifests ever leave this module (they are decoded in memory and dropped)."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from typing import Annotated, Any

from pydantic import BaseModel, Field

from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps

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
    labels = (secret.get("metadata") or {}).get("labels") or {}
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


class HelmHistory(ToolResult):
    namespace: str
    release: str
    current: HelmRevision | None = Field(description="The revision helm considers deployed (helm status).")
    revisions: list[HelmRevision] = Field(description="Newest first.")
    truncation: Truncation


def helm_history(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the release.")],
    release: Annotated[str, Field(description="Helm release name.")],
    limit: Annotated[int, Field(description="Most revisions to return.", ge=1, le=100)] = 10,
) -> HelmHistory:
    """Show a helm release's revisions (status, chart, app version, updated, description) and the deployed one, like
    `helm history` and `helm status`, read from the cluster without the helm binary. Values are never returned."""
    listed = deps.kube.list("secrets", namespace, label_selector=f"owner=helm,name={release}", limit=500)
    rows = sorted((revision_row(s) for s in listed.items), key=lambda r: r.revision, reverse=True)
    if not rows:
        raise errors.NotFound(
            f"no helm release {release!r} in namespace {namespace!r} (no Secrets labelled owner=helm,name={release}); "
            "check the release name, or the release may use helm's ConfigMap driver, which this tool does not read",
            code=404,
            reason="NotFound",
            verb="list",
            resource="secrets",
        )
    current = next((r for r in rows if r.status == "deployed"), None)
    shown = rows[:limit]
    summary = f"helm release {release}: {len(rows)} revisions"
    summary += f"; deployed: {current.revision} {current.chart} ({current.updated})" if current else "; none deployed"
    if rows[0] is not current:
        summary += f"; latest {rows[0].revision} is {rows[0].status}"
    return HelmHistory(
        summary=summary,
        namespace=namespace,
        release=release,
        current=current,
        revisions=shown,
        truncation=Truncation.of(len(shown), len(rows)),
    )
