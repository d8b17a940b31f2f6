"""The pre-rollback checks that rollback_deployment's plan and check_rollback_safety share: state and migrations.

The playbook asks two things before a rollback that the cluster can only partly answer: does the workload keep state
(PersistentVolumeClaims), and did the current revision migrate a schema? The cluster shows signs (claims, migration
containers, migration Jobs); it never shows their absence for sure, so a missing sign is "not visible", never "ok".

Layer: tools.playbook.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field, PrivateAttr

from incident_response.tools.core.masking import mask_text
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.reads import RollbackReads
from incident_response.tools.k8s.image_digests import Repush, repushed, said
from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    APP_LABELS,
    HASH_LABEL,
    app_selectors,
    container_digest,
    images_of,
    revision_of,
    rollout_time,
)
from incident_response.tools.playbook.config_checks import RESTARTED_AT as RESTARTED_AT
from incident_response.tools.playbook.config_checks import ConfigChange, config_detail
from incident_response.tools.playbook.config_failures import SharedFailure, shared_failure

# update_strategy: a StatefulSet's or DaemonSet's (how its controller carries a rollback out).
# config: the ConfigMaps/Secrets the pods read, which a rollback does not restore.
# same_template: the target differs from the current revision only by a restart stamp (a rollback restarts the same).
Check = Literal[
    "previous_revision",
    "known_good",
    "image_available",
    "migrations",
    "stateful",
    "update_strategy",
    "config",
    "same_template",
]
SafetyStatus = Literal["ok", "warning", "blocking", "not_visible"]

MAX_EVIDENCE = 8
MIGRATION_WORDS = re.compile(
    r"migrat|flyway|liquibase|alembic|sqitch|dbmate|schema[-_ ]?(?:upgrade|update|change)", re.IGNORECASE
)
HELM_HOOK = "helm.sh/hook"
# Helm pre-upgrade hooks and CI migration jobs run before the rollout they prepare: look this far back from it.
MIGRATION_LEAD = timedelta(minutes=30)


class SafetyItem(BaseModel):
    check: Check
    status: SafetyStatus = Field(description="not_visible: the cluster cannot show it; ask the human.")
    detail: str
    evidence: list[str] = Field(description=f"What was observed, at most {MAX_EVIDENCE} lines; the rest counted.")
    questions: list[str] = Field(default_factory=list, description="What only a person can answer for this check.")
    # What a plan's warning says of it in a line (the instruction and its key names and numbers), when shorter than
    # the detail: check_rollback_safety shows the detail, a plan the brief (tools/core/plan_warnings.py).
    _brief: str = PrivateAttr(default="")

    @property
    def brief(self) -> str:
        return self._brief or self.detail

    def briefly(self, brief: str) -> SafetyItem:
        self._brief = brief
        return self


class Sign(NamedTuple):
    """One hint of a migration: what to ask about (`job/x`, `init container y`) and the observation."""

    subject: str
    text: str
    failed: bool = False  # a migration Job that failed: it may have changed the schema part way


def capped(lines: list[str], limit: int = MAX_EVIDENCE) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[: limit - 1], f"... and {len(lines) - limit + 1} more"]


def revision_text(revision: int | None) -> str:
    return f"revision {revision}" if revision is not None else "the current revision"


# --- stateful ---------------------------------------------------------------------------------------------------


def mounted_claims(deployment: dict[str, Any]) -> set[str]:
    volumes = ((deployment.get("spec") or {}).get("template") or {}).get("spec", {}).get("volumes") or []
    return {str(v["persistentVolumeClaim"]["claimName"]) for v in volumes if v.get("persistentVolumeClaim")}


def stateful_item(deployment: dict[str, Any], labelled: set[str] | None, current: int | None) -> SafetyItem:
    mounted = mounted_claims(deployment)
    claims = mounted | (labelled or set())
    if not claims and labelled is None:
        name = meta(deployment).name
        return SafetyItem(
            check="stateful",
            status="not_visible",
            detail="the pods mount no PersistentVolumeClaim, but claims labelled for this app could not be listed "
            "(forbidden for these credentials)",
            evidence=[f"no PVC in the pod template; listing PVCs {' or '.join(app_selectors(deployment))} forbidden"],
            questions=[
                f"Does {name} keep data in volume claims or a database whose format {revision_text(current)} "
                "may have changed?"
            ],
        )
    if not claims:
        return SafetyItem(
            check="stateful",
            status="ok",
            detail="the pods mount no PersistentVolumeClaim and none is labelled for this app",
            evidence=[f"no PVC labelled {' or '.join(app_selectors(deployment))}"],
        )
    evidence = [f"pvc/{c} is mounted by the pod template" for c in sorted(mounted)]
    evidence += [f"pvc/{c} is labelled for this app" for c in sorted((labelled or set()) - mounted)]
    if labelled is None:
        evidence.append("other claims labelled for this app could not be listed (forbidden)")
    return SafetyItem(
        check="stateful",
        status="warning",
        detail=f"the pods use PersistentVolumeClaims {', '.join(sorted(claims))}. Before confirming, make sure "
        f"{revision_text(current)} ran no forward-only database migration and changed no data format the older code "
        "cannot read; if it did, do not roll back (scale or isolate instead).",
        evidence=capped(evidence),
        questions=[
            f"Did {revision_text(current)} write data to {', '.join(sorted(claims))} in a format or schema the older "
            "code cannot read?"
        ],
    ).briefly(
        f"PVCs {', '.join(sorted(claims))}: if {revision_text(current)} ran a forward-only migration or changed a "
        "data format, do not roll back (scale or isolate)"
    )


# --- migrations -------------------------------------------------------------------------------------------------


def _containers(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    spec = template.get("spec") or {}
    found = {str(c.get("name")): ("init container", c) for c in spec.get("initContainers") or []}
    found |= {str(c.get("name")): ("container", c) for c in spec.get("containers") or []}
    return found


def _mentions(container: dict[str, Any]) -> list[str]:
    """Where a container mentions a migration tool: its name, image, command, args, env names and literal values.

    Env values are searched but never quoted (they may hold credentials); commands and args are quoted with
    credentials masked (a migration command often carries its database URL)."""
    places = [
        f"{field} {container.get(field)}"
        for field in ("name", "image")
        if MIGRATION_WORDS.search(str(container.get(field) or ""))
    ]
    for field in ("command", "args"):
        text = " ".join(str(part) for part in container.get(field) or [])
        if MIGRATION_WORDS.search(text):
            places.append(f"{field} {mask_text(text)[:120]!r}")
    for variable in container.get("env") or []:
        name = str(variable.get("name"))
        if MIGRATION_WORDS.search(name) or MIGRATION_WORDS.search(str(variable.get("value") or "")):
            places.append(f"env {name}")
    return places


def template_signs(
    current: dict[str, Any], target: dict[str, Any], current_rev: int | None, target_rev: int | None
) -> list[Sign]:
    """Containers of the current template that mention migrations and are new or changed since the target."""
    before = _containers(target)
    digest_now, digest_then = container_digest(current), container_digest(target)
    signs = []
    for name, (kind, container) in _containers(current).items():
        places = _mentions(container)
        if not places:
            continue
        if name not in before:
            change = f"is new since revision {target_rev}"
        elif digest_now.get(name) != digest_then.get(name):
            old_image, new_image = before[name][1].get("image"), container.get("image")
            change = f"changed since revision {target_rev}" + (
                f" (image {old_image} -> {new_image})" if old_image != new_image else ""
            )
        else:
            continue
        text = f"{kind} {name} of {revision_text(current_rev)} {change}; it mentions {'; '.join(places)}"
        signs.append(Sign(f"{kind} {name}", text))
    return signs


def _job_belongs(job: dict[str, Any], names: set[str]) -> bool:
    metadata = job.get("metadata") or {}
    labels = metadata.get("labels") or {}
    values = {str(labels.get(key)) for key in (*APP_LABELS, "app.kubernetes.io/instance") if labels.get(key)}
    # By name, the app's name must be whole parts of the Job's: "api" is in "db-migrate-api", not in "rapid-migrate".
    job_name = f"-{metadata.get('name')}-"
    return bool(values & names) or any(f"-{name}-" in job_name for name in names)


def job_outcome(job: dict[str, Any]) -> str:
    """', failed: BackoffLimitExceeded (3 pods failed)', ', complete' or ', running' (its status): a migration that
    failed part way may have left the schema half changed, which neither revision's code may expect."""
    status = job.get("status") or {}
    held = {str(c.get("type")): c for c in status.get("conditions") or [] if c.get("status") == "True"}
    if "Failed" in held:
        failed = status.get("failed")
        pods = f" ({failed} pods failed)" if isinstance(failed, int) and failed else ""
        return f", failed: {held['Failed'].get('reason') or 'Failed'}{pods}: the schema may be half migrated"
    if "Complete" in held:
        return ", complete"
    return ", running" if status.get("active") else ""


