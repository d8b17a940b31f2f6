"""The playbook's three mitigation decision trees (should I roll back, scale, isolate?) as pure functions.

Each walk takes what the cluster showed (facts gathered by tools/decide/evaluate.py) and what only a human can say (the
caller's answers), asks the tree's questions in order, records who answered each one and where the tree went, and
ends in one outcome. A question the cluster cannot answer and the caller left open stops the walk with
NEEDS_ANSWER, naming the argument that answers it, rather than guessing.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, Field

from incident_response.tools.k8s.oom_runs import EITHER, PEAK, OomRun, long_runs, reading, shape
from incident_response.tools.playbook.config_failures import restores_instead
from incident_response.tools.playbook.rollback_checks import SafetyStatus
from incident_response.tools.playbook.sizing import Demand, HpaCount, Sizing, size

TreeVerdict = Literal["PROCEED", "TRY_INSTEAD", "DO_NOT", "FIX_FIRST", "NEEDS_ANSWER", "CHECK_OLDER", "NOTHING_TO_DO"]
Answer = Literal["yes", "no", "unknown"]
Source = Literal["cluster", "caller", "unanswered"]
Alternative = Literal["ROLLBACK", "SCALE", "ISOLATE", "VERTICAL_SCALING"]

RECENT_MINUTES = 120
# After the human ruled a rollback out: what is left, without sending the walk back to the rollback.
FIX_FORWARD = (
    "Fix forward (a new revision); scale or isolate only where the cluster shows load or a poisoned component (walk "
    "SCALE or ISOLATE with the same answer: they no longer send you back to the rollback)"
)
MAX_EVIDENCE = 5
# What more replicas do about OOM kills: nothing for a leak or a burst; a peak's memory may follow the requests each
# pod serves, so spreading them may help (tools/k8s/oom_runs.py).
REPLICAS = {
    PEAK: "more replicas help only if its memory follows the requests each pod serves",
    EITHER: "more replicas help only if it is a peak and its memory follows the requests each pod serves",
}


class TreeStep(BaseModel):
    question: str
    answer: Answer
    source: Source = Field(description="cluster: observed; caller: the human's answer; unanswered: nobody said.")
    evidence: list[str] = Field(description=f"What the answer rests on (at most {MAX_EVIDENCE} lines).")
    then: str = Field(description="Where the tree went from this answer.")


class Conclusion(BaseModel):
    verdict: TreeVerdict
    reason: str
    alternative: Alternative | None = None
    question: str | None = Field(default=None, description="With NEEDS_ANSWER: what to ask the human.")
    answer_with: str | None = Field(default=None, description="With NEEDS_ANSWER: the argument carrying the answer.")
    next_tool: str | None = None
    next_arguments: dict[str, Any] = Field(default_factory=dict)


@dataclass
class Answers:
    """The caller's answers; None = not answered."""

    data_integrity_at_risk: bool | None = None
    can_go_offline: bool | None = None
    migrations_forward_only: bool | None = None
    stateful_changes_uncertain: bool | None = None
    load_related: bool | None = None
    revision_known_good: bool | None = None


@dataclass
class Elsewhere:
    """What the rest of the namespace shows, for choosing the action to try instead."""

    namespace: str
    recent_rollout: str | None = None  # rolled out in the last 2 hours (failing first), or a failing canary
    poisoning: bool = False  # some component's failures name another component
    failing_node: str | None = None  # a NotReady node the failing pods are concentrated on
    # components whose pods fail with nothing to explain it (the assessment's INVESTIGATE) -> the read that finds why:
    # no SCALE is suggested for them, and a DO_NOT names that read as its next call
    reads: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # alternatives the human's answers rule out (forward-only migrations, data older code may not read: no ROLLBACK)
    ruled_out: frozenset[str] = frozenset()
    # components the assessment found nothing to explain (INVESTIGATE): no deploy, load or other component is its
    # cause, so no alternative is suggested for them at all, only their read
    unexplained: frozenset[str] = frozenset()
    # of those, the rule the assessment named (its pods fail on a missing config key, a quota, ...): said, not "nothing"
    causes: dict[str, str] = field(default_factory=dict)
    # components with failing pods or unavailable replicas: any other one asked about is quiet, nothing to act on
    troubled: frozenset[str] | None = None


