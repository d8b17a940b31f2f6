"""A tag pushed again, proven by the digests (review-assist8's mutable-tag case, play/ra8_mutabletag.py).

web runs registry.example.com/shop/web:stable (imagePullPolicy Always); CI pushes a new build under the tag (POST
/sim/images with "push": the registry serves a new digest from then on) and runs `kubectl rollout restart`. The new
pods pull the new build (their imageID is its digest) and crash-loop; the old pods still run the old digest. I7's
same_template warning said the cause is "outside the template (a re-pushed tag, a ConfigMap or Secret)" and asked
the human whether the tag was pushed again; the pods' digests answer it: check_rollback_safety, evaluate_decision
and assess_namespace's reason say the tag was re-pushed, with both digests, and ask no more. Without a push
(test_restart_rollback.py) the digests are equal and the question stays.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env
from support.result_rule import budgeted

pytestmark = pytest.mark.anyio
NS = "shop"
TAG = "registry.example.com/shop/web:stable"
PULL_ALWAYS = {
    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": TAG, "imagePullPolicy": "Always"}]}}}
}


def push(env: Env, does: dict[str, str]) -> None:
    """CI pushes a new build under the tag (the sim's admin endpoint: what the build does, and a new digest)."""
    body = json.dumps({"image": TAG, "does": does, "push": True}).encode()
    request = urllib.request.Request(
        f"{env.sim.url}/sim/images", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def image_ids(pods: list[dict[str, Any]]) -> set[str]:
    statuses = [s for p in pods for s in (p.get("status") or {}).get("containerStatuses") or []]
    return {str(s.get("imageID")) for s in statuses if s.get("image") == TAG and s.get("imageID")}


async def test_digests_that_differ_prove_the_tag_was_pushed_again(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    env.sim.cluster.images[TAG] = {}
    kubectl.run("patch", "deployment/web", "-n", NS, "-p", json.dumps(PULL_ALWAYS))
    await env.until(lambda: env.rolled_out("web", 4), 60)
    before = image_ids(env.pods("app=web"))
    push(env, {"behavior": "crashloop"})
    kubectl.run("rollout", "restart", "deployment/web", "-n", NS)

    def fresh() -> list[dict[str, Any]]:
        stamp = "kubectl.kubernetes.io/restartedAt"
        return [p for p in env.pods("app=web") if stamp in (p["metadata"].get("annotations") or {})]

    def restarted_pods_crash() -> bool:
        statuses = [s for p in fresh() for s in (p.get("status") or {}).get("containerStatuses") or []]
        return env.observed("web") and any(s.get("restartCount", 0) >= 1 for s in statuses)

    await env.until(restarted_pods_crash, 60)
    assert len(before) == 1 and not before & image_ids(fresh()), (before, image_ids(fresh()))
    async with Client(env.server("safe")) as client:
        safety = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="web")
        evaluated = await budgeted(client, "evaluate_decision", namespace=NS, deployment="web", action="ROLLBACK")
        assessed = await budgeted(client, "assess_namespace", namespace=NS)

    [same] = [i for i in safety["items"] if i["check"] == "same_template"]
    assert same["status"] == "warning" and f"{TAG} was pushed again" in same["detail"], same
    assert "the tag was re-pushed" in same["detail"] and "revision 4's pods run sha256:" in same["detail"], same
    assert not any("pushed again since" in q for q in safety["questions_for_human"]), safety["questions_for_human"]
    assert evaluated["verdict"] == "CHECK_OLDER" and f"{TAG} was pushed again" in evaluated["reason"], evaluated
    reason = assessed["decision"]["reason"]
    assert f"{TAG} was pushed again" in reason and "the tag was re-pushed" in reason, reason
