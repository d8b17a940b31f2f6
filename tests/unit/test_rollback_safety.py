"""The pre-rollback checks on plain dicts: what counts as a good revision, a pullable image, a migration sign."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from support.builders import NOW, container_status, deployment, pod, replicaset, ts
from support.fakekube import FakeKube
from support.plan_warnings import wholes

from incident_response.tools.assess.rollback_safety import (
    Observed,
    choose_target,
    image_item,
    image_key,
    known_good_item,
    verdict_of,
)
from incident_response.tools.assess.workload_safety import check_rollback_safety
from incident_response.tools.core import errors
from incident_response.tools.engine.deps import Deps, ToolSettings
from incident_response.tools.k8s.workloads import template_without_hash
from incident_response.tools.mitigate.rollback import plan_rollback
from incident_response.tools.playbook.rollback_checks import (
    SafetyItem,
    Sign,
    job_signs,
    migrations_item,
    template_signs,
)


def history(*ages: timedelta) -> list[dict[str, Any]]:
    """web's ReplicaSets, revision 1 first, each created `age` ago."""
    return [
        replicaset("web", f"h{n}", revision=n, image=f"shop/web:{n}", age=age) for n, age in enumerate(ages, start=1)
    ]


def pod_of(rs: dict[str, Any], name: str, *, image: str | None = None, **status: Any) -> dict[str, Any]:
    body = pod(name, deployment="web", containers=[container_status("web", **status)])
    body["metadata"]["ownerReferences"][0]["uid"] = rs["metadata"]["uid"]
    body["spec"]["containers"][0]["image"] = image or rs["spec"]["template"]["spec"]["containers"][0]["image"]
    return body


def seen(owned: list[dict[str, Any]], *, pods: list[dict[str, Any]] | None = None, **more: Any) -> Observed:
    current = max(owned, key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))
    image = current["spec"]["template"]["spec"]["containers"][0]["image"]
    deploy = deployment("web", revision=len(owned), image=image)
    deploy["spec"]["template"] = template_without_hash(current)
    options: dict[str, Any] = {"pull_events": [], "nodes": []} | more
    return Observed(deployment=deploy, owned=owned, pods=pods or [], now=NOW, **options)


# --- previous_revision ------------------------------------------------------------------------------------------


def test_a_single_revision_blocks_and_an_unknown_one_is_refused_with_the_kept_list() -> None:
    target, found = choose_target(seen(history(timedelta(days=1))), None)
    assert target is None and found.status == "blocking" and "keeps no earlier revision" in found.detail
    with pytest.raises(errors.InvalidArgument, match=r"no revision 9 \(revisions kept: 1, 2\)"):
        choose_target(seen(history(timedelta(days=2), timedelta(days=1))), 9)


def test_the_current_revision_or_a_paused_deployment_is_no_rollback() -> None:
    observed = seen(history(timedelta(days=2), timedelta(days=1)))
    _, same = choose_target(observed, 2)
    assert same.status == "blocking" and "already runs revision 2" in same.detail
    observed.deployment["spec"]["paused"] = True
    target, paused = choose_target(observed, None)
    assert target is not None and paused.status == "blocking" and "paused" in paused.detail


