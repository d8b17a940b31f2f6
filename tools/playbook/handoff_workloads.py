"""The handoff's StatefulSet and DaemonSet facts, from their ControllerRevisions: each revision created in the
incident window is a rollout on the timeline, and the revision a rollback_workload moved away from is a suspect
with what it changed. Pure.

A rollback reuses an old ControllerRevision (under a new number) and creates none, and the object records no time
for it: a rollback made outside this server is not dated here (one made through it is on the journal's side).

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
from incident_response.tools.playbook.handoff_rollouts import Rollout, suspected_change

TO_REVISION = re.compile(r"^--to-revision=(\d+)$")


def workload_rollouts(
    workloads: Sequence[tuple[str, dict[str, Any]]],
    revisions: Sequence[dict[str, Any]],
    since: datetime,
    until: datetime,
) -> list[Rollout]:
    """Each revision of a StatefulSet or DaemonSet created between `since` and `until`, oldest first."""
    found = []
    for kind, workload in workloads:
        for revision in cr.owned_revisions(workload, list(revisions)):
            created = parse_time(meta(revision).creation_timestamp)
            if created is not None and since <= created <= until:
                images = tuple(images_of(cr.template_of(revision)))
                found.append(Rollout(str(meta(workload).name), cr.number(revision), created, images, kind=kind))
    return sorted(found, key=lambda r: r.at)


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
