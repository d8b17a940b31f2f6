"""INVESTIGATE decisions: no mitigation fits what is seen, so the next call reads why pods fail; and what a
failure's recent non-rollout changes (a ConfigMap edit, a policy) say about its cause.

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.k8s.attach_waits import attach_move
from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.pull_failures import PULL_REFUSED
from incident_response.tools.playbook.decision import (
    CAUSE_UNKNOWN,
    CLOCK_SKEW,
    CONFIG_ERROR_RULE,
    DEPLOY_MARGIN_MINUTES,
    EVICTED_RULE,
    JOB_FAILED_RULE,
    UNPLACED_RULE,
    Decision,
    Facts,
)
from incident_response.tools.playbook.investigate import investigation
from incident_response.tools.playbook.rollback_checks import RESTARTED_AT


def cause_named(action: object, rule: object, reason: object) -> bool:
    """An INVESTIGATE (a decision's, or one the journal recorded) whose reason names the cause (a missing config key,
    an eviction, a quota, the scheduler)."""
    unknown = str(rule).startswith("unknown cause") and CAUSE_UNKNOWN in str(reason)
    return action == "INVESTIGATE" and not unknown


def investigate(
    facts: Facts,
    component: str,
    rule: str,
    why: str,
    evidence: list[str],
    *,
    after: str = "",
    known: str = "",
    cause: Change | None = None,
) -> Decision:
    """INVESTIGATE `component`: no mitigation fits what is seen (more replicas of a pod that fails on its own fail
    too), so the next call reads why it fails (tools/playbook/investigate.py). `cause`: the change `why` already
    names as the likely cause (not listed again as a suspect)."""
    kind = facts.workloads.get(component) or (
        "deployment" if facts.deployments is None or component in facts.deployments else None
    )
    tool, arguments, read = investigation(facts.namespace, facts.placements, component)
    then = f"; {after}" if after else ""
    suspects = [s for s in changes_before(facts, component) if cause is None or s != cause.text(facts.now or cause.at)]
    known = known or f"{CAUSE_UNKNOWN} (more replicas of a pod that fails on its own fail too)"
    unplaced = facts.unschedulable.get(component, [])
    refusal = facts.refusals.get(component)
    found = ""  # the rule of the cause the pods' status names, when one does
    if refusal is not None and refusal.message and len(unplaced) >= len(facts.failing.get(component, [])):
        found = UNPLACED_RULE
        # Every failing pod waits for a node: the scheduler says why, and no pod of it runs to read.
        why = f"pods of {component} cannot be scheduled: {refusal.text()}"
        known = (
            "No node takes them as they are, so more replicas wait too: lower what they request (or the node "
            "selector, affinity or tolerations they need) in the manifest, or add nodes that fit them"
        )
        if refusal.kind == "pods":  # the nodes' pod count, not requests: see pod_limit
            known = "The nodes hold as many pods as they allow (max-pods): add nodes or raise max-pods"
        read = "top_nodes shows what each node can allocate and holds"
        tool, arguments = "top_nodes", {}
    elif (gone := facts.evicted.get(component)) and gone[0] >= len(still_failing(facts, component)):
        # Every failing pod is an eviction's leftover: the kubelet said why, and its controller replaced them.
        count, sample = gone
        found = EVICTED_RULE
        why = f"{count} pods of {component} were evicted by the kubelet ({sample})"
        known = (
            "Evicted pods stay listed (Failed) until deleted; their controller started replacements, so nothing is to "
            "undo: find what the message names (a container's disk or memory use, a node's pressure) before it "
            f"recurs, then delete the Failed pods (kubectl delete pod -n {facts.namespace} "
            "--field-selector=status.phase=Failed)"
        )
        read = "verify_recovery shows whether the replacements serve"
        tool, arguments = "verify_recovery", {"namespace": facts.namespace, "deployment": component}
    elif (failed := facts.job_failures.get(component)) is not None:
        # The Job's status says it failed (a Warning alone does not); a failed Job is not retried by itself.
        found = JOB_FAILED_RULE
        why = f"Job {component} failed ({failed})"
        known = (
            "A failed Job is not retried: its pods' logs say why each try failed; fix that and create the Job again. "
            "A migration Job that failed may have changed the schema part way: check it before rolling its app "
            "back or forward"
        )
        read = f"{tool} shows why"
    elif (wait := facts.attach_waits.get(component)) is not None:
        # The attach/detach controller names the volume and who holds it: the cause is known, more replicas wait too.
        why = f"pods of {component} wait for a volume attached to another node: {wait.pod}: {wait.message}"
        known = attach_move(wait, component)
        read = f"{tool} shows since when"
    elif config := facts.config_errors.get(component):
        # The kubelet names what is missing: the cause is known, and it is not in the pods' code.
        found = CONFIG_ERROR_RULE
        why = f"pods of {component} cannot create their container: {config}"
        known = (
            "Its spec, or a ConfigMap or Secret it reads, names what is missing: restore that (from source control) "
            "or roll back the change that asked for it; until then every pod that starts (a restart, a drain, a "
            "rollout) fails the same way"
        )
        if PULL_REFUSED in config:  # the registry refused the pull Secret's credentials (pull_failures)
            why = f"pods of {component} cannot pull their image: {config}"
            known = (
                "Its registry refuses the pods' credentials, not the release: restore or renew the pull Secret its "
                "imagePullSecrets name (from where registry credentials are kept); until then every pod that starts "
                "on a node without the image fails the same way"
            )
        if shared := facts.shared_config.get(component):
            known = shared[0].upper() + shared[1:]  # the recent deploy did not ask for it: a rollback fails too
        if PULL_REFUSED in config:  # after the fix, a waiting pod pulls only on its back-off's next try
            known += (
                "; once the Secret is right, a pod in ImagePullBackOff pulls again within 5 minutes (delete it to "
                "retry now)"
            )
        read = f"{tool} shows since when"
    if suspects:
        # A non-rollout change of the last 2 hours made before the failure began: the first suspect.
        why += f"; it fails since a change that was not a rollout: {'; '.join(suspects)}"
        evidence = [f"change: {s}" for s in suspects] + evidence
    return Decision(
        primary_action="INVESTIGATE",
        rule=found if found and rule.startswith("unknown cause") else rule,
        target=f"{kind}/{component}" if kind else f"pods of {component}",  # a bare pod's, a Job's: no workload here
        reason=f"{why}. {known}: {read}{then}",
        evidence=(([facts.crash_lines[component]] if component in facts.crash_lines else []) + evidence)[:5],
        next_tool=tool,
        next_arguments=arguments,
    )


STARTING = ("ContainerCreating", "PodInitializing", "Pending")


def still_failing(facts: Facts, component: str) -> list[str]:
    """The component's failing pods less those only starting (an evicted pod's replacement, say)."""
    return [p for p in facts.failing.get(component, []) if (p.split(" ") + ["", ""])[1] not in STARTING]


def config_caveat(facts: Facts, deployment: str, changed: list[str]) -> str:
    """What a rollback cannot undo: a ConfigMap the pods read, changed in the window (or a rollout that changed only
    pod annotations, a config checksum bump): its pods read the current data after the rollback too."""
    edited = [c for c in facts.changes if c.kind == "ConfigMap" and deployment in c.selects]
    if edited and facts.now is not None:
        return (
            f"; but the rollback restores the pod template, not {edited[0].text(facts.now)}: its new pods read the "
            "CURRENT data, so restore that first (check_rollback_safety's config check)"
        )
    if (
        changed
        and all(c.startswith(f"pod annotation {RESTARTED_AT}:") for c in changed)
        and deployment in facts.repushed
    ):
        return (
            f"; but the rollout is only a `kubectl rollout restart` and {facts.repushed[deployment]}: the tag was "
            "re-pushed, and a rollback pulls the new build again: check_rollback_safety first"
        )
    if changed and all(c.startswith(f"pod annotation {RESTARTED_AT}:") for c in changed):
        return (
            "; but the rollout is only a `kubectl rollout restart`: a rollback restarts the same template and image "
            "tags, so it cannot undo what makes the new pods fail (a re-pushed tag, a ConfigMap or Secret): "
            "check_rollback_safety first"
        )
    if changed and all(c.startswith("pod annotation ") for c in changed):
        return (
            "; the rollout changed only pod annotations (a config checksum?): the rollback restores the template, not "
            "the ConfigMaps or Secrets its pods read (check_rollback_safety's config check)"
        )
    return ""


def config_cause(facts: Facts, component: str) -> Change | None:
    """A ConfigMap the component's pods read, changed in the window before they began failing (the failure's start
    known from its Warning events, with the deploy margin): with no rollout since, the likely cause."""
    since = facts.failing_for.get(component)
    if facts.now is None or since is None:
        return None
    now = facts.now
    return next(
        (
            c
            for c in facts.changes
            if c.kind == "ConfigMap"
            and component in c.selects
            and not c.ours
            and c.minutes_ago(now) + DEPLOY_MARGIN_MINUTES >= since
            and not after_failure(facts, component, c)
        ),
        None,
    )


def after_failure(facts: Facts, component: str, change: Change) -> bool:
    """The change was made after the component's failure began (its first still-recurring Warning, with the clocks'
    skew): it did not start it. A ConfigMap's managedFields keep only its newest write, so a key restored by hand
    after the failure hides the edit that caused it: the restore is not the cause either."""
    began = facts.failing_since.get(component)
    return began is not None and change.at > began + CLOCK_SKEW


def config_edited_after(facts: Facts, component: str) -> Change | None:
    """A ConfigMap the component's pods read, edited after they began failing (a fix being applied, most likely)."""
    return next(
        (
            c
            for c in facts.changes
            if c.kind == "ConfigMap" and component in c.selects and not c.ours and after_failure(facts, component, c)
        ),
        None,
    )


def changes_before(facts: Facts, component: str) -> list[str]:
    """The recent non-rollout changes that may explain `component`'s failure (made before it began, with the deploy
    margin), those touching its own pods first (a policy selecting them, a ConfigMap they read); at most two."""
    if facts.now is None:
        return []
    now = facts.now
    since = facts.failing_for.get(component)
    fitting = [
        c
        for c in facts.changes
        if (since is None or c.minutes_ago(now) + DEPLOY_MARGIN_MINUTES >= since)
        and not (c.kind == "ConfigMap" and after_failure(facts, component, c))
        and not (c.kind == "Deployment" and c.name == component)
        and not (c.kind == "Service" and c.what.startswith("created"))  # a new Service breaks no caller
        and not c.ours  # this incident's own measures are followed by verify_recovery, not suspected
    ]
    fitting.sort(key=lambda c: component not in c.selects)
    return [c.text(now) for c in fitting[:2]]