def test_the_same_template_recorded_differently_is_still_no_rollback() -> None:
    """The ReplicaSet's copy keeps pod-template-hash and lacks a default the deployment's has: one template."""
    observed = seen(history(timedelta(days=2), timedelta(days=1)))
    owned = observed.owned
    owned[0]["spec"]["template"] = copy.deepcopy(owned[1]["spec"]["template"])
    owned[0]["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = "h1"
    observed.deployment["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    _, same = choose_target(observed, 1)
    assert same.status == "blocking" and "already runs revision 1's pod template" in same.detail
    owned[0]["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "1Gi"}}
    _, different = choose_target(observed, 1)
    assert different.status == "ok", different.detail


# --- known_good -------------------------------------------------------------------------------------------------


def test_a_revision_that_served_days_is_good_and_one_that_served_minutes_is_not() -> None:
    owned = history(timedelta(days=9), timedelta(days=3), timedelta(days=2, hours=23, minutes=50))
    good = known_good_item(owned[0], seen(owned))
    assert good.status == "ok" and "served 6d" in good.detail
    brief = known_good_item(owned[1], seen(owned))
    assert brief.status == "warning" and "served only 10m" in brief.detail and "older revisions" in brief.detail


def test_pods_a_stuck_rollout_kept_count_as_serving_until_now_and_failing_ones_warn() -> None:
    owned = history(timedelta(days=3), timedelta(minutes=7))
    ready = [pod_of(owned[0], f"web-h1-{i}") for i in range(2)]
    serving = known_good_item(owned[0], seen(owned, pods=ready))
    assert serving.status == "ok" and "2 of its pods are still Running and Ready" in serving.detail
    crashing = pod_of(owned[0], "web-h1-x", waiting="CrashLoopBackOff", ready=False, restarts=4)
    failing = known_good_item(owned[0], seen(owned, pods=[*ready, crashing]))
    assert failing.status == "warning" and "1 of revision 1's pods are failing now" in failing.detail
    assert any("web-h1-x CrashLoopBackOff" in line for line in failing.evidence)


def test_after_a_rollback_the_replaced_revision_served_at_most_since_its_creation() -> None:
    # kubectl rollout undo reuses revision 2's ReplicaSet as revision 4: the successor of revision 3 is older than it.
    owned = [
        replicaset("web", "h1", revision=1, image="shop/web:1", age=timedelta(days=9)),
        replicaset("web", "h3", revision=3, image="shop/web:3", age=timedelta(minutes=7)),
        replicaset("web", "h2", revision=4, image="shop/web:2", age=timedelta(days=3)),
    ]
    bad = known_good_item(owned[1], seen(owned))
    assert bad.status == "warning" and "served at most 7m" in bad.detail and "-" not in bad.detail.split("served")[1]
    older = [owned[0], replicaset("web", "h3", revision=3, image="shop/web:3", age=timedelta(days=2)), owned[2]]
    unknown = known_good_item(older[1], seen(older))
    assert unknown.status == "not_visible" and unknown.questions == ["Did revision 3 work when it last ran?"]
    assert any("reused" in line for line in unknown.evidence)


def test_without_timestamps_whether_a_revision_was_good_is_a_question() -> None:
    owned = history(timedelta(days=3), timedelta(days=1))
    del owned[0]["metadata"]["creationTimestamp"]
    unknown = known_good_item(owned[0], seen(owned))
    assert unknown.status == "not_visible" and unknown.questions == ["Did revision 1 work when it last ran?"]


# --- image_available --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference, key",
    [
        ("postgres:16.4", "docker.io/library/postgres:16.4"),
        ("docker.io/library/postgres:16.4", "docker.io/library/postgres:16.4"),
        ("shop/web", "docker.io/shop/web:latest"),
        ("registry.example.com:5000/shop/web:2", "registry.example.com:5000/shop/web:2"),
        ("localhost/web:1", "localhost/web:1"),
        ("web@sha256:abc", "docker.io/library/web@sha256:abc"),
    ],
)
def test_image_references_compare_as_the_registry_reads_them(reference: str, key: str) -> None:
    assert image_key(reference) == key


def test_an_image_cached_on_a_node_counts_as_present() -> None:
    owned = history(timedelta(days=3), timedelta(days=1))
    node = {"metadata": {"name": "node-2"}, "status": {"images": [{"names": ["docker.io/shop/web:1"]}]}}
    found = image_item(["shop/web:1"], 1, seen(owned, nodes=[node]))
    assert found.status == "ok" and found.evidence == ["shop/web:1: cached on node node-2"]


def test_a_pull_failure_blocks_even_where_another_node_still_runs_the_image() -> None:
    owned = history(timedelta(days=3), timedelta(days=1))
    running = pod_of(owned[0], "web-h1-a")
    stuck = pod_of(owned[0], "web-h1-b", waiting="ImagePullBackOff", ready=False)
    found = image_item(["shop/web:1"], 1, seen(owned, pods=[running, stuck]))
    assert found.status == "blocking" and "shop/web:1 failed to pull" in found.detail
    assert "shop/web:1: pod/web-h1-b container web: ImagePullBackOff" in found.evidence


def test_a_pull_failure_event_blocks_after_the_pods_are_gone() -> None:
    owned = history(timedelta(days=3), timedelta(days=1))
    event = {
        "reason": "Failed",
        "message": 'Failed to pull image "shop/web:1": rpc error: code = NotFound',
        "involvedObject": {"kind": "Pod", "name": "web-h1-a"},
        "count": 3,
        "lastTimestamp": ts(timedelta(minutes=4)),
    }
    found = image_item(["shop/web:1"], 1, seen(owned, pull_events=[event]))
    assert found.status == "blocking"
    assert found.evidence[0].startswith("shop/web:1: event on pod/web-h1-a, 3x, last 4m ago: Failed to pull")


def test_no_evidence_either_way_is_not_visible_and_asks_about_the_registry() -> None:
    owned = history(timedelta(days=3), timedelta(days=1))
    found = image_item(["shop/web:1"], 1, seen(owned, nodes=None))
    assert found.status == "not_visible"
    assert found.questions == ["Can the registry still serve shop/web:1 (the tag not deleted or overwritten)?"]
    assert "nodes are not readable" in found.evidence[-1]


# --- migrations -------------------------------------------------------------------------------------------------


def template(*init: dict[str, Any], env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    app: dict[str, Any] = {"name": "web", "image": "shop/web:3"}
    if env is not None:
        app["env"] = env
    return {"spec": {"initContainers": list(init), "containers": [app]}}


def test_a_new_or_changed_migration_container_is_a_sign_an_unchanged_one_is_not() -> None:
    migrate = {"name": "db-migrate", "image": "shop/web:3", "command": ["bin/rails", "db:migrate"]}
    (new,) = [sign.text for sign in template_signs(template(migrate), template(), 3, 2)]
    assert new.startswith("init container db-migrate of revision 3 is new since revision 2; it mentions name")
    assert "'bin/rails db:migrate'" in new
    (changed,) = [
        sign.text for sign in template_signs(template(migrate), template(migrate | {"image": "shop/web:2"}), 3, 2)
    ]
    assert "changed since revision 2 (image shop/web:2 -> shop/web:3)" in changed
    assert template_signs(template(migrate), template(migrate), 3, 2) == []


def test_env_mentions_name_the_variable_and_never_quote_its_value() -> None:
    secret = "postgres://app:hunter2@db/app?migrations=on"
    (sign,) = template_signs(template(env=[{"name": "DATABASE_URL", "value": secret}]), template(), 3, 2)
    assert sign.subject == "container web" and "env DATABASE_URL" in sign.text and "hunter2" not in sign.text


def test_credentials_in_a_migration_command_are_masked() -> None:
    migrate = {
        "name": "db-migrate",
        "image": "shop/web:3",
        "command": ["sh", "-c", "alembic upgrade head --url postgres://app:hunter2@db/shop"],
        "args": ["--migrations", "--db-password=hunter2"],
    }
    (sign,) = template_signs(template(migrate), template(), 3, 2)
    assert "alembic upgrade head" in sign.text and "postgres://app:[masked:" in sign.text and "@db/shop" in sign.text
    assert "hunter2" not in sign.text


def job(name: str, *, age: timedelta, app: str = "web", hook: str | None = None) -> dict[str, Any]:
    annotations = {"helm.sh/hook": hook} if hook else {}
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"app": app},
            "annotations": annotations,
            "creationTimestamp": ts(age),
        },
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": f"shop/{app}:3"}]}}},
    }


