"""How many replicas fix a load problem in one round. One pure function, used by assess_namespace's next call,
evaluate_decision's SCALE tree and the scale_deployment/override_hpa planners' warnings, so they never disagree.

CPU usage pinned at the limit is a floor on demand, not a measure of it: the pod is throttled, its share of the
traffic is larger than what it is allowed to use. Scaling such a deployment by +50% leaves every pod still pinned
(and failing readiness), round after round. So the count comes from what is known, in this order:
1. the HPA's own count beyond its max (status.desiredReplicas, else its formula on current metrics; from pinned
   usage that formula is itself a floor, so never less than the unknown-demand step);
2. the CPU the pods use when none is pinned (a measure of the load): enough replicas to run each at HEADROOM of
   its limit;
3. the replica count the deployment had before (the manifest last applied, a recent scale-down event, the count
   an earlier revision ran at); a count only scale events show (nothing recorded; any workload allowed to create
   events can write them) no further than the step below, the rest said for the human to confirm;
4. with demand unknown, the HPA's default scale-up policy: the larger of +100% and +4 pods.
Then it is capped by the replicas that fit on the nodes and by the bound the planners enforce without allow_large.
The Demand is gathered from the cluster's objects by tools/playbook/demand_facts.py.

Layer: tools.playbook.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from incident_response.tools.k8s.quantity import cpu_text

HEADROOM = 0.8  # size so the measured load runs each pod at 80% of its CPU limit (the HPA's default target)
STEP_FACTOR = 2  # the HPA's default scale-up policy: +100% ...
STEP_PODS = 4  # ... or +4 pods, whichever is larger

Source = Literal["hpa", "load", "previous", "step"]


@dataclass(frozen=True)
class Previous:
    replicas: int
    where: str  # what shows it, for the plan: "the manifest last applied (...)"
    claimed_by: str | None = None  # the event that shows it, when only events do (nothing recorded)


def event_claim(replicas: int) -> str:
    """What to tell the human about a count only ScalingReplicaSet events show (anyone may write events)."""
    return f"only events claim it had {replicas} (no record does): confirm with the human"


@dataclass(frozen=True)
class HpaCount:
    name: str
    max_replicas: int
    desired: int | None = None  # status.desiredReplicas
    formula: int | None = None  # ceil(current * utilization / target) on its current metrics


@dataclass(frozen=True)
class Demand:
    """What is known about a deployment's load, from the cluster."""

    deployment: str
    replicas: int
    measured: int = 0  # pods with a CPU measure
    pinned: int = 0  # of those, pods whose CPU use is at the limit
    unready: int = 0  # running pods failing readiness (not crashing)
    load: float | None = None  # total CPU use of the measured pods, cores
    cpu_limit: float | None = None  # one pod's CPU limit, cores (None: unlimited)
    hpa: HpaCount | None = None
    previous: Previous | None = None
    fits: int | None = None  # replicas that fit on the nodes (None: unknown)
    bound: int | None = None  # the most a plan may ask for without allow_large

    @property
    def saturated(self) -> bool:
        return self.pinned > 0


@dataclass(frozen=True)
class Sizing:
    replicas: int
    source: Source
    basis: str  # where the number came from
    needed: int  # what the source calls for, before the +1 floor and the caps
    current: int = 0
    hidden: str | None = None  # with pinned pods: usage at the limit hides the real demand
    capped: str | None = None  # what cut the number down (node room, the planners' bound)
    claim: str | None = None  # a count only events show, not taken beyond the step: for the human to confirm

    def text(self) -> str:
        """One sentence for plans and verdicts: why this many."""
        parts = [self.hidden] if self.hidden else []
        floor = ""
        if self.replicas > self.needed:  # what is known calls for no more than it has: the smallest scale-up
            floor = f"; {self.replicas} is the smallest step up from the {self.current} it has"
            if self.source == "load":
                floor = f": no more than the {self.current} it has, so {self.replicas}, the smallest step up"
        parts.append(f"{self.replicas} replicas: {self.basis}{floor}" + (f"; {self.capped}" if self.capped else ""))
        if self.claim:
            parts.append(self.claim[0].upper() + self.claim[1:])
        return ". ".join(parts) + "."


def step(replicas: int) -> int:
    return max(replicas * STEP_FACTOR, replicas + STEP_PODS)