@dataclass
class Walk:
    steps: list[TreeStep] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)
    outcome: Conclusion | None = None

    def go(
        self, question: str, answer: Answer, source: Source, evidence: list[str], then: str = "next question"
    ) -> None:
        self.steps.append(
            TreeStep(question=question, answer=answer, source=source, evidence=evidence[:MAX_EVIDENCE], then=then)
        )

    def stop(self, question: str, answer: Answer, source: Source, evidence: list[str], outcome: Conclusion) -> Walk:
        then = outcome.verdict + (f" {outcome.alternative}" if outcome.alternative else "")
        self.go(question, answer, source, evidence, then=f"stop: {then}")
        self.outcome = outcome
        return self

    def end(self, outcome: Conclusion) -> Walk:
        self.outcome = outcome
        return self


def needs(question: str, argument: str, reason: str) -> Conclusion:
    return Conclusion(verdict="NEEDS_ANSWER", reason=reason, question=question, answer_with=argument)


def try_instead(where: Elsewhere, options: tuple[Alternative, ...], deployment: str | None, why: str) -> Conclusion:
    """TRY_INSTEAD the first alternative the namespace shows evidence for; DO_NOT when none has any. SCALE is no
    alternative for a deployment whose pods fail with nothing to explain it: the DO_NOT then names the read."""
    read = where.reads.get(deployment) if deployment else None
    for option in options:
        if deployment in where.unexplained or (read is not None and option == "SCALE"):
            continue  # the assessment's INVESTIGATE already says what comes first (a read, or a human's fix)
        if option in where.ruled_out:
            continue
        if option == "ROLLBACK" and where.recent_rollout:
            arguments = {"namespace": where.namespace, "action": "ROLLBACK", "deployment": where.recent_rollout}
        elif option == "ISOLATE" and (where.poisoning or where.failing_node):
            arguments = {"namespace": where.namespace, "action": "ISOLATE"}
            if where.failing_node and not where.poisoning:
                arguments["node"] = where.failing_node
        elif option == "SCALE":
            arguments = {"namespace": where.namespace, "action": "SCALE"}
            if deployment:
                arguments["deployment"] = deployment
        else:
            continue
        return Conclusion(
            verdict="TRY_INSTEAD",
            alternative=option,
            reason=f"{why}; walk the {option} tree next",
            next_tool="evaluate_decision",
            next_arguments=arguments,
        )
    if read is not None:
        tool, arguments = read
        cause = where.causes.get(deployment or "")
        # The assessment's INVESTIGATE may name the cause (a missing config key, a quota): said, not "nothing".
        fails = (
            f"its pods fail as assess_namespace says ({cause}): that comes first"
            if cause
            else "its pods fail with nothing to explain it, so find out why before acting"
        )
        return Conclusion(
            verdict="DO_NOT",
            reason=f"{why}, and nothing points to {' or '.join(options)} either: {fails} ({tool})",
            next_tool=tool,
            next_arguments=dict(arguments),
        )
    if deployment and where.troubled is not None and deployment not in where.troubled:
        return Conclusion(
            verdict="NOTHING_TO_DO",
            reason=f"{why}, nothing points to {' or '.join(options)} either, and no pod of {deployment} fails: there "
            "is nothing to act on now (verify_recovery watches it)",
        )
    return Conclusion(
        verdict="DO_NOT",
        reason=f"{why}, and nothing points to {' or '.join(options)} either: read the failing pods' logs and events "
        "(get_logs, list_events) before acting",
    )


def fixed_forward(where: Elsewhere, name: str, reason: str) -> Conclusion:
    """DO_NOT roll back: fix forward; where the deployment's pods fail on their own, the read that says what to fix
    is the next call."""
    tool, arguments = where.reads.get(name) or (None, {})
    return Conclusion(verdict="DO_NOT", reason=reason, next_tool=tool, next_arguments=dict(arguments))


# --- Should I roll back? ---------------------------------------------------------------------------------------


@dataclass
class SafetyCheck:
    status: SafetyStatus
    detail: str
    evidence: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # what the check leaves to a person

    def question(self, fallback: str) -> str:
        return " ".join(self.questions) or f"{self.detail} {fallback}"


def stop_on_shared_config(
    walk: Walk, name: str, target_revision: int | None, config: SafetyCheck, where: Elsewhere
) -> Walk:
    """check_rollback_safety's CHECK FIRST: the target's pods fail on the same ConfigMap/Secret key (or volume); no
    tool restores it (the human does), and the read the assessment names says since when. Every rollback walk ends
    here alike."""
    tool, read = where.reads.get(name) or (None, {})
    return walk.stop(
        f"Would revision {target_revision} of {name} start without what its pods fail on now?",
        "no",
        "cluster",
        config.evidence,
        Conclusion(
            verdict="FIX_FIRST",
            reason=f"{config.detail}; then evaluate again if pods still fail",
            next_tool=tool,
            next_arguments=dict(read),
        ),
    )


