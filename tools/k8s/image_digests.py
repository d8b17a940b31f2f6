"""A tag pushed again between two revisions, proven by the digests their pods run.

A pod's containerStatuses[].imageID is the digest the node pulled for the tag (containerd: "repo@sha256:..."; docker:
"docker-pullable://repo@sha256:..."; a side-loaded image: "sha256:..."). Pods of two revisions that run the same
mutable tag under different digests run different builds: the tag was pushed again between their pulls, and a
rollback to the older revision pulls the tag's current build, not the one its pods ran. Equal digests prove nothing
more than that (nodes may hold the old build under IfNotPresent), so only a difference is reported.

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import HASH_LABEL, owned_by, revision_of

DIGEST = re.compile(r"sha256:([0-9a-f]{12,64})$")


@dataclass(frozen=True)
class Repush:
    image: str  # the tag both revisions' pods run
    old: str  # "sha256:<12 hex>" the older revision's pods run
    new: str  # the newer revision's


def digests(pods: list[dict[str, Any]], template_hash: str) -> dict[str, set[str]]:
    """image tag -> the short digests the pods of one template (its pod-template-hash) run."""
    found: dict[str, set[str]] = {}
    for pod in pods:
        if (meta(pod).labels or {}).get(HASH_LABEL) != template_hash:
            continue
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            image, image_id = str(status.get("image") or ""), str(status.get("imageID") or "")
            if "@sha256:" in image or not (match := DIGEST.search(image_id)):
                continue  # a reference pinned by digest cannot be pushed again; no digest yet (not started)
            found.setdefault(image, set()).add(f"sha256:{match.group(1)[:12]}")
    return found


def repushed(pods: list[dict[str, Any]], old_hash: str, new_hash: str) -> list[Repush]:
    """The tags the older template's pods run under one digest and the newer's under another (none shared)."""
    old, new = digests(pods, old_hash), digests(pods, new_hash)
    return [
        Repush(image, min(old[image]), min(new[image]))
        for image in sorted(set(old) & set(new))
        if old[image] and new[image] and not old[image] & new[image]
    ]


def said(repushes: list[Repush], old_rev: int | None, new_rev: int | None) -> str:
    """'registry.example.com/shop/web:stable was pushed again: revision 2's pods run sha256:..., revision 3's
    sha256:...' (each tag)."""
    return "; ".join(
        f"{r.image} was pushed again: revision {old_rev}'s pods run {r.old}, revision {new_rev}'s {r.new}"
        for r in repushes
    )


def repushed_by_deployment(
    deployments: list[dict[str, Any]], replicasets: list[dict[str, Any]], pods: list[dict[str, Any]], names: set[str]
) -> dict[str, str]:
    """deployment (of `names`) -> `said` of the tags its current and previous revisions' pods run under different
    digests."""
    found: dict[str, str] = {}
    for deployment in deployments:
        name = str(meta(deployment).name)
        if name not in names:
            continue
        owned = {r: rs for rs in replicasets if owned_by(rs, deployment) and (r := revision_of(rs)) is not None}
        current = revision_of(deployment) or max(owned, default=0)
        previous = max((r for r in owned if r < current), default=None)
        if previous is None or current not in owned:
            continue
        old_hash = (meta(owned[previous]).labels or {}).get(HASH_LABEL)
        new_hash = (meta(owned[current]).labels or {}).get(HASH_LABEL)
        if old_hash and new_hash and (pushed := repushed(pods, old_hash, new_hash)):
            found[name] = said(pushed, previous, current)
    return found
