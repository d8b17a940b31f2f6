"""A pull the registry refuses (credentials) told apart from a tag that does not exist, through an MCP client.

ledger runs 1.0 from a registry that wants credentials (imagePullSecrets: regcred). Its new pods cannot pull:
- the pull Secret regcred was deleted before 1.1 rolled out: the kubelet reports FailedToRetrieveImagePullSecret and
  the registry's 401. Revision 1 pulls from the same registry with the same Secret, so a rollback's new pods are
  refused too wherever a node does not hold 1.0: check_rollback_safety, evaluate_decision and assess_namespace say
  restore the Secret instead of rolling back (all three said roll back / CLEAR before);
- 1.1 does not exist (NotFound) with the Secret in place: the rollback is the fix, nothing is said about credentials;
- revision 1 pulled from a registry that needs no credentials: the rollback is the fix there too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, make_env
from support.result_rule import budgeted

from incident_response.sim import registries
from incident_response.sim.behaviors import BEHAVIOR, IMAGE_PULL_ERROR
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

PRIVATE = "registry.corp.example"
PUBLIC = "registry.example.com"


async def started(sim: RunningSim, state: Path, first_image: str) -> Env:
    """ledger at `first_image` (revision 1) with pull Secret regcred, rolled out on the sim."""
    env = make_env(sim, state)
    sim.cluster.registries[PRIVATE] = frozenset({"ci:right"})
    secret = {
        "metadata": {"name": "regcred", "namespace": NS},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": registries.dockerconfigjson(PRIVATE, "ci", "right")},
    }
    env.kube.create("secrets", secret, NS)
    body = deployment_body("ledger", namespace=NS, replicas=2, image=first_image)
    body["spec"]["template"]["spec"]["imagePullSecrets"] = [{"name": "regcred"}]
    env.kube.create("deployments", body, NS)
    await env.until(lambda: env.rolled_out("ledger", 2))
    return env


async def roll_out_unpullable(env: Env, image: str) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "ledger", "image": image}]}}}}
    env.kube.patch("deployments", "ledger", patch, NS, patch_type="strategic")

    def backing_off() -> bool:
        return any(
            (cs.get("state") or {}).get("waiting", {}).get("reason") == "ImagePullBackOff"
            for pod in env.pods("app=ledger")
            for cs in (pod.get("status") or {}).get("containerStatuses") or []
        )

    await env.until(backing_off, 30)


async def read_all(env: Env) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    async with Client(env.server("safe")) as client:
        safety = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="ledger")
        walked = await budgeted(client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="ledger")
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
    return safety, walked, assessed


def config(safety: dict[str, Any]) -> dict[str, Any] | None:
    return next((i for i in safety["items"] if i["check"] == "config"), None)


async def test_a_deleted_pull_secret_says_restore_it_not_roll_back(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = await started(sim_factory("healthy"), tmp_path / "state", f"{PRIVATE}/shop/ledger:1.0")
    env.kube.delete("secrets", "regcred", NS)
    await roll_out_unpullable(env, f"{PRIVATE}/shop/ledger:1.1")
    safety, walked, assessed = await read_all(env)

    said = (
        f"{PRIVATE} refuses the pods' registry credentials (401 Unauthorized), not the release: restore Secret regcred"
    )
    item = config(safety)
    assert safety["verdict"] == "CHECK_FIRST" and item is not None and item["status"] == "warning", safety["summary"]
    assert item["detail"].startswith(said) and "instead of rolling back" in item["detail"], item["detail"]
    assert f"pulls {PRIVATE}/shop/ledger:1.0 from it with the same credentials" in item["detail"], item["detail"]
    assert any(f"401 Unauthorized from {PRIVATE} (imagePullSecret regcred not found)" in e for e in item["evidence"])
    assert walked["verdict"] == "FIX_FIRST" and said in walked["reason"], walked["summary"]
    decision = assessed["decision"]
    assert decision["primary_action"] == "INVESTIGATE", assessed["summary"]
    assert "cannot pull their image" in decision["reason"] and "R" + said[1:] in decision["reason"], decision["reason"]
    assert "a pod in ImagePullBackOff pulls again within 5 minutes (delete it to retry now)" in decision["reason"]
    assert walked["next_tool"] != "rollback_deployment" and decision["next_tool"] != "rollback_deployment"


async def test_a_tag_that_does_not_exist_is_rolled_back(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> None:
    sim = sim_factory("healthy")
    env = await started(sim, tmp_path / "state", f"{PRIVATE}/shop/ledger:1.0")
    sim.cluster.images[f"{PRIVATE}/shop/ledger:1.1"] = {BEHAVIOR: IMAGE_PULL_ERROR}
    await roll_out_unpullable(env, f"{PRIVATE}/shop/ledger:1.1")
    safety, walked, assessed = await read_all(env)

    assert safety["verdict"] == "CLEAR" and config(safety) is None, safety["summary"]
    assert walked["verdict"] == "PROCEED", walked["summary"]
    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("ROLLBACK", "rollback_deployment"), decision
    assert "credentials" not in assessed["summary"] and "regcred" not in assessed["summary"]


async def test_a_revision_on_a_registry_without_credentials_is_rolled_back(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = await started(sim_factory("healthy"), tmp_path / "state", f"{PUBLIC}/shop/ledger:1.0")
    env.kube.delete("secrets", "regcred", NS)
    await roll_out_unpullable(env, f"{PRIVATE}/shop/ledger:1.1")  # 1.1 moved to the private registry
    safety, walked, assessed = await read_all(env)

    assert safety["verdict"] == "CLEAR" and config(safety) is None, safety["summary"]
    assert walked["verdict"] == "PROCEED", walked["summary"]
    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("ROLLBACK", "rollback_deployment"), decision