@dataclass
class RollbackFacts:
    deployment: str
    minutes_since_rollout: int | None  # None: no rollout time visible
    rollout_evidence: list[str]
    safety: dict[str, SafetyCheck] = field(default_factory=dict)  # check_rollback_safety's items by check
    target_revision: int | None = None
    to_revision: int | None = None  # the caller's chosen revision
    questions_for_human: list[str] = field(default_factory=list)
    paused: bool = False  # kubectl refuses to roll back a paused deployment until it is resumed
    helm_note: str | None = None  # the deployment belongs to a Helm release: why helm rollback may be the one
    # its rollout has not finished and only its new pods fail (tools/k8s/unfinished.py): the current change whatever
    # its age; the evidence, else empty
    unfinished: list[str] = field(default_factory=list)


def rollback_tree(facts: RollbackFacts, answers: Answers, where: Elsewhere) -> Walk:
    walk = Walk()
    name, ns = facts.deployment, where.namespace
    q = f"Was deployment {name} rolled out in the last 2 hours?"
    minutes = facts.minutes_since_rollout
    if facts.unfinished and (minutes is None or minutes > RECENT_MINUTES):
        q = f"Was deployment {name} rolled out in the last 2 hours, or has its rollout not finished?"
        walk.go(q, "yes", "cluster", [*facts.rollout_evidence, *facts.unfinished])
    elif minutes is None or minutes > RECENT_MINUTES:
        answer: Answer = "unknown" if minutes is None else "no"
        why = f"deployment {name} has no rollout in the last 2 hours to undo"
        return walk.stop(
            q, answer, "cluster", facts.rollout_evidence, try_instead(where, ("ISOLATE", "SCALE"), name, why)
        )
    else:
        walk.go(q, "yes", "cluster", facts.rollout_evidence)

    if facts.paused and facts.target_revision is not None:
        # A precondition, not a reason to abandon the rollback: nothing here plans a resume, the human runs it.
        resume = f"kubectl rollout resume deployment/{name} -n {ns}"
        return walk.stop(
            f"Can deployment {name} be rolled back now (its rollout not paused)?",
            "no",
            "cluster",
            [f"deployment {name} has spec.paused: true"],
            Conclusion(
                verdict="FIX_FIRST",
                reason=f"deployment {name} is paused and kubectl refuses to roll back a paused deployment: have the "
                f"human run `{resume}` (the paused rollout then continues until the rollback replaces it), then "
                "evaluate again",
            ),
        )

    q = "Is there an earlier revision, known to have worked, to go back to?"
    previous, known, image = (facts.safety.get(k) for k in ("previous_revision", "known_good", "image_available"))
    evidence = [
        f"{k}: {c.status}: {c.detail}"
        for k, c in facts.safety.items()
        if k in ("previous_revision", "known_good", "image_available")
    ]
    # A question the human answered is no caution any more.
    walk.cautions += [
        q for q in facts.questions_for_human if answers.migrations_forward_only is None or "migration" not in q
    ]
    if previous is not None and previous.status == "blocking" and facts.target_revision is not None:
        # The revision chosen is the one running now: another revision may still be good to go back to.
        return walk.stop(
            q,
            "no",
            "cluster",
            evidence,
            Conclusion(
                verdict="CHECK_OLDER",
                reason=f"{previous.detail}: pick another revision of {name} (rollout_history) and evaluate again with "
                "to_revision",
                next_tool="rollout_history",
                next_arguments={"namespace": ns, "deployment": name},
            ),
        )
    if previous is None or previous.status == "blocking":
        why = previous.detail if previous is not None else f"no earlier revision of deployment {name} was found"
        return walk.stop(q, "no", "cluster", evidence, try_instead(where, ("ISOLATE", "SCALE"), name, why))
    doubtful = [c for c in (known, image) if c is not None and c.status in ("warning", "blocking")]
    if known in doubtful and known is not None and known.status == "warning" and answers.revision_known_good:
        doubtful.remove(known)  # the human vouches for it: what the cluster could not show is answered
        evidence.append("the human says the revision worked when it ran")
    if doubtful:
        target = f"revision {facts.target_revision}" if facts.target_revision else "the previous revision"
        return walk.stop(
            q,
            "no",
            "cluster",
            evidence + [e for c in doubtful for e in c.evidence],
            Conclusion(
                verdict="CHECK_OLDER",
                reason=f"{target} of {name} is not known to be good ({'; '.join(c.detail for c in doubtful)}): look at "
                "older revisions and evaluate again with to_revision"
                + (
                    ", or, if the human knows it worked, call again with revision_known_good=true"
                    if known in doubtful and answers.revision_known_good is None
                    else ""
                ),
                next_tool="rollout_history",
                next_arguments={"namespace": ns, "deployment": name},
            ),
        )
    unseen = [c for c in (known, image) if c is None or c.status == "not_visible"]
    walk.go(q, "unknown" if unseen else "yes", "cluster", evidence)
    walk.cautions += [c.detail for c in unseen if c is not None]

    config = facts.safety.get("config")
    if config is not None and config.status == "warning" and restores_instead(config.detail):
        return stop_on_shared_config(walk, name, facts.target_revision, config, where)

    q = f"Does the current revision of {name} carry database migrations that only go forward?"
    migrations = facts.safety.get("migrations")
    signs = migrations.evidence if migrations is not None else []
    if answers.migrations_forward_only is not None:
        if answers.migrations_forward_only:
            return walk.stop(
                q,
                "yes",
                "caller",
                signs,
                fixed_forward(
                    where,
                    name,
                    f"the current revision of {name} ran forward-only migrations: older code would meet a schema it "
                    f"does not know. {FIX_FORWARD}",
                ),
            )
        walk.go(q, "no", "caller", signs)
    elif migrations is not None and migrations.status in ("warning", "blocking"):
        return walk.stop(
            q,
            "unknown",
            "unanswered",
            signs or [migrations.detail],
            needs(
                migrations.question("Are these migrations forward-only (no down migration, or a destructive change)?"),
                "migrations_forward_only",
                "the cluster shows signs of migrations in the current revision; only a human knows whether they can be "
                "undone",
            ),
        )
    else:
        walk.go(
            q,
            "unknown",
            "unanswered",
            [migrations.detail] if migrations else ["migrations were not checked"],
            then="no signs in the cluster: next question",
        )
        walk.cautions.append(
            "No migration signs were visible, but the cluster cannot prove none ran: confirm with the human "
            "(migrations_forward_only) if the service owns a database."
        )

    q = f"Did the current revision change stored data or formats that older code of {name} may not read?"
    stateful = facts.safety.get("stateful")
    state_evidence = (stateful.evidence or [stateful.detail]) if stateful is not None else []
    if answers.stateful_changes_uncertain is not None:
        if answers.stateful_changes_uncertain:
            return walk.stop(
                q,
                "yes",
                "caller",
                state_evidence,
                fixed_forward(
                    where,
                    name,
                    f"nobody is sure older code of {name} reads the data the current revision wrote: a rollback could "
                    f"corrupt or lose it. {FIX_FORWARD}",
                ),
            )
        walk.go(q, "no", "caller", state_evidence)
    elif stateful is not None and stateful.status in ("warning", "blocking"):
        return walk.stop(
            q,
            "unknown",
            "unanswered",
            state_evidence,
            needs(
                stateful.question(
                    "Could the current revision have written data or formats the previous one cannot read?"
                ),
                "stateful_changes_uncertain",
                f"deployment {name} keeps state in the cluster; only a human knows whether its data format changed",
            ),
        )
    elif stateful is not None and stateful.status == "ok":
        walk.go(q, "no", "cluster", state_evidence)
    else:
        walk.go(q, "unknown", "unanswered", state_evidence or ["stateful dependencies were not checked"])

    config = facts.safety.get("config")
    if config is not None and config.status == "warning":  # a rollback restores no ConfigMap or Secret
        walk.cautions.insert(0, f"Config: {config.detail}.")
    if facts.helm_note:
        walk.cautions.insert(0, facts.helm_note[0].upper() + facts.helm_note[1:] + ".")  # first: never cut by the cap
    arguments: dict[str, Any] = {"namespace": ns, "deployment": name}
    if facts.to_revision is not None:
        arguments["to_revision"] = facts.to_revision
    target = f"revision {facts.target_revision}" if facts.target_revision else "the previous revision"
    return walk.end(
        Conclusion(
            verdict="PROCEED",
            reason=f"nothing the cluster shows or the human said stops it: roll deployment {name} back to {target}",
            next_tool="rollback_deployment",
            next_arguments=arguments,
        )
    )


