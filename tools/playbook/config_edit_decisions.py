"""INVESTIGATE decisions for pods that began failing after a ConfigMap they read was edited: the edit is the likely
cause, named as config_edit words it for every tool, and the fix is to restore it, not a rollback (a rollback
restores no ConfigMap). With no deploy in the window (rule 6's tail), or after a deploy whose pods ran well before the
edit (rule 3: the rollout is not what broke them).

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.last_change import LastChange, by_whom
from incident_response.tools.playbook import config_edit
from incident_response.tools.playbook.decision import (
    DEPLOY_MARGIN_MINUTES,
    EDIT_AFTER_DEPLOY_RULE,
    EDIT_RULE,
    Decision,
    Facts,
    RecentRollout,
    age_text,
)
from incident_response.tools.playbook.investigate_decisions import config_cause, investigate


def edit_after_rollout(facts: Facts, rollout: RecentRollout) -> Change | None:
    """The ConfigMap edit that, rather than `rollout`, explains its pods' failure: made after the rollout and before
    the failure began, the rollout itself older than the failure by more than the deploy margin (its pods ran)."""
    edit = config_cause(facts, rollout.deployment)
    since = facts.failing_for.get(rollout.deployment)
    if edit is None or since is None or facts.now is None:
        return None
    if edit.minutes_ago(facts.now) > rollout.minutes_ago or rollout.minutes_ago < since + DEPLOY_MARGIN_MINUTES:
        return None
    return edit


def edit_decision(
    facts: Facts, component: str, edit: Change, evidence: list[str], rollout: RecentRollout | None = None
) -> Decision:
    """INVESTIGATE `component`, the ConfigMap edit named as the likely cause and its restore as the move."""
    now = facts.now or edit.at
    by = by_whom(LastChange(edit.at, edit.manager, False, edit.subresource))
    cause = config_edit.cause(edit.name, edit.keys, edit.ago(now), by, "they")
    if rollout is None:
        rule, why = EDIT_RULE, f"pods of {component} fail, nothing was deployed in the last 2 hours, and {cause}"
    else:
        since = facts.failing_for.get(component, 0)
        rule = EDIT_AFTER_DEPLOY_RULE
        why = (
            f"pods of {component} fail, and {cause}; {rollout.kind} {rollout.deployment}'s revision {rollout.revision} "
            f"rolled out {age_text(rollout.minutes_ago)} ago, before that edit, and its pods began failing only "
            + (f"{age_text(since)} ago" if since else "in the last minute")
        )
    move = config_edit.restore(edit.keys)
    return investigate(
        facts,
        component,
        rule,
        why,
        [f"change: {edit.text(now)}", *evidence],
        known=f"{move[0].upper()}{move[1:]} (a rollback restores no ConfigMap); to confirm",
        cause=edit,
    )


def fix_note(facts: Facts, edit: Change) -> str:
    """What to say of a ConfigMap the pods read, edited after they began failing: not the cause (the edit that was
    is overwritten in its managedFields), most likely the fix, which a crash-looping container reads as it restarts."""
    now = facts.now or edit.at
    by = by_whom(LastChange(edit.at, edit.manager, False, edit.subresource))
    fixed = config_edit.later(edit.name, edit.keys, edit.ago(now), by, "they")
    return f"{fixed}: their containers read it as they restart, verify_recovery follows them"
