"""A deploy that relabels its pods out of their Service (review-assist8 I1), built with real kubectl.

payments' revision 2 (a chart refactor) drops the pod label `app=payments`; the Deployment's own selector does not
use it, so the rollout is valid and both new pods are Running and Ready, but Service payments selects app=payments
and is left with no endpoint: callers of payments get nothing. assess_namespace said NONE ("every pod is Running and
ready") and evaluate_decision NOTHING_TO_DO, because the Service itself was not edited and no deployment's labels were
one value away from its selector. Now the Service is the outage, rolled back to the revision whose pods it selected;
real kubectl runs the planned rollback and the endpoints come back.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready, serving

pytestmark = pytest.mark.anyio
NS = "shop"
IMAGE = "registry.example.com/shop/payments:5.0.3"


async def test_a_deploy_that_drops_the_label_its_service_selects_is_the_outage_and_is_rolled_back(
    built: tuple[Env, Kubectl],
) -> None:
    env, kubectl = built
    assert env.get("services", "payments")["spec"]["selector"] == {"app": "payments"}
    pod_labels = dict(env.get("deployments", "payments")["spec"]["template"]["metadata"]["labels"])
    del pod_labels["app"]
    relabel = [
        {"op": "replace", "path": "/spec/template/metadata/labels", "value": pod_labels},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": IMAGE},
    ]
    kubectl.run("patch", "deployment/payments", "-n", NS, "--type=json", "-p", json.dumps(relabel))

    def relabelled_and_ready() -> bool:
        pods = [p for p in env.pods("app.kubernetes.io/name=payments") if not p["metadata"].get("deletionTimestamp")]
        return len(pods) == 2 and all(p["spec"]["containers"][0]["image"] == IMAGE and ready(p) for p in pods)

    await env.until(relabelled_and_ready, 40)
    await env.until(lambda: env.rolled_out("payments", 2))
    await env.until(lambda: serving(env, "payments") == ([], []))

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS)
        first = assessed["problems"][0]
        plan = await call(client, first["next_tool"], **first["next_arguments"])

    assert (first["impact"], first["action"], first["next_tool"]) == ("outage", "ROLLBACK", "rollback_deployment")
    assert first["next_arguments"] == {"namespace": NS, "deployment": "payments", "to_revision": 1}, first
    assert "selector app=payments matched revision 1" in first["detail"], first
    assert (evaluated["verdict"], evaluated["next_tool"], evaluated["next_arguments"]) == (
        "PROCEED",
        "rollback_deployment",
        first["next_arguments"],
    ), evaluated["summary"]
    # The oracle: kubectl runs the planned rollback; the pods carry app=payments again and are endpoints.
    kubectl.shell(plan["command"])
    await env.until(lambda: len(serving(env, "payments")[0]) == 2, 40)
