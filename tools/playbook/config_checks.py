"""The rollback check a template cannot answer: a rollback restores the pod template, never the ConfigMaps and
Secrets the pods read. When the failing rollout changed only annotations (a checksum/config bump) or a ConfigMap the
target revision reads changed since that revision began, the pods the rollback creates read the CURRENT data, and
fail the same way until its previous data is restored.

Secrets are never read (the server's identity may not; their data must not pass through it): they are named, so
the human knows a rollback does not restore them either.

Layer: tools.playbook.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from incident_response.tools.k8s.config_key_reads import reads_edit
from incident_response.tools.k8s.config_keys import edited_keys
from incident_response.tools.k8s.last_change import by_whom, last_change
from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.template_diff import config_refs
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RECENT_ROLLOUT_SECONDS, revision_of, template_differences
from incident_response.tools.playbook import config_edit
from incident_response.tools.playbook.decision import CLOCK_SKEW, DEPLOY_MARGIN_MINUTES

MAX_NAMED = 4
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets on the pod template


def annotations_only(current: dict[str, Any], target: dict[str, Any]) -> list[str]:
    """The annotation keys when the two templates differ in pod annotations only (else []). A `kubectl rollout
    restart` alone (restartedAt) is no config rollout: rollback_checks' same_template warning says what it is."""
    differences = template_differences(current, target)
    if not differences or not all(d.startswith("pod annotation ") for d in differences):
        return []
    keys = [d.removeprefix("pod annotation ").split(":", 1)[0] for d in differences]
    return [] if all(k == RESTARTED_AT for k in keys) else keys


def changed_configmaps(
    names: set[str], configmaps: dict[str, dict[str, Any]], since: datetime | None, now: datetime
) -> list[str]:
    """'ConfigMap search-config (changed 3m ago by kubectl-client-side-apply)' for each ConfigMap read that changed
    after `since` (the target revision began) within the recent window."""
    found = []
    for name in sorted(names):
        obj = configmaps.get(name)
        change = last_change(obj) if obj is not None else None
        if change is None:
            continue
        age = max(0, int((now - change.at).total_seconds()))
        if age > RECENT_ROLLOUT_SECONDS or (since is not None and change.at <= since):
            continue
        found.append(
            f"ConfigMap {name} ({'created' if change.created else 'changed'} {human_age(age)} ago{by_whom(change)})"
        )
    return found


class ConfigChange(NamedTuple):
    """The config warning of a rollback: its detail and evidence, and the plan warning's brief (plan_warnings.py)."""

    detail: str
    evidence: list[str]
    brief: str


def config_detail(
    current: dict[str, Any],
    target_rs: dict[str, Any],
    configmaps: dict[str, dict[str, Any]] | None,
    now: datetime,
    failing: tuple[datetime | None, datetime | None] = (None, None),
) -> ConfigChange | None:
    """The warning for a Deployment's target ReplicaSet, or None when nothing the rollback
    leaves behind is known to have changed. `configmaps`: the ConfigMaps the pods read, as read (None: not
    readable); `failing`: when the pods began failing and when the current revision began, when known."""
    target = (target_rs.get("spec") or {}).get("template") or {}
    since = parse_time(meta(target_rs).creation_timestamp)
    return revision_config(current, target, revision_of(target_rs), since, configmaps, now, failing)