# --- Should I scale? -------------------------------------------------------------------------------------------


@dataclass
class Hpa:
    name: str
    min_replicas: int
    max_replicas: int
    saturated: bool
    detail: str


@dataclass
class ScaleFacts:
    deployment: str
    replicas: int
    metrics_available: bool
    hpa: Hpa | None = None
    load_evidence: list[str] = field(default_factory=list)  # pods at or near a CPU or memory limit
    oom_pods: list[str] = field(default_factory=list)
    oom_runs: list[OomRun] = field(default_factory=list)  # the OOMKilled pods' last killed runs (tools/k8s/oom_runs)
    broken_pods: list[str] = field(default_factory=list)  # "pod (why)": failing on their own, not from load
    wanted: int | None = None  # replicas the HPA's formula calls for, when known
    fits: int | None = None  # replicas that fit on the nodes (bound now + what allocatable holds), None: unknown
    per_pod: str = ""  # what one more replica requests
    container: str | None = None
    memory_limit: str | None = None
    suggested_memory_limit: str | None = None
    recently_rolled_out: bool = False
    # its rollout has not finished and only its new pods fail (evidence; tools/k8s/unfinished.py), else empty
    unfinished: list[str] = field(default_factory=list)
    demand: Demand | None = None  # what the cluster shows about the load (tools/playbook/sizing.py)
    read: tuple[str, dict[str, Any]] | None = None  # the call that reads why its pods fail (playbook/investigate.py)
    claims: list[str] = field(default_factory=list)  # PVCs its pod template mounts: one volume every replica shares
    # other deployments of the namespace that mount a claim (a database, a queue) and run at their CPU limit
    saturated_stores: list[str] = field(default_factory=list)
    # why the namespace's ResourceQuota admits no more of its pods (tools/mitigate/scaling.quota_warning), else None
    quota_full: str | None = None