def test_migration_jobs_count_only_for_this_app_and_since_the_window() -> None:
    jobs = [
        job("web-db-migrate", age=timedelta(minutes=5)),
        job("web-upgrade-hook", age=timedelta(minutes=6), hook="pre-upgrade"),
        job("web-db-migrate-old", age=timedelta(days=2)),
        job("cart-db-migrate", age=timedelta(minutes=5), app="cart"),
        job("web-nightly-report", age=timedelta(minutes=5)),
    ]
    signs = [sign.text for sign in job_signs(jobs, deployment("web"), NOW - timedelta(hours=1), NOW)]
    assert signs == ["job/web-db-migrate created 5m ago", "job/web-upgrade-hook created 6m ago (helm hook pre-upgrade)"]


def test_a_job_belongs_to_the_app_by_a_whole_name_part_not_a_substring() -> None:
    jobs = [
        job("rapid-db-migrate", age=timedelta(minutes=5), app="rapid"),  # "api" inside another app's name
        job("db-migrate-api", age=timedelta(minutes=5), app="batch"),
    ]
    signs = [sign.subject for sign in job_signs(jobs, deployment("api"), NOW - timedelta(hours=1), NOW)]
    assert signs == ["job/db-migrate-api"]


def test_signs_become_questions_and_their_absence_is_never_ok() -> None:
    signs = [Sign("job/web-db-migrate", "job/web-db-migrate created 5m ago")]
    found = migrations_item(signs, 3, 2, None, jobs_readable=True)
    assert found.status == "warning" and found.evidence == ["job/web-db-migrate created 5m ago"]
    assert found.questions == [
        "Is the migration in job/web-db-migrate forward-only (would revision 2's code fail against the migrated "
        "schema)?"
    ]
    hidden = migrations_item([], 3, 2, None, jobs_readable=False)
    assert hidden.status == "not_visible" and "Jobs are not readable" in hidden.detail
    assert hidden.questions and "forward-only" in hidden.questions[0]
    partial = migrations_item([], 3, 2, None, jobs_readable=True, jobs_truncated=True)
    assert partial.status == "not_visible"
    assert "no migration-like Job in the namespace among the Jobs read (the namespace has more than a read takes)" in (
        partial.detail
    )


