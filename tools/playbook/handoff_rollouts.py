"""Every rollout in the namespace during the incident window, and what a rolled-back revision changed. Pure.

RCA must rule out each deploy near the start of an incident, not only the one acted on: a deploy of another service
one second before the first warning is on the timeline with how far it is from that warning, and becomes a
hypothesis of its own. A revision a rollback replaced is compared with the revision running now, so the handoff names
the suspected change (an env var removed, a new image) instead of asking what changed; env values stay masked
(`container_digest` shows them only as masks).

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    REVISION_HISTORY,
    images_of,
    owned_by,
    revision_of,
    rollout_time,
    template_differences,
)
from incident_response.tools.playbook.stabilization import acted_on, finished

MAX_CHANGES = 6
# A rollout that began this close around a mitigation on its deployment finishing is that mitigation's (a raised
# memory limit rolls out a new revision): the controller creates the ReplicaSet within seconds of the write, and the
# journal dates the mitigation when the write returned.
STARTED_BEFORE, STARTED_AFTER = timedelta(seconds=5), timedelta(seconds=60)


@dataclass(frozen=True)
class Rollout:
    """A revision of a deployment that began rolling out at `at`."""

    deployment: str
    revision: int
    at: datetime
    images: tuple[str, ...]
    rollback: bool = False  # an earlier ReplicaSet brought back, not a new revision
    kind: str = "deployment"  # or statefulset, daemonset (their revisions are ControllerRevisions)
    # The first rollout of a revision a rollback brought back later: `at` is when it was first rolled out, under an
    # earlier number; `revision` is its number now (the one `kubectl rollout history` shows). `current`: it runs now.
    renumbered: bool = False
    current: bool = False

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.deployment}"

    @property
    def later(self) -> str:
        """What became of a renumbered revision: 'revision 3 since a rollback brought it back'."""
        return f"revision {self.revision} since a rollback brought it back"

    def what(self) -> str:
        """'rolled out revision 2 (img:2)', 'rolled back to revision 3 (img:1)', or for the first rollout of a revision
        renumbered since 'rolled out img:1 (revision 3 since a rollback brought it back)'."""
        images = ", ".join(self.images)
        if self.renumbered:
            return f"rolled out {images} ({self.later})"
        verb = "rolled back to" if self.rollback else "rolled out"
        return f"{verb} revision {self.revision} ({images})"


def name_of(obj: dict[str, Any]) -> str:
    return str(meta(obj).name)


def namespace_rollouts(
    deployments: Sequence[dict[str, Any]], replicasets: Sequence[dict[str, Any]], since: datetime, until: datetime
) -> list[Rollout]:
    """Rollouts between `since` and `until`, oldest first: each ReplicaSet created then (one a rollback reused later
    is named by its number now, and dated by its creation only as its first rollout), and each deployment whose
    current ReplicaSet is an older one brought back then (a rollback; dated by the deployment's progress, never
    by the ReplicaSet's creation)."""
    found: list[Rollout] = []
    for deploy in deployments:
        owned = [rs for rs in replicasets if owned_by(rs, deploy)]
        for rs in owned:
            created, number = parse_time(meta(rs).creation_timestamp), revision_of(rs)
            if created is not None and number is not None and since <= created <= until:
                images = tuple(images_of((rs.get("spec") or {}).get("template") or {}))
                again = reused(rs, owned)
                now = again and number == revision_of(deploy)
                found.append(Rollout(name_of(deploy), number, created, images, renumbered=again, current=now))
        current, when = revision_of(deploy), rollout_time(deploy, owned)
        if current is None or when is None or not since <= when <= until:
            continue
        if not any(r.deployment == name_of(deploy) and r.revision == current and not r.renumbered for r in found):
            images = tuple(images_of((deploy.get("spec") or {}).get("template") or {}))
            found.append(Rollout(name_of(deploy), current, when, images, rollback=True))
    return sorted(found, key=lambda r: r.at)


def reused(replicaset: dict[str, Any], owned: Sequence[dict[str, Any]]) -> bool:
    """Whether a rollback brought this ReplicaSet back after a newer one: the controller then gives it the next
    revision number and keeps its earlier numbers in the revision-history annotation (a ReplicaSet created after
    it with a lower number says the same when the annotation is missing)."""
    if meta(replicaset).annotations.get(REVISION_HISTORY):
        return True
    return renumbered_after(
        parse_time(meta(replicaset).creation_timestamp),
        revision_of(replicaset),
        [(parse_time(meta(o).creation_timestamp), revision_of(o)) for o in owned if o is not replicaset],
    )


def renumbered_after(
    created: datetime | None, number: int | None, others: Sequence[tuple[datetime | None, int | None]]
) -> bool:
    """Whether a revision created at `created` as `number` carries a number given after a later revision's: one
    created after it has a lower number (revisions are numbered in the order they were created, and a rollback
    renumbers the one it brings back)."""
    if created is None or number is None:
        return False
    return any(when is not None and other is not None and when > created and other < number for when, other in others)


def started_by_us(
    rollouts: Sequence[Rollout], done: Sequence[CommandRow], namespace: str, scale_target: Callable[[str], str | None]
) -> dict[tuple[str, int], str]:
    """(deployment, revision) -> the mitigation whose write started that rollout (`done`: mitigations applied)."""
    found: dict[tuple[str, int], str] = {}
    for row in done:
        end, names = finished(row), set(acted_on([row], namespace, scale_target))
        for rollout in rollouts:
            if rollout.deployment in names and end - STARTED_BEFORE <= rollout.at <= end + STARTED_AFTER:
                found.setdefault((rollout.deployment, rollout.revision), row.tool)
    return found


def gap(earlier: datetime, later: datetime) -> str:
    seconds = int(abs((later - earlier).total_seconds()))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def relation(at: datetime, warning_at: datetime | None, warning: str) -> str:
    """How a moment stands to the first warning: '1 s before the first BackOff warning (on pod/web-1)'."""
    if warning_at is None:
        return "no Warning event to compare it with"
    side = "before" if at <= warning_at else "after"
    return f"{gap(at, warning_at)} {side} the first {warning}"


def suspected_change(current: dict[str, Any] | None, bad: dict[str, Any] | None) -> list[str]:
    """What the bad revision's template changed from the running one, worded from the bad revision's side:
    'env PAYMENTS_URL removed (container checkout)', 'image checkout:2.4.0 -> checkout:2.5.0'. Values stay masked."""
    if current is None or bad is None:
        return []
    changes = []
    for line in template_differences(current, bad):
        if line.startswith("container ") and " env " in line:
            container, _, rest = line.removeprefix("container ").partition(" env ")
            variable, _, state = rest.rpartition(" ")
            changes.append(f"env {variable} {state} (container {container})")
        elif line.startswith("container ") and " image: " in line:
            container, _, images = line.removeprefix("container ").partition(" image: ")
            changes.append(f"image {images} (container {container})")
        else:
            changes.append(line)
    images_same = images_of(current) == images_of(bad)
    if changes and images_same:
        changes.append(f"same image ({', '.join(images_of(bad))}): a configuration change")
    return changes[:MAX_CHANGES]