def sizing_of(facts: ScaleFacts) -> Sizing:
    """The sizing every caller shares (tools/playbook/sizing.py), within the node room this walk saw."""
    demand = facts.demand
    if demand is None:
        hpa = facts.hpa
        counted = HpaCount(hpa.name, hpa.max_replicas, formula=facts.wanted) if hpa is not None else None
        demand = Demand(facts.deployment, facts.replicas, hpa=counted)
    return size(replace(demand, fits=facts.fits))


def hpa_ceiling(facts: ScaleFacts, replicas: int) -> int:
    """An overridden HPA's new max: room for it to follow the load further (its formula), as far as it fits now."""
    goal = max(facts.wanted or 0, replicas)
    high = facts.hpa.max_replicas if facts.hpa is not None else 0
    return max(high, replicas, min(facts.fits, goal) if facts.fits is not None else goal)


def proposed_replicas(facts: ScaleFacts) -> int:
    """The replicas to ask for: what is known of the demand, within what fits (see sizing_of)."""
    return sizing_of(facts).replicas


def vertical(facts: ScaleFacts, ns: str) -> tuple[str | None, dict[str, Any]]:
    if facts.container and facts.suggested_memory_limit:
        return "set_memory_limit", {
            "namespace": ns,
            "deployment": facts.deployment,
            "container": facts.container,
            "limit": facts.suggested_memory_limit,
        }
    return None, {}