def test_rollback_plans_warn_about_migration_signs_from_the_same_checks() -> None:
    kube = FakeKube()
    for rs in history(timedelta(days=3), timedelta(minutes=7)):
        kube.put("replicasets", rs)
    deploy = deployment("web", revision=2, image="shop/web:2")
    kube.put("deployments", deploy)
    kube.put("jobs", job("web-db-migrate", age=timedelta(minutes=5)))
    (warning,) = wholes(plan_rollback(kube, "shop", "web", None).warnings)
    assert warning.startswith("migrations: revision 2 shows signs of a schema migration since revision 1.")
    assert "forward-only" in warning


# --- the tool ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "found, verdict",
    [
        (["ok", "ok", "not_visible"], "CLEAR"),
        (["ok", "warning", "not_visible"], "CHECK_FIRST"),
        (["warning", "blocking"], "BLOCKED"),
    ],
)
def test_the_worst_status_sets_the_verdict(found: list[Any], verdict: str) -> None:
    items = [SafetyItem(check="stateful", status=s, detail="", evidence=[]) for s in found]
    assert verdict_of(items) == verdict


def test_the_tool_only_reads() -> None:
    kube = FakeKube()
    for rs in history(timedelta(days=3), timedelta(minutes=7)):
        kube.put("replicasets", rs)
    kube.put("deployments", deployment("web", revision=2, image="shop/web:2"))
    result = check_rollback_safety(Deps(ToolSettings(), kube_override=kube), "shop", "web")
    assert (result.current_revision, result.target_revision) == (2, 1)
    assert [i.check for i in result.items] == [
        "previous_revision",
        "known_good",
        "image_available",
        "migrations",
        "stateful",
    ]
    assert kube.writes == [] and kube.dry_runs == []