def job_signs(
    jobs: list[dict[str, Any]], deployment: dict[str, Any], since: datetime | None, now: datetime
) -> list[Sign]:
    """Jobs for this app, created since `since`, that look like migrations (name, labels, or a helm upgrade hook)."""
    metadata = deployment.get("metadata") or {}
    pod_labels = (((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
    names = {str(metadata.get("name"))} | {str(pod_labels[k]) for k in APP_LABELS if pod_labels.get(k)}
    signs = []
    for job in sorted(jobs, key=lambda j: str(meta(j).creation_timestamp), reverse=True):
        job_meta = job.get("metadata") or {}
        created = parse_time(job_meta.get("creationTimestamp"))
        if since is not None and (created is None or created < since):
            continue
        if not _job_belongs(job, names):
            continue
        hook = str((job_meta.get("annotations") or {}).get(HELM_HOOK) or "")
        texts = [str(job_meta.get("name")), *map(str, (job_meta.get("labels") or {}).values())]
        template = (job.get("spec") or {}).get("template") or {}
        mentions = [m for c in _containers(template).values() for m in _mentions(c[1])]
        if not (any(MIGRATION_WORDS.search(t) for t in texts) or mentions or "upgrade" in hook):
            continue
        age = f"{human_age(int((now - created).total_seconds()))} ago" if created is not None else "at an unknown time"
        why = [f"helm hook {hook}"] if hook else []
        why += mentions[:2]
        subject = f"job/{job_meta.get('name')}"
        said = f"{subject} created {age}" + (f" ({'; '.join(why)})" if why else "")
        outcome = job_outcome(job)
        signs.append(Sign(subject, said + outcome, failed=outcome.startswith(", failed")))
    return signs


def migrations_item(
    signs: list[Sign],
    current: int | None,
    target: int | None,
    since: datetime | None,
    jobs_readable: bool,
    jobs_truncated: bool = False,
) -> SafetyItem:
    if signs:
        return SafetyItem(
            check="migrations",
            status="warning",
            detail=f"{revision_text(current)} shows signs of a schema migration since revision {target}. Ask whether "
            "it is forward-only before confirming; if it is, do not roll back (scale or isolate instead).",
            evidence=capped([sign.text for sign in signs]),
            questions=[
                f"{sign.subject} failed: did it change the schema part way, and would revision {target}'s code fail "
                "against what it left?"
                if sign.failed
                else f"Is the migration in {sign.subject} forward-only (would revision {target}'s code fail against "
                "the migrated schema)?"
                for sign in signs[:3]
            ],
        ).briefly(
            f"{revision_text(current)} shows migration signs since revision {target}: ask if forward-only; if so, do "
            "not roll back (scale or isolate)"
        )
    window = f"since {since:%Y-%m-%d %H:%M} UTC" if since is not None else "in the namespace"
    jobs = f"no migration-like Job {window}" if jobs_readable else "Jobs are not readable with these credentials"
    if jobs_readable and jobs_truncated:
        jobs += " among the Jobs read (the namespace has more than a read takes)"
    return SafetyItem(
        check="migrations",
        status="not_visible",
        detail=f"no migration container in the pod template and {jobs}; that proves nothing: migrations run from CI, "
        "an operator or an app's startup leave no trace here, and finished Jobs get deleted",
        evidence=[],
        questions=[
            f"Did {revision_text(current)} (or anything deployed since revision {target}) run a database migration, "
            "and is it forward-only?"
        ],
    )


def replaced_at(target: dict[str, Any], owned: list[dict[str, Any]]) -> datetime | None:
    """When the target revision stopped being current: the creation of the next revision's ReplicaSet."""
    number = revision_of(target)
    if number is None:
        return None
    later = [(rev, rs) for rs in owned if (rev := revision_of(rs)) is not None and rev > number]
    if not later:
        return None
    _, successor = min(later, key=lambda pair: pair[0])
    return parse_time(meta(successor).creation_timestamp)


def plan_checks(
    deployment: dict[str, Any],
    target: dict[str, Any],
    owned: list[dict[str, Any]],
    now: datetime,
    reads: RollbackReads,
    pods: list[dict[str, Any]],
    mounts: dict[str, str] | None = None,
) -> list[SafetyItem]:
    """The stateful, migration and config checks, from the deployment, the ReplicaSets it owns, the one a rollback
    would return to, what `tools.engine.reads.rollback_reads` read, the deployment's pods and their FailedMount
    messages (tools/engine/mount_reads.py)."""
    current_rev, target_rev = revision_of(deployment), revision_of(target)
    stateful = stateful_item(deployment, reads.labelled_claims, current_rev)
    replaced = replaced_at(target, owned)
    since = replaced - MIGRATION_LEAD if replaced is not None else None
    current_template = (deployment.get("spec") or {}).get("template") or {}
    target_template = (target.get("spec") or {}).get("template") or {}
    signs = template_signs(current_template, target_template, current_rev, target_rev)
    signs += job_signs(reads.jobs or [], deployment, since, now)
    readable = reads.jobs is not None
    items = [migrations_item(signs, current_rev, target_rev, since, readable, reads.jobs_truncated), stateful]
    current_rs = next((rs for rs in owned if current_rev is not None and revision_of(rs) == current_rev), None)
    items += restart_items(current_template, target, current_rev, repushes(pods, target, current_rs))
    current_since = rollout_time(deployment, owned)
    return items + config_items(current_template, target, reads, now, pods, mounts, current_since)


def unstamped(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what `kubectl rollout restart` stamps and the ReplicaSet's hash label."""
    copied = copy.deepcopy(template)
    metadata = copied.get("metadata") or {}
    (metadata.get("annotations") or {}).pop(RESTARTED_AT, None)
    (metadata.get("labels") or {}).pop(HASH_LABEL, None)
    for key in ("annotations", "labels"):
        if key in metadata and not metadata[key]:
            del metadata[key]
    return copied


def repushes(pods: list[dict[str, Any]], target: dict[str, Any], current: dict[str, Any] | None) -> list[Repush]:
    """The tags the target's pods and the current ReplicaSet's pods run under different digests (image_digests)."""
    old_hash = (meta(target).labels or {}).get(HASH_LABEL)
    new_hash = (meta(current).labels or {}).get(HASH_LABEL) if current is not None else None
    return repushed(pods, old_hash, new_hash) if old_hash and new_hash else []


def restart_items(
    current: dict[str, Any], target: dict[str, Any], current_rev: int | None, pushed: list[Repush] | None = None
) -> list[SafetyItem]:
    """A warning when the current revision is only a restart of the target: the rollback starts the same template
    and pulls the same image tags again, so pods that fail since the restart fail on something outside it (a tag
    re-pushed, a ConfigMap or Secret, a dependency). `pushed`: tags whose digests differ between the two
    revisions' pods: the re-push is then certain, and said."""
    target_template = (target.get("spec") or {}).get("template") or {}
    if current == target_template or unstamped(current) != unstamped(target_template):
        return []
    images = ", ".join(dict.fromkeys(images_of(target_template)))
    if pushed:
        proof = said(pushed, revision_of(target), current_rev)
        tags = ", ".join(r.image for r in pushed)
        return [
            SafetyItem(
                check="same_template",
                status="warning",
                detail=f"revision {current_rev} is a `kubectl rollout restart` of revision {revision_of(target)} and "
                f"{proof}: the tag was re-pushed, and rolling back pulls its new build again, so new pods that fail "
                "now fail the same way. Pick a revision with other images (to_revision), or keep the old pods "
                "serving with pause_rollout",
                evidence=[proof],
            ).briefly(
                f"{tags} was re-pushed (digests differ): rolling back to revision {revision_of(target)} pulls the "
                "new build and fails the same way; pick another to_revision, or pause_rollout"
            )
        ]
    detail = (
        f"revision {current_rev} is a `kubectl rollout restart` of revision {revision_of(target)} (only {RESTARTED_AT} "
        f"differs): rolling back restarts the same template and pulls {images} again, so new pods that fail now fail "
        "the same way; the cause is outside the template (a re-pushed tag, a ConfigMap or Secret). Pick a revision "
        "with other images (to_revision), or keep the old pods serving with pause_rollout"
    )
    return [
        SafetyItem(
            check="same_template",
            status="warning",
            detail=detail,
            evidence=[f"revision {current_rev} and revision {revision_of(target)} differ only in {RESTARTED_AT}"],
            questions=[f"Was an image tag among {images} pushed again since revision {revision_of(target)} ran?"],
        ).briefly(
            f"revision {current_rev} only restarted revision {revision_of(target)}: rolling back pulls {images} again "
            "and fails the same way; pick another to_revision, or pause_rollout"
        )
    ]


def config_items(
    current: dict[str, Any],
    target: dict[str, Any],
    reads: RollbackReads,
    now: datetime,
    pods: list[dict[str, Any]],
    mounts: dict[str, str] | None = None,
    current_since: datetime | None = None,
) -> list[SafetyItem]:
    """A warning when the pods the rollback creates would read ConfigMaps/Secrets changed since (config_checks), or
    one its pods fail on now (config_failures); `current_since`: when the current revision began rolling out."""
    template = (target.get("spec") or {}).get("template") or {}
    return config_item(
        shared_failure(pods, template, revision_of(target), mounts),
        config_detail(current, target, reads.configmaps, now, (reads.failing_since, current_since)),
    )


def config_item(failing: SharedFailure | None, changed: ConfigChange | None) -> list[SafetyItem]:
    """The one config warning: pods failing on what the target reads the same way first, then a ConfigMap changed
    since it began, then what cannot be told (the target reads the failing object whole)."""
    if changed is not None and (failing is None or failing.status != "warning"):
        status, detail, brief = "warning", changed.detail, changed.brief
        evidence = changed.evidence + (failing.evidence if failing else [])
    elif failing is not None:
        status, detail, brief = failing.status, failing.detail, failing.brief
        evidence = failing.evidence + (changed.evidence if changed else [])
    else:
        return []
    questions = failing.questions if failing is not None else []
    item = SafetyItem(check="config", status=status, detail=detail, evidence=capped(evidence), questions=questions)
    return [item.briefly(brief)]


def failing_config_warnings(
    pods: list[dict[str, Any]],
    target_template: dict[str, Any],
    number: int | None,
    mounts: dict[str, str] | None = None,
) -> list[PlanWarning]:
    """A plan's warning when pods fail on a ConfigMap/Secret key the target revision asks for too (config_failures);
    for the planners that read no ConfigMaps (a StatefulSet's or DaemonSet's rollback)."""
    found = shared_failure(pods, target_template, number, mounts)
    if found is None or found.status != "warning":
        return []
    return [warning("config", found.brief or found.detail, found.detail)]


def plan_warnings(items: list[SafetyItem]) -> list[PlanWarning]:
    """rollback_deployment's plan warnings: every check that found something to ask about before confirming."""
    return [warning(item.check, item.brief, item.detail) for item in items if item.status in ("warning", "blocking")]