def scale_tree(facts: ScaleFacts, answers: Answers, where: Elsewhere) -> Walk:
    walk = Walk()
    name, ns = facts.deployment, where.namespace
    q = f"Is deployment {name} short of capacity for its load?"
    evidence = (
        ([f"hpa {facts.hpa.name}: {facts.hpa.detail}"] if facts.hpa else [])
        + facts.load_evidence
        + [f"{p} was OOMKilled" for p in facts.oom_pods]
    )
    shows_load = bool(facts.load_evidence or facts.oom_pods or (facts.hpa and facts.hpa.saturated))
    if shows_load:
        walk.go(q, "yes", "cluster", evidence)
    elif facts.metrics_available or facts.hpa is not None:
        why = f"deployment {name} shows no load pressure (no pod near its limits, no HPA at max)"
        return walk.stop(
            q,
            "no",
            "cluster",
            evidence or ["every pod below 90% of its limits"],
            try_instead(where, ("ROLLBACK", "ISOLATE"), name, why),
        )
    elif answers.load_related is None:
        return walk.stop(
            q,
            "unknown",
            "unanswered",
            ["the metrics API is not available and no HPA watches it"],
            needs(
                f"Is {name} slow or failing because of traffic (request rate, latency dashboards)?",
                "load_related",
                "the cluster cannot show load without the metrics API",
            ),
        )
    elif answers.load_related:
        walk.go(q, "yes", "caller", [])
    else:
        why = f"the human says deployment {name} is not overloaded"
        return walk.stop(q, "no", "caller", [], try_instead(where, ("ROLLBACK", "ISOLATE"), name, why))

    q = f"Are the current pods of {name} healthy (none failing on their own)?"
    if facts.oom_pods and facts.unfinished:
        # A raised limit goes into the new revision's template: it would complete the unproven rollout (F27).
        return walk.stop(
            q,
            "no",
            "cluster",
            [*facts.unfinished, *(f"{p} was OOMKilled" for p in facts.oom_pods[:3])],
            Conclusion(
                verdict="TRY_INSTEAD",
                alternative="ROLLBACK",
                reason=f"only the new revision's pods of {name} are OOMKilled while the earlier revision's serve: "
                "raising the limit would complete the unproven rollout over the serving pods; roll back to the "
                "serving revision",
                next_tool="evaluate_decision",
                next_arguments={"namespace": ns, "action": "ROLLBACK", "deployment": name},
            ),
        )
    if facts.oom_pods:
        tool, arguments = vertical(facts, ns)
        limit = f" (limit {facts.memory_limit})" if facts.memory_limit else ""
        runs = {r.pod: r for r in facts.oom_runs}
        # Ready pods killed after hours of running are healthy now (a leak or a peak), due to be killed again.
        serving = long_runs(facts.oom_runs) and not facts.broken_pods
        return walk.stop(
            q,
            "yes" if serving else "no",
            "cluster",
            ([f"the {len(facts.oom_pods)} OOMKilled pods are Ready now"] if serving else [])
            + [
                runs[p].text() + ("" if runs[p].use else limit) if p in runs else f"{p} was OOMKilled{limit}"
                for p in facts.oom_pods
            ],
            Conclusion(
                # Raising the limit is the action itself, not a blocker before it: PROCEED when a tool can plan it.
                verdict="PROCEED" if tool else "FIX_FIRST",
                alternative="VERTICAL_SCALING",
                reason=f"pods of {name} were OOMKilled{shape(name, facts.oom_runs)}; "
                + REPLICAS.get(reading(facts.oom_runs) or "", "more replicas would be killed the same way")
                + (
                    f" (suggested: {facts.suggested_memory_limit}, double the current one; the human decides)"
                    if facts.suggested_memory_limit
                    else ""
                ),
                next_tool=tool,
                next_arguments=arguments,
            ),
        )
    if facts.broken_pods:
        reason = (
            f"{len(facts.broken_pods)} pods of {name} fail on their own: more replicas of a failing pod add no capacity"
        )
        if facts.recently_rolled_out:
            outcome = Conclusion(
                verdict="FIX_FIRST",
                alternative="ROLLBACK",
                reason=reason + f"; {name} was rolled out in the last 2 hours: walk the ROLLBACK tree",
                next_tool="evaluate_decision",
                next_arguments={"namespace": ns, "action": "ROLLBACK", "deployment": name},
            )
        else:
            tool, logs = facts.read or ("get_logs", {"namespace": ns, "pod_or_deployment": f"deployment/{name}"})
            outcome = Conclusion(
                verdict="FIX_FIRST",
                reason=f"{reason}: find out why first ({tool})",
                next_tool=tool,
                next_arguments=dict(logs),
            )
        return walk.stop(q, "no", "cluster", facts.broken_pods, outcome)
    walk.go(
        q, "yes", "cluster", [f"none of the {facts.replicas} replicas is crash-looping, OOMKilled or failing to start"]
    )

    if facts.claims and not facts.oom_pods:
        claims = ", ".join(facts.claims)
        return walk.stop(
            f"Can more replicas of {name} run without sharing one volume?",
            "no",
            "cluster",
            [f"every pod of deployment {name} mounts PVC {claims}"],
            Conclusion(
                verdict="DO_NOT",
                reason=f"more replicas of {name} would all mount PVC {claims} (a ReadWriteOnce claim attaches to one "
                "node; a second copy of a database on one data directory is refused or corrupts it): raise its CPU "
                f"limit (kubectl set resources deployment/{name} --limits=cpu=...) or lower the load on it; no tool "
                "here plans either",
                next_tool=None,
                next_arguments={},
            ),
        )

    q = f"Do the nodes have room for more replicas of {name}?"
    if facts.fits is None:
        walk.go(q, "unknown", "cluster", ["node allocations could not be read (pods cluster-wide)"])
        walk.cautions.append("Node room is unknown: the plan's own capacity check will say if new pods stay Pending.")
    elif facts.fits <= facts.replicas:
        tool, arguments = vertical(facts, ns)
        return walk.stop(
            q,
            "no",
            "cluster",
            [f"no schedulable node has room for another pod requesting {facts.per_pod}"],
            Conclusion(
                verdict="TRY_INSTEAD",
                alternative="VERTICAL_SCALING",
                reason=f"no node has room for another replica of {name}: consider vertical scaling (larger limits on "
                "the pods that run), or free capacity (uncordon a node, add nodes)",
                next_tool=tool,
                next_arguments=arguments,
            ),
        )
    else:
        walk.go(q, "yes", "cluster", [f"about {facts.fits} replicas fit now (each requests {facts.per_pod})"])
    if facts.quota_full and not facts.oom_pods:
        # Nodes with room do not help when the namespace's quota refuses the pods (review-assist7 H12).
        return walk.stop(
            f"Does the namespace's ResourceQuota admit another replica of {name}?",
            "no",
            "cluster",
            [facts.quota_full],
            Conclusion(verdict="FIX_FIRST", reason=facts.quota_full, next_tool=None, next_arguments={}),
        )

    if facts.saturated_stores:
        stores = ", ".join(facts.saturated_stores)
        walk.cautions.append(
            f"{stores} (its pods mount a volume: a database or queue) runs at its CPU limit: if {name} calls it, more "
            f"{name} replicas add load to it and can make the outage worse; check that first (get_logs of {name} for "
            "timeouts to it)"
        )
    sizing = sizing_of(facts)
    replicas = sizing.replicas
    if sizing.hidden:
        walk.cautions.append(sizing.hidden + ".")
    why = f": {sizing.text()}"
    if facts.hpa is not None:
        hpa = facts.hpa
        # Room for the HPA to follow the load further, as far as it fits now.
        ceiling = hpa_ceiling(facts, replicas)
        return walk.end(
            Conclusion(
                verdict="PROCEED",
                reason=f"HPA {hpa.name} manages {name}: raise its bounds to {replicas}..{ceiling} (from "
                f"{hpa.min_replicas}..{hpa.max_replicas}) so it adds replicas now{why}",
                next_tool="override_hpa",
                next_arguments={"namespace": ns, "hpa": hpa.name, "min_replicas": replicas, "max_replicas": ceiling},
            )
        )
    return walk.end(
        Conclusion(
            verdict="PROCEED",
            reason=f"scale deployment {name} from {facts.replicas} to {replicas} replicas{why}",
            next_tool="scale_deployment",
            next_arguments={"namespace": ns, "deployment": name, "replicas": replicas},
        )
    )


