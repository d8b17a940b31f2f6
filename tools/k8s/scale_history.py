"""A ReplicaSet's scale history from its deployment's ScalingReplicaSet events, read as a chain.

Events are not authenticated: any workload allowed to create events can write "Scaled down replica set api-695b
from 40 to 2" beside the controller's real "to 2 from 3" (source.component is free text). So the steps of one
ReplicaSet are read in time order as a chain, each step's "from" the previous step's "to": a step that breaks the
chain is left out and said so, and when a break leaves two claims about one cut, the smaller is taken (a forged
step may be dated before the real one, so time order alone cannot say which is which); a step dated before the
ReplicaSet was created is left out too. A chain with more steps
than the ReplicaSet's generation counts (every change of spec.replicas bumps it) holds steps no controller made:
none of its events is taken.

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.k8s.events import event_time

# The deployment controller's message, "Scaled down replica set web-6d4f from 6 to 2" (older releases: "... to 2";
# some write "... to 2 from 6").
SCALED = re.compile(
    r"^Scaled (?P<direction>up|down) replica set (?P<rs>\S+) "
    r"(?:from (?P<before>\d+) to (?P<after>\d+)|to (?P<after_only>\d+)(?: from (?P<after_before>\d+))?)$"
)
OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Step:
    when: datetime
    down: bool
    before: int | None  # None: an older message that says only "to N"
    after: int
    message: str


@dataclass(frozen=True)
class Cut:
    """The latest scale-down of the ReplicaSet from more than a count, as far as its events can be trusted."""

    before: int | None  # None: the events were not taken
    message: str  # the event that shows it
    doubts: tuple[str, ...] = ()  # why events were left out or a smaller claim taken


def steps_of(events: list[dict[str, Any]], replicaset: str) -> list[Step]:
    """The ScalingReplicaSet steps of one ReplicaSet, oldest first (one per distinct message)."""
    found: dict[str, Step] = {}
    for event in events:
        message = str(event.get("message") or "").strip()
        match = SCALED.match(message)
        if event.get("reason") != "ScalingReplicaSet" or match is None or match.group("rs") != replicaset:
            continue
        before = match.group("before") or match.group("after_before")
        after = match.group("after") or match.group("after_only")
        step = Step(
            event_time(event) or OLDEST,
            match.group("direction") == "down",
            int(before) if before is not None else None,
            int(after),
            message,
        )
        if message not in found or step.when > found[message].when:
            found[message] = step
    return sorted(found.values(), key=lambda s: (s.when, s.message))


def chain(steps: list[Step]) -> tuple[list[Step], list[tuple[Step, Step]]]:
    """(the steps that follow on from each other, oldest first; (the step kept before, the step that disagrees with
    it) for each break)."""
    kept: list[Step] = []
    broken: list[tuple[Step, Step]] = []
    for step in steps:
        if kept and step.before is not None and step.before != kept[-1].after:
            broken.append((kept[-1], step))
            continue
        kept.append(step)
    return kept, broken


def first_count(events: list[dict[str, Any]], replicaset: str) -> int | None:
    """The count the ReplicaSet had before the first scale its events show, read as a chain: where a step breaks it
    (one of the two was not the controller's, and either may be dated first), the smaller claim. None: no step says
    a count before it."""
    kept, broken = chain(steps_of(events, replicaset))
    claims = [s.before for s in kept if s.before is not None][:1]
    claims += [s.before for _, s in broken if s.before is not None]
    return min(claims, default=None)


def latest_cut(
    events: list[dict[str, Any]],
    replicaset: str,
    below: int,
    generation: int | None = None,
    created: datetime | None = None,
) -> Cut | None:
    """The latest scale-down of `replicaset` from more than `below` replicas its events show, read as a chain
    (see the module's docstring); `generation` and `created`: the ReplicaSet's metadata.generation and
    creationTimestamp, when known. None: no cut."""
    steps = steps_of(events, replicaset)
    early = [s for s in steps if created is not None and s.when < created]
    steps = [s for s in steps if s not in early]
    kept, broken = chain(steps)
    cuts = [s for s in kept if s.down and s.before is not None and s.before > below]
    changes = [s for s in kept if s.before not in (None, 0)]  # a step from 0 may be the ReplicaSet's creation
    if generation is not None and len(changes) > max(generation - 1, 0):
        return Cut(
            None,
            "",
            (
                f"its events show {len(changes)} scales of ReplicaSet {replicaset}, its generation at most "
                f"{max(generation - 1, 0)}: some were not written by the controller, none is taken",
            ),
        )
    # A break means one side was not the controller's, and either may be dated first: the smaller claim stands.
    rivals = [s for pair in broken for s in pair if s.down and s.before is not None and s.before > below]
    taken = min([*cuts[-1:], *rivals], key=lambda s: s.before or 0, default=None)
    doubts = tuple(
        f'"{s.message}" does not follow "{p.message}" (that left {p.after}, not {s.before})'
        + ("" if taken is not None and s.before == taken.before else ": left out")
        for p, s in broken
    ) + tuple(f'"{s.message}" is dated before ReplicaSet {replicaset} was created: left out' for s in early)
    if taken is None:
        return Cut(None, "", doubts) if doubts else None
    return Cut(taken.before, taken.message, doubts)