def _known(demand: Demand) -> tuple[int, Source, str]:
    """The count what is known calls for, its source and the clause saying so (before caps)."""
    n, hpa = demand.replicas, demand.hpa
    if hpa is not None and hpa.desired is not None and hpa.desired > hpa.max_replicas:
        return hpa.desired, "hpa", f"HPA {hpa.name} wants {hpa.desired} (status.desiredReplicas), above its max"
    if hpa is not None and hpa.formula is not None and hpa.formula > n:
        if demand.saturated and hpa.formula < step(n):
            return (
                step(n),
                "hpa",
                f"HPA {hpa.name}'s formula asks for at least {hpa.formula} from throttled usage, so at least the "
                f"HPA's default scale-up step (the larger of +100% and +{STEP_PODS} pods)",
            )
        floor = " at least" if demand.saturated else ""
        return (
            hpa.formula,
            "hpa",
            f"HPA {hpa.name}'s formula (current x utilization / target) asks for{floor} {hpa.formula}",
        )
    if not demand.saturated and demand.load and demand.cpu_limit and demand.measured:
        wanted = math.ceil(demand.load / (demand.cpu_limit * HEADROOM) - 1e-9)
        return (
            wanted,
            "load",
            f"its {demand.measured} measured pods use {cpu_text(demand.load)} CPU together, none at its "
            f"{cpu_text(demand.cpu_limit)} limit; that load needs {wanted} {'replica' if wanted == 1 else 'replicas'} "
            f"at {round(HEADROOM * 100)}% of the limit (the HPA's default target)",
        )
    previous = demand.previous
    if previous is not None and previous.replicas > n and (previous.claimed_by is None or previous.replicas <= step(n)):
        return previous.replicas, "previous", f"the count it had before ({previous.where})"
    return (
        step(n),
        "step",
        f"demand is unknown, so the HPA's default scale-up step: the larger of +100% and +{STEP_PODS} pods",
    )


def size(demand: Demand) -> Sizing:
    """The replicas to ask for, where the number came from, and what capped it."""
    n = demand.replicas
    wanted, source, basis = _known(demand)
    replicas = max(wanted, n + 1)
    capped = None
    if demand.fits is not None and n < demand.fits < replicas:
        replicas, capped = demand.fits, f"capped at the {demand.fits} that fit on the schedulable nodes"
    if demand.bound is not None and n < demand.bound < replicas:
        replicas, capped = demand.bound, f"capped at {demand.bound}, the most a plan asks for without allow_large"
    previous = demand.previous
    claim = None
    if source == "step" and previous is not None and previous.claimed_by is not None and previous.replicas > n:
        # Taken no further than the step demand-unknown scaling takes anyway; beyond it, the human's call.
        claim = event_claim(previous.replicas)
    hidden = None
    if demand.saturated:
        failing = f", {demand.unready} failing readiness" if demand.unready else ""
        hidden = (
            f"{demand.deployment}'s CPU is pinned at its limit on {demand.pinned} of {demand.measured} "
            f"measured pods{failing}: usage at the limit hides the real demand"
        )
    return Sizing(replicas, source, basis, needed=wanted, current=n, hidden=hidden, capped=capped, claim=claim)


def shortfall(sizing: Sizing, asked: int, current: int, what: str) -> str | None:
    """A planner's warning when the count asked for is below what the sizing calls for. Growing, the sizing's count
    is the bar when something shows demand (a source other than the blind step, or pinned pods); shrinking (or
    restoring a smaller count), pinned pods or a measured need (load or the HPA's formula) are."""
    known = sizing.source != "step" or sizing.hidden is not None  # a measure, or pinned pods (demand > capacity)
    if current < asked < sizing.replicas and known:
        bar = sizing.replicas
    elif asked < current and sizing.hidden is not None:
        bar = sizing.replicas  # pods pinned at their limit: fewer of them can only be worse
    elif asked < current and sizing.source in ("load", "hpa") and asked < sizing.needed:
        bar = sizing.needed
    else:
        shown = (sizing.hidden or sizing.claim) and asked > current  # a count only an event claims: always said
        return f"Sized from what is known: {sizing.text()}" if shown else None
    return (
        f"{what} {asked} is below what is known to be needed ({bar}): {sizing.text()} With {asked}, the pods may be "
        "saturated (and fail readiness), and the next round scale again."
    )
