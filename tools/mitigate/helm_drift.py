"""Whether a helm release's workloads still run what its deployed revision rendered (review-assist F25).

A hot-fix made with kubectl (`kubectl set image deployment/cart cart=...:2.3.2-hotfix`) is not in helm's history:
helm still records revision 3 (2.4.0) as deployed. `helm rollback cart` then goes to revision 2, past the release
that worked, and downgrades to 2.3.1. When a live workload's images differ from the deployed revision's manifest,
the change was made outside helm (or by a later revision that failed), and re-applying the deployed revision
(`helm rollback cart 3`: helm 3's three-way merge puts the rendered fields back over the live ones) is the rollback
to the last good release. Only images are compared (the API server fills in defaults everywhere else), and a digest
an admission webhook pinned is not a change, nor is an image the field manager `helm` wrote (a webhook rewrote
what helm sent).

Layer: tools.mitigate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.plan import Precondition, pointer, precondition
from incident_response.tools.k8s.helm_releases import HelmRevision, manifest_images
from incident_response.tools.k8s.last_change import HELM_MANAGER, image_writer
from incident_response.tools.k8s.workloads import template_spec
from incident_response.tools.kube.client import Kube

RESOURCES = {"deployment": "deployments", "statefulset": "statefulsets", "daemonset": "daemonsets"}
CONTAINERS = pointer("spec", "template", "spec", "containers")
MAX_CHECKED = 20  # workloads read per release: a chart rarely renders more


@dataclass(frozen=True)
class Drifted:
    kind: str
    name: str
    container: str
    live: str
    released: str
    by: str  # "outside helm", or "by helm's revision 4 (failed)"

    def text(self) -> str:
        return (
            f"{self.kind} {self.name} runs {self.live} in container {self.container}, not the deployed release's "
            f"{self.released}: changed {self.by}"
        )


@dataclass
class Drift:
    found: list[Drifted]
    preconditions: list[Precondition]  # the drifted workloads' containers, as read: changed again, the plan is stale
    workloads: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # the drifted ones, as read


def live_images(workload: dict[str, Any]) -> dict[str, str]:
    spec = template_spec(workload)
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return {str(c.get("name")): str(c.get("image")) for c in containers if isinstance(c, dict)}


Rendered = dict[tuple[str, str], dict[str, str]]


def release_drift(
    kube: Kube, namespace: str, deployed: dict[str, Any], later: list[tuple[HelmRevision, dict[str, Any]]]
) -> Drift:
    """How the live workloads differ from the `deployed` revision's Secret; `later`: the revisions newer than it
    (failed upgrades) with their Secrets, whose manifests may explain a difference. Unreadable workloads are
    skipped."""
    rendered = manifest_images(deployed)
    newer = [(row, manifest_images(secret)) for row, secret in later]
    drift = Drift([], [])
    for (kind, name), images in sorted(rendered.items())[:MAX_CHECKED]:
        resource = RESOURCES[kind]
        try:
            workload = kube.get(resource, name, namespace)
        except (errors.NotFound, errors.Forbidden):
            continue
        live = live_images(workload)
        changed = []
        for container, image in sorted(images.items()):
            if container not in live or same_image(live[container], image):
                continue
            by = by_whom((kind, name), container, live[container], newer, image_writer(workload, container))
            if by:
                changed.append(Drifted(kind, name, container, live[container], image, by))
        if changed:
            drift.found += changed
            drift.workloads[(kind, name)] = workload
            drift.preconditions.append(precondition(resource, workload, [CONTAINERS], namespace=namespace, name=name))
    return drift


def same_image(live: str, rendered: str) -> bool:
    """A digest pinned by an admission webhook (`cart:2.4.0@sha256:...` for `cart:2.4.0`) is not a change."""
    return live == rendered or ("@" not in rendered and live.split("@", 1)[0] == rendered)


def by_whom(
    workload: tuple[str, str],
    container: str,
    image: str,
    newer: list[tuple[HelmRevision, Rendered]],
    writer: tuple[str, str | None] | None,
) -> str:
    """Who set `image`: a newer revision (a failed upgrade) whose manifest has it, else someone outside helm; "" when
    helm's own write set it (an admission webhook rewrote what helm sent: a registry mirror, a pinned digest), which
    is no change made outside helm. `writer`: (field manager, when) owning the image field, when recorded."""
    for row, rendered in sorted(newer, key=lambda pair: -pair[0].revision):
        if rendered.get(workload, {}).get(container) == image:
            return f"by helm's revision {row.revision} ({row.status})"
    if writer is not None and writer[0] == HELM_MANAGER:
        return ""
    if writer is not None:
        return f"outside helm (by {writer[0]}{f' at {writer[1]}' if writer[1] else ''})"
    return "outside helm (kubectl or another tool)"
