"""A deploy that renames the container port a Service's targetPort names (review-assist6 G1), built with real kubectl.

api's revision 3 renames its port http -> web (its readiness probe follows); Service api keeps `targetPort: http`.
Every api pod is Running and Ready, yet none is an endpoint (upstream's endpoints controller leaves a pod out when it
resolves none of the Service's ports): callers of api get nothing. assess_namespace said NONE and evaluate_decision
NOTHING_TO_DO while get_endpoints said the Service sends traffic nowhere, and rollout_history saw only the image
change. Now the Service is the outage, rolled back to the revision whose pods define the port; real kubectl runs the
planned rollback and the endpoints come back.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready, serving

pytestmark = pytest.mark.anyio
NS = "shop"
RENAMED = {
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "api",
                        "image": "registry.example.com/shop/api:3.4.0",
                        "ports": [{"containerPort": 8080, "name": "web", "protocol": "TCP"}],
                        # The chart renames the probe's port with it (a kubelet fails a probe on a port name the
                        # container does not declare, so the pods would never be Ready: another incident).
                        "readinessProbe": {"httpGet": {"port": "web"}},
                    }
                ]
            }
        }
    }
}


async def test_a_renamed_port_the_service_names_is_the_outage_and_is_rolled_back(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    assert env.get("services", "api")["spec"]["ports"][0]["targetPort"] == "http"
    kubectl.run("patch", "deployment/api", "-n", NS, "--type=strategic", "-p", json.dumps(RENAMED))

    def renamed_and_ready() -> bool:
        pods = [p for p in env.pods("app=api") if not p["metadata"].get("deletionTimestamp")]
        return len(pods) == 3 and all(p["spec"]["containers"][0]["image"].endswith(":3.4.0") and ready(p) for p in pods)

    await env.until(renamed_and_ready, 40)
    await env.until(lambda: env.rolled_out("api", 3))
    await env.until(lambda: serving(env, "api") == ([], []))

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS)
        history = await call(client, "rollout_history", namespace=NS, deployment="api", revision=2)
        first = assessed["problems"][0]
        plan = await call(client, first["next_tool"], **first["next_arguments"])

    assert (first["impact"], first["action"], first["next_tool"]) == ("outage", "ROLLBACK", "rollback_deployment")
    assert first["next_arguments"] == {"namespace": NS, "deployment": "api", "to_revision": 2}, first
    assert "targetPort http names no port" in first["detail"] and "define web" in first["detail"], first
    assert (evaluated["verdict"], evaluated["next_tool"], evaluated["next_arguments"]) == (
        "PROCEED",
        "rollback_deployment",
        first["next_arguments"],
    ), evaluated["summary"]
    assert "port names: web=8080 -> http=8080" in history["summary"], history["summary"]
    # The oracle: kubectl runs the planned rollback; the pods define http again and are endpoints.
    kubectl.shell(plan["command"])
    await env.until(lambda: len(serving(env, "api")[0]) == 3, 40)
