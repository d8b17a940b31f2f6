"""check_rollback_safety end to end: an MCP client, our server in safe mode, the simulated cluster's bad-deploy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm, refused
from support.rollback_checks import TOOL, check_without_writing, item, statuses

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


async def test_bad_deploy_rollback_to_the_previous_revision_is_clear(env: Env) -> None:
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="checkout")
    assert (result["current_revision"], result["target_revision"]) == (3, 2)
    assert result["target_images"] == ["registry.example.com/shop/checkout:2.4.0"]
    assert statuses(result) == {
        "previous_revision": "ok",
        "known_good": "ok",  # the stuck rollout left revision 2's pods Running and Ready
        "image_available": "ok",
        "migrations": "not_visible",
        "stateful": "ok",
    }
    assert result["verdict"] == "CLEAR" and result["summary"].startswith("CLEAR")
    assert "Running and Ready" in item(result, "known_good")["detail"]
    assert any("runs it now" in line for line in item(result, "image_available")["evidence"])
    assert any("forward-only" in q for q in result["questions_for_human"]), "migrations are never provably absent"
    assert result["recent_rollout"] is True
    assert "to_revision=2" in result["next_step"]


async def test_a_pvc_labelled_for_the_app_asks_about_data_formats(env: Env) -> None:
    claim = {
        "metadata": {"name": "checkout-sessions", "labels": {"app": "checkout"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    env.kube.create("persistentvolumeclaims", claim, NS)
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="checkout")
    assert result["verdict"] == "CHECK_FIRST"
    stateful = item(result, "stateful")
    assert stateful["status"] == "warning" and "checkout-sessions" in stateful["detail"]
    assert "checkout-sessions" in result["summary"]
    assert any("checkout-sessions" in q and "format" in q for q in result["questions_for_human"])


async def test_a_migration_job_since_the_rollout_is_named(env: Env) -> None:
    def job(name: str, app: str, hook: str | None = None) -> dict[str, Any]:
        annotations = {"helm.sh/hook": hook} if hook else {}
        container = {"name": "migrate", "image": f"registry.example.com/shop/{app}:2.5.0", "command": ["migrate"]}
        return {
            "metadata": {"name": name, "labels": {"app": app}, "annotations": annotations},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}},
        }

    env.kube.create("jobs", job("checkout-schema-3", "checkout", hook="pre-upgrade"), NS)
    env.kube.create("jobs", job("cart-db-migrate", "cart"), NS)  # another app's migration is not checkout's
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="checkout")
    assert result["verdict"] == "CHECK_FIRST"
    migrations = item(result, "migrations")
    assert migrations["status"] == "warning"
    assert any(line.startswith("job/checkout-schema-3 created") for line in migrations["evidence"])
    assert not any("cart-db-migrate" in line for line in migrations["evidence"])
    assert any("job/checkout-schema-3" in q and "forward-only" in q for q in result["questions_for_human"])


async def test_a_deployment_with_a_single_revision_is_blocked(env: Env) -> None:
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="orders-db")
    assert result["verdict"] == "BLOCKED"
    assert result["target_revision"] is None and result["revisions_kept"] == [1]
    assert statuses(result) == {"previous_revision": "blocking"}
    # orders-db runs fine: only then is capacity (or isolation) what a refused rollback points to.
    assert "none of its pods fails: if load is what hurts, scale it" in result["next_step"], result["next_step"]


async def test_an_unknown_revision_is_an_error_listing_the_kept_ones(env: Env) -> None:
    async with Client(env.server("safe")) as client:
        message = await refused(client, TOOL, namespace=NS, deployment="checkout", to_revision=7)
    assert "no revision 7" in message and "revisions kept: 1, 2, 3" in message


async def test_a_target_whose_image_failed_to_pull_is_blocked(env: Env) -> None:
    bad_image = "registry.example.com/shop/ledger:1.0"
    body = deployment_body(
        "ledger",
        namespace=NS,
        replicas=2,
        image=bad_image,
        pod_annotations={behaviors.BEHAVIOR: behaviors.IMAGE_PULL_ERROR},
    )
    env.kube.create("deployments", body, NS)

    def pull_failing() -> bool:
        return any(
            (cs.get("state") or {}).get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")
            for pod in env.pods("app=ledger")
            for cs in (pod.get("status") or {}).get("containerStatuses") or []
        )

    await env.until(pull_failing)
    # Revision 2 fixes the image; revision 1's pods go away, the kubelet's pull-failure events stay.
    fixed = {
        "metadata": {"annotations": {behaviors.BEHAVIOR: behaviors.HEALTHY}},
        "spec": {"containers": [{"name": "ledger", "image": "registry.example.com/shop/ledger:1.1"}]},
    }
    env.kube.patch("deployments", "ledger", {"spec": {"template": fixed}}, NS, patch_type="strategic")

    def rolled_out() -> bool:
        status = env.get("deployments", "ledger").get("status") or {}
        return status.get("updatedReplicas") == 2 and status.get("availableReplicas") == 2 == status.get("replicas")

    await env.until(rolled_out)
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="ledger")
    assert (result["current_revision"], result["target_revision"]) == (2, 1)
    image = item(result, "image_available")
    assert image["status"] == "blocking" and bad_image in image["detail"]
    assert any(f'Failed to pull image "{bad_image}"' in line for line in image["evidence"])
    assert result["verdict"] == "BLOCKED" and result["summary"].startswith("BLOCKED")
    assert "to_revision" in result["next_step"]


async def test_claims_that_cannot_be_listed_leave_the_state_check_open_instead_of_failing(env: Env) -> None:
    env.sim.authz.deny("list", "persistentvolumeclaims")
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="checkout")
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="checkout")
    stateful = item(result, "stateful")
    assert stateful["status"] == "not_visible" and "could not be listed" in stateful["detail"]
    assert any("keep data" in q for q in result["questions_for_human"])
    assert result["verdict"] == "CLEAR"  # the other checks still answer
    assert plan["status"] == "blocked"  # safe mode: the rollback's plan, built on the same checks, is still given


async def test_a_paused_deployment_or_the_running_revision_says_what_unblocks_the_rollback(env: Env) -> None:
    async with Client(env.server("safe")) as client:
        running = await check_without_writing(env, client, deployment="checkout", to_revision=3)
        env.kube.patch("deployments", "checkout", {"spec": {"paused": True}}, NS, patch_type="merge")
        paused = await check_without_writing(env, client, deployment="checkout")
    assert running["verdict"] == "BLOCKED" and "already runs revision 3" in running["summary"]
    assert "pick another revision" in running["next_step"] and "scale or isolate" not in running["next_step"]
    assert paused["verdict"] == "BLOCKED" and paused["target_revision"] == 2
    assert "kubectl rollout resume deployment/checkout -n shop" in paused["next_step"]


async def test_after_a_rollback_undoing_it_again_is_not_known_good(env: Env) -> None:
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "rollback_deployment", namespace=NS, deployment="checkout")
        await env.until(lambda: not env.pods("app=checkout,pod-template-hash=" + bad_hash(env)))
        result = await check_without_writing(env, client, deployment="checkout")
    # kubectl's default (revision 3, the bad one the rollback replaced) is not known good: the target is the older
    # revision 1, which served for days, and the check says why it is not the default.
    assert (result["current_revision"], result["target_revision"]) == (4, 1)
    previous = item(result, "previous_revision")
    assert "not the one kubectl rollout undo picks: revision 3 served at most" in previous["detail"], previous
    assert "served only -" not in previous["detail"]  # no negative service time from the reused ReplicaSet
    assert item(result, "known_good")["status"] == "ok"
    assert "to_revision=1" in result["next_step"]


def bad_hash(env: Env) -> str:
    """The pod-template-hash of checkout's revision 3 (the bad one)."""
    replicasets = env.kube.list("replicasets", NS, label_selector="app=checkout").items
    (bad,) = [rs for rs in replicasets if rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"]
    return str(bad["metadata"]["labels"]["pod-template-hash"])


async def test_a_helm_managed_deployment_points_at_the_helm_rollback(env: Env) -> None:
    async with Client(env.server("safe")) as client:
        cart = await check_without_writing(env, client, deployment="cart")
        checkout = await check_without_writing(env, client, deployment="checkout")
    assert cart["helm_release"] == "cart" and checkout["helm_release"] is None
    assert "rollback_helm_release(namespace='shop', release='cart')" in cart["next_step"]
    assert "rollback_helm_release" not in checkout["next_step"]