# --- Should I isolate? -----------------------------------------------------------------------------------------


@dataclass
class IsolateFacts:
    culprit: str | None  # component whose pods the failing ones name; None: no poisoning seen
    victims: list[str] = field(default_factory=list)
    selector: str = ""
    culprit_pods: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    service: str | None = None  # the Service sending traffic to the culprit's pods
    service_left: list[str] | None = None  # its ready endpoints once the culprit's pods are out
    named: str | None = None  # the deployment the walk is about (the caller's, or the assessment's): where else to go
    # NetworkPolicies admitting ingress to the culprit's pods ("NetworkPolicy X admits ingress to ... from ..."):
    # policies are additive, so a deny-all-ingress policy next to them cuts nothing they admit
    admitted_by: list[str] = field(default_factory=list)


def unless_admitted(isolation: Conclusion, facts: IsolateFacts, namespace: str) -> Conclusion:
    """isolate_network where no NetworkPolicy admits ingress to the culprit's pods; where one does, a deny-all policy
    next to it cuts nothing it admits (isolate_network refuses): taking the pods out of their Service, or editing
    that policy (no tool here does), is what is left."""
    if not facts.admitted_by:
        return isolation
    admits = "; ".join(facts.admitted_by[:3])
    why = (
        f"NetworkPolicies are additive and {admits}: a deny-all-ingress policy next to it cuts nothing it admits, so "
        f"isolate_network cannot isolate the {facts.culprit} pods"
    )
    if facts.service is None:
        return Conclusion(
            verdict="FIX_FIRST",
            reason=f"{why}, and no Service fronts them to take them out of. Have the owner of that policy edit it so "
            "it no longer selects them (kubectl edit networkpolicy), then evaluate again",
        )
    return Conclusion(
        verdict="PROCEED",
        reason=f"{why}: take them out of service {facts.service} instead (traffic reaching them by pod IP keeps "
        "flowing until that policy is edited)",
        next_tool="remove_pods_from_service",
        next_arguments={"namespace": namespace, "service": facts.service, "selector": facts.selector},
    )


