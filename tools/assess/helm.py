"""helm_history: a release's revisions read from helm's own release Secrets. No helm binary, and no values or
manifests ever leave this module (they are decoded in memory and dropped).

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.reads import helm_release_secrets
from incident_response.tools.k8s.helm_releases import HelmRevision, revision_row


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
    listed = helm_release_secrets(deps.kube, namespace, release)
    rows = sorted((revision_row(s) for s in listed), key=lambda r: r.revision, reverse=True)
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
