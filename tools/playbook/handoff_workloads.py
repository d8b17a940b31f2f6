"""The handoff's StatefulSet and DaemonSet facts, from their ControllerRevisions: each revision created in the
incident window is a rollout on the timeline, and the revision a rollback_workload moved away from is a suspect
with what it changed. Pure.

A rollback reuses an old ControllerRevision (under a new number) and creates none, and the object records no time
for it: the revision's creation dates its first rollout only (under the earlier number). A rollback made through
this server is dated by the journal; one made outside it is said to have happened, after the revision it replaced
was created, without a time.

Layer: tools.playbook.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import images_of
from incident_response.tools.playbook.handoff_rollouts import Rollout, renumbered_after, suspected_change
from incident_response.tools.playbook.stabilization import finished

TO_REVISION = re.compile(r"^--to-revision=(\d+)$")


def workload_rollouts(
    workloads: Sequence[tuple[str, dict[str, Any]]],
    revisions: Sequence[dict[str, Any]],
    since: datetime,
    until: datetime,
    done: Sequence[CommandRow] = (),
) -> tuple[list[Rollout], list[str]]:
    """Each revision of a StatefulSet or DaemonSet created between `since` and `until` (one a rollback brought back
    later named by its number now), and each rollback to a current revision that `done` (this server's applied
    mitigations) dates, oldest first; plus a sentence for each rollback made outside this server (undated)."""
    found, undated = [], []
    for kind, workload in workloads:
        name = str(meta(workload).name)
        owned = cr.owned_revisions(workload, list(revisions))
        dates = [(parse_time(meta(r).creation_timestamp), cr.number(r)) for r in owned]
        for revision, (created, number) in zip(owned, dates, strict=True):
            if created is not None and since <= created <= until:
                images = tuple(images_of(cr.template_of(revision)))
                others = [d for r, d in zip(owned, dates, strict=True) if r is not revision]
                again = renumbered_after(created, number, others)
                now = again and revision is cr.current_revision(workload, owned)
                found.append(Rollout(name, number, created, images, kind=kind, renumbered=again, current=now))
        back = brought_back(workload, owned)
        if back is None:
            continue
        revision, replaced_at = back
        images = tuple(images_of(cr.template_of(revision)))
        ours = [finished(row) for row in done if rolled_back_by(row, kind, name) and finished(row) >= replaced_at]
        if ours and since <= ours[-1] <= until:
            found.append(Rollout(name, cr.number(revision), ours[-1], images, rollback=True, kind=kind))
        elif not ours and since <= replaced_at <= until:  # after a revision of the window: in the window too
            undated.append(
                f"{kind}/{name} runs revision {cr.number(revision)} ({', '.join(images)}) again: a rollback made "
                f"outside this server, after {replaced_at.strftime('%H:%M:%S UTC')} (when the revision it replaced "
                "was created); the cluster does not record when"
            )
    return sorted(found, key=lambda r: r.at), undated


def brought_back(workload: dict[str, Any], owned: list[dict[str, Any]]) -> tuple[dict[str, Any], datetime] | None:
    """The current revision when a rollback brought it back (renumbered after a revision created later), with the
    creation of the newest such later revision: the rollback came after it."""
    current = cr.current_revision(workload, owned)
    created = parse_time(meta(current).creation_timestamp) if current is not None else None
    if current is None or created is None:
        return None
    later = [
        when
        for r in owned
        if (when := parse_time(meta(r).creation_timestamp)) is not None
        and when > created
        and cr.number(r) < cr.number(current)
    ]
    return (current, max(later)) if later else None


def rolled_back_by(row: CommandRow, kind: str, name: str) -> bool:
    """Whether this applied mitigation was a rollback_workload of the workload."""
    target = row.plan.get("target") or {}
    return (
        row.tool == "rollback_workload" and str(target.get("kind", "")).lower() == kind and target.get("name") == name
    )


class Replaced(NamedTuple):
    """The revision a rollback_workload moved away from."""

    revision: int
    rolled_out: datetime | None
    images: list[str]
    changes: tuple[str, ...]


def replaced_revision(row: CommandRow, workload: dict[str, Any] | None, owned: list[dict[str, Any]]) -> Replaced | None:
    """From the plan's undo command (`rollout undo ... --to-revision=N`, N the revision it replaced) and the
    workload's revisions as read now."""
    words = shlex.split(str(row.plan.get("undo_command") or ""))
    numbers = [int(m.group(1)) for word in words if (m := TO_REVISION.match(word))]
    if not numbers:
        return None
    number = numbers[0]
    revision = next((r for r in owned if cr.number(r) == number), None)
    template = cr.template_of(revision) if revision is not None else None
    current = ((workload or {}).get("spec") or {}).get("template")
    changes: tuple[str, ...] = ()
    if template is not None and current is not None and not cr.same_template(template, current):
        changes = tuple(suspected_change(current, template))
    return Replaced(
        revision=number,
        rolled_out=parse_time(meta(revision).creation_timestamp) if revision is not None else None,
        images=images_of(template) if template is not None else [],
        changes=changes,
    )
