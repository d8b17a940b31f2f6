"""A blue/green cut-over gone wrong (review-assist F23), built with real kubectl: shop-blue (7.0, 3 Ready pods, days
old) and shop-green (8.0, crash-looping) each behind a Service; the Ingress is patched from shop-blue to shop-green
(`kubectl patch --type=json`, as teams cut over). assess_namespace said INVESTIGATE shop-green's log (earlier: scale
it up) and the Ingress change appeared nowhere. Now the cut-over is the outage, switched back with
switch_ingress_backend, and the handoff's timeline lists it; real kubectl runs the planned switch.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready
from support.texts import handoff_fields

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
NS = "bg"
DATED = 31  # cluster seconds a revision dated back keeps dating its controller's writes


def deployment(color: str, version: str, minutes_ago: int, behavior: str | None) -> dict[str, Any]:
    labels = {"app": "shop", "color": color}
    template: dict[str, Any] = {
        "metadata": {"labels": labels},
        "spec": {
            "containers": [
                {
                    "name": "shop",
                    "image": f"registry.example.com/bg/shop:{version}",
                    "ports": [{"containerPort": 8080}],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                }
            ]
        },
    }
    if behavior:
        template["metadata"]["annotations"] = {behaviors.BEHAVIOR: behavior}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": f"shop-{color}",
            "namespace": NS,
            "annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: str(minutes_ago)},
        },
        "spec": {"replicas": 3, "selector": {"matchLabels": labels}, "template": template},
    }


def service(color: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"shop-{color}", "namespace": NS},
        "spec": {"selector": {"app": "shop", "color": color}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


INGRESS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "shop", "namespace": NS},
    "spec": {
        "rules": [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "shop-blue", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    },
}
TO_GREEN = '[{"op":"replace","path":"/spec/rules/0/http/paths/0/backend/service/name","value":"shop-green"}]'


def backend(env: Any) -> str:
    return str(env.get("ingresses", "shop", NS)["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"])


async def test_an_ingress_cut_over_to_failing_pods_is_switched_back(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        deployment("blue", "7.0", 6 * 24 * 60, None),
        service("blue"),
        service("green"),
        INGRESS,
    ]
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    await env.until(
        lambda: sum(ready(p) for p in env.pods("color=blue", NS)) == 3 and env.rolled_out("shop-blue", 3, NS)
    )
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(deployment("green", "8.0", 30, behaviors.CRASHLOOP)))
    await env.until(lambda: len(env.pods("color=green", NS)) == 3 and env.settled("shop-green", 3, 0, NS))
    env.sim.advance(DATED)
    kubectl.run("patch", "ingress/shop", "-n", NS, "--type=json", "-p", TO_GREEN)
    assert backend(env) == "shop-green"

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        first = assessed["problems"][0]
        plan = await call(client, first["next_tool"], **first["next_arguments"])
        handoff = await handoff_fields(client, namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS)

    assert (first["impact"], first["action"], first["next_tool"]) == ("outage", "ROLLBACK", "switch_ingress_backend")
    assert first["next_arguments"] == {"namespace": NS, "ingress": "shop", "service": "shop-blue", "rule": 0, "path": 0}
    assert "ingress shop" in first["detail"] and "shop-green" in first["detail"], first
    assert assessed["decision"]["next_tool"] == "switch_ingress_backend", assessed["summary"]
    # evaluate_decision agrees: no deployment's tree fits a cut-over; the switch back is the step.
    assert (evaluated["verdict"], evaluated["next_tool"], evaluated["next_arguments"]) == (
        "PROCEED",
        "switch_ingress_backend",
        first["next_arguments"],
    ), evaluated["summary"]
    assert any(c.startswith("Ingress shop updated (backend now shop-green)") for c in assessed["recent_changes"])
    assert not any(p["next_tool"] == "scale_deployment" for p in assessed["problems"]), assessed["problems"]
    changes = [e["text"] for e in handoff["timeline"] if (e["source"], e["kind"]) == ("cluster", "change")]
    assert any(c.startswith("Ingress shop updated (backend now shop-green)") for c in changes), handoff["timeline"]
    # The oracle: kubectl runs the planned switch; the Ingress sends its path to shop-blue again.
    kubectl.shell(plan["command"])
    assert backend(env) == "shop-blue"