def isolate_tree(facts: IsolateFacts, answers: Answers, where: Elsewhere) -> Walk:
    walk = Walk()
    ns = where.namespace
    culprit = facts.culprit
    q = f"Is {culprit or 'one component'} making other services fail?"
    if culprit is None:
        why = "no failing pod names another component's pods as the source of its errors"
        return walk.stop(
            q,
            "no",
            "cluster",
            facts.evidence or [f"Warning events and logs of the failing pods: {why}"],
            try_instead(where, ("ROLLBACK", "SCALE"), facts.named, why),
        )
    walk.go(
        q,
        "yes",
        "cluster",
        [
            f"pods of {', '.join(facts.victims)} fail naming {culprit} pods ({', '.join(facts.culprit_pods[:3])})",
            *facts.evidence,
        ],
    )
    if not facts.selector:
        return walk.end(
            Conclusion(
                verdict="DO_NOT",
                reason=f"the {culprit} pods share no label to select them by: "
                "isolate them by name, by hand, after checking the evidence",
            )
        )
    full = {"namespace": ns, "selector": facts.selector}

    q = "Is data integrity at risk?"
    if answers.data_integrity_at_risk:
        return walk.stop(
            q,
            "yes",
            "caller",
            [],
            unless_admitted(
                Conclusion(
                    verdict="PROCEED",
                    reason=f"data is at risk: isolate the {culprit} pods ({facts.selector}) now with a "
                    "deny-all-ingress policy. It stops traffic into them, not writes they make: if they write bad data "
                    "themselves, also scale their deployment to 0",
                    next_tool="isolate_network",
                    next_arguments=full,
                ),
                facts,
                ns,
            ),
        )
    if answers.data_integrity_at_risk is None:
        walk.go(q, "unknown", "unanswered", [], then="not known to be at risk: next question")
        walk.cautions.append(
            "Nobody said whether data integrity is at risk; if it is, answer "
            "data_integrity_at_risk=true to isolate fully at once."
        )
    else:
        walk.go(q, "no", "caller", [])

    q = f"Can the {culprit} pods be cut off from all traffic safely?"
    served = (
        [f"service {facts.service} keeps {len(facts.service_left)} ready endpoints without them"]
        if facts.service is not None and facts.service_left is not None
        else []
    )
    if answers.can_go_offline is None:
        return walk.stop(
            q,
            "unknown",
            "unanswered",
            served,
            needs(
                f"Can the {culprit} pods ({facts.selector}) go offline entirely (full isolation), or must the service "
                "keep serving from its healthy pods (partial isolation)?",
                "can_go_offline",
                "full or partial isolation depends on whether the service may go offline",
            ),
        )
    if answers.can_go_offline:
        return walk.stop(
            q,
            "yes",
            "caller",
            served,
            unless_admitted(
                Conclusion(
                    verdict="PROCEED",
                    reason=f"full isolation: deny all ingress to the {culprit} pods ({facts.selector})",
                    next_tool="isolate_network",
                    next_arguments=full,
                ),
                facts,
                ns,
            ),
        )
    if facts.service is None:
        return walk.stop(
            q,
            "no",
            "caller",
            ["no Service sends traffic to them"],
            unless_admitted(
                Conclusion(
                    verdict="PROCEED",
                    reason=f"no Service fronts the {culprit} pods, so there is no load balancer to take them out of: a "
                    "deny-all-ingress policy on them alone is the partial isolation",
                    next_tool="isolate_network",
                    next_arguments=full,
                ),
                facts,
                ns,
            ),
        )
    if facts.service_left == []:
        return walk.stop(
            q,
            "no",
            "caller",
            [f"the {culprit} pods are every ready endpoint of service {facts.service}"],
            Conclusion(
                verdict="DO_NOT",
                reason=f"taking the {culprit} pods out of service {facts.service} leaves it with no ready endpoints, "
                "which the human said is not safe: restore healthy capacity first (ROLLBACK or SCALE)",
            ),
        )
    return walk.stop(
        q,
        "no",
        "caller",
        served,
        Conclusion(
            verdict="PROCEED",
            reason=f"partial isolation: take the {culprit} pods ({facts.selector}) out of service {facts.service}; "
            "they keep running for debugging",
            next_tool="remove_pods_from_service",
            next_arguments={"namespace": ns, "service": facts.service, "selector": facts.selector},
        ),
    )
