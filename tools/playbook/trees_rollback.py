"""The playbook's "should I roll back?" tree for a Deployment (its walk: tools/playbook/trees.py), and the stop on a
shared broken ConfigMap or Secret that the StatefulSet/DaemonSet tree (trees_workload.py) shares.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from incident_response.tools.playbook.config_failures import restores_instead
from incident_response.tools.playbook.rollback_checks import SafetyStatus
from incident_response.tools.playbook.trees import (
    RECENT_MINUTES,
    Answer,
    Answers,
    Conclusion,
    Elsewhere,
    Walk,
    fixed_forward,
    needs,
    try_instead,
)

# After the human ruled a rollback out: what is left, without sending the walk back to the rollback.
FIX_FORWARD = (
    "Fix forward (a new revision); scale or isolate only where the cluster shows load or a poisoned component (walk "
    "SCALE or ISOLATE with the same answer: they no longer send you back to the rollback)"
)


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
        # A precondition, not a reason to abandon the rollback: the human runs the resume (restore_measure plans it
        # for a pause this server made).
        resume = f"kubectl rollout resume deployment/{name} -n {ns}"
        return walk.stop(
            f"Can deployment {name} be rolled back now (its rollout not paused)?",
            "no",
            "cluster",
            [f"deployment {name} has spec.paused: true"],
            Conclusion(
                verdict="FIX_FIRST",
                reason=f"deployment {name} is paused and kubectl refuses to roll back a paused deployment: have the "
                f"human run `{resume}` (restore_measure plans it for a pause_rollout measure; the paused rollout "
                "then continues until the rollback replaces it), then evaluate again",
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
    # A target the current revision only restarted runs what fails now: rolling back to it restarts the same.
    same = facts.safety.get("same_template")
    doubtful = [c for c in (known, image, same) if c is not None and c.status in ("warning", "blocking")]
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