def edit_cause(
    names: set[str],
    configmaps: dict[str, dict[str, Any]],
    since: datetime | None,
    now: datetime,
    failing: tuple[datetime | None, datetime | None],
    number: int | None,
) -> ConfigChange | None:
    """The likely-cause warning when a ConfigMap both revisions read (`names`) was edited after the current revision
    began (`failing`[1], more than the deploy margin before the failure: its pods ran) and before the pods began
    failing (`failing`[0], with the clocks' skew); its words are config_edit's, as every tool says them. An edit made
    after the failure began is said as a fix (a ConfigMap keeps only its newest write: the one that broke it is gone).
    An edit a later rollout delivered (a checksum bump) is that rollout's: the plain warning says it."""
    began, current_since = failing
    if began is None or current_since is None or current_since > began - timedelta(minutes=DEPLOY_MARGIN_MINUTES):
        return None
    for name in sorted(names):
        obj = configmaps.get(name)
        change = last_change(obj) if obj is not None else None
        if change is None or change.created or change.at <= current_since or (since is not None and change.at <= since):
            continue
        age = max(0, int((now - change.at).total_seconds()))
        if age > RECENT_ROLLOUT_SECONDS:
            continue
        keys = edited_keys(obj or {})
        if change.at > began + CLOCK_SKEW:
            fixed = config_edit.later(name, keys, human_age(age), by_whom(change), "the pods")
            detail = (
                f"{fixed}: the pods the rollback creates read it too, and the current ones as they restart: "
                "verify_recovery first, roll back only if they still fail"
            )
            evidence = [f"the pods fail since {began.strftime('%H:%M:%S')} UTC, before that edit"]
            return ConfigChange(detail, evidence, f"{fixed}: verify_recovery first, roll back only if still failing")
        cause = config_edit.cause(name, keys, human_age(age), by_whom(change), "the pods")
        detail = (
            f"{cause}. Revision {number}'s pods read it too: {config_edit.restore(keys)}: they would fail the same way"
        )
        brief = (
            f"{config_edit.edited(name, keys, human_age(age), by_whom(change))}, likely the cause (revision {number} "
            f"reads it too): {config_edit.restore(keys)}"
        )
        failing_for = human_age(max(0, int((now - began).total_seconds())))
        return ConfigChange(detail, [f"the pods fail for {failing_for}, since after that edit"], brief)
    return None


def revision_config(
    current: dict[str, Any],
    target: dict[str, Any],
    number: int | None,
    since: datetime | None,
    configmaps: dict[str, dict[str, Any]] | None,
    now: datetime,
    failing: tuple[datetime | None, datetime | None] = (None, None),
) -> ConfigChange | None:
    """config_detail for any kind: the target revision's pod template, its number and when it began."""
    refs = config_refs(target)
    if not refs["ConfigMap"] and not refs["Secret"]:
        return None
    both = {
        name
        for name in refs["ConfigMap"] & config_refs(current)["ConfigMap"]
        if all(reads_edit(t, name, edited_keys((configmaps or {}).get(name) or {})) for t in (current, target))
    }
    if (found := edit_cause(both, configmaps or {}, since, now, failing, number)) is not None:
        return found
    changed = changed_configmaps(refs["ConfigMap"], configmaps or {}, since, now)
    keys = annotations_only(current, target)
    if not changed and not keys:
        return None
    evidence = []
    if keys:
        evidence.append(
            f"the current revision differs from revision {number} only in pod annotations ({', '.join(keys[:3])}): "
            "a config rollout, the containers' spec is the same"
        )
    evidence += [f"{c}, after revision {number} began" for c in changed[:MAX_NAMED]]
    read = [f"ConfigMap {n}" for n in sorted(refs["ConfigMap"])][:MAX_NAMED]
    secrets = [f"Secret {n}" for n in sorted(refs["Secret"])][:MAX_NAMED]
    subject = changed[0].split(" (", 1)[0] if changed else (read or secrets)[0]
    detail = (
        f"a rollback restores revision {number}'s pod template, not the objects its pods read: pods the rollback "
        f"creates read the CURRENT {changed[0] if changed else subject}; restore its previous data first (kubectl "
        "apply from source control) or they fail the same way"
    )
    brief = f"revision {number}'s pods would read the CURRENT {subject}: restore its previous data before rolling back"
    others = [r for r in [*read, *secrets] if r != subject]
    if others:
        detail += f". They also read {', '.join(others)}" + (
            " (Secrets are not read here: check whether they changed)" if secrets else ""
        )
        brief += f"; also {', '.join(others)}" + (" (Secrets unread: check them)" if secrets else "")
    if configmaps is None and refs["ConfigMap"]:
        evidence.append("ConfigMaps are not readable with these credentials: when they changed is not known")
    return ConfigChange(detail, evidence, brief)
