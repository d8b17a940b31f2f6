"""A new Deployment `reports` (3 replicas, 4500m CPU request each) created 2 minutes ago: every node has 3920m
allocatable, so all 3 pods are Pending (FailedScheduling: Insufficient cpu) on every node. Nothing else wrong.
Variant 'b': an existing deployment (checkout) rolled out a new revision raising its request to 4500m with
maxUnavailable 0 (old pods keep serving), i.e. the stuck rollout (session 5 covered a 3500m request; here it never
fits any node, even empty)."""
import sys
from harness import Play, run

VARIANT = sys.argv[1] if len(sys.argv) > 1 else "a"


def reports() -> dict:
    labels = {"app": "reports"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "reports", "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "reports", "image": "registry.example.com/shop/reports:1.0.0",
                                                           "resources": {"requests": {"cpu": "4500m", "memory": "1Gi"},
                                                                         "limits": {"cpu": "4500m", "memory": "1Gi"}}}]}}}}


async def play(p: Play) -> None:
    if VARIANT == "a":
        p.apply([reports(), {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reports", "namespace": "shop"},
                             "spec": {"selector": {"app": "reports"}, "ports": [{"port": 80, "targetPort": 8080}]}}])
        p.wait(lambda: len(p.pods("shop", "app=reports")) == 3, what="pods")
        p.sim.wait_ticks(60)
        p.kubectl("get", "pods", "-n", "shop", "-l", "app=reports")
        p.kubectl("get", "events", "-n", "shop", "--field-selector", "reason=FailedScheduling")
        target = "reports"
    else:
        p.kubectl("patch", "deploy", "checkout", "-n", "shop", "-p",
                  '{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":0,"maxSurge":1}},"template":{"spec":{"containers":[{"name":"checkout","image":"registry.example.com/shop/checkout:2.5.0","resources":{"requests":{"cpu":"4500m"},"limits":{"cpu":"4500m"}}}]}}}}')
        p.sim.wait_ticks(80)
        p.kubectl("get", "pods", "-n", "shop", "-l", "app=checkout")
        target = "checkout"
    a = await p.call("assess_namespace", namespace="shop")
    e = await p.call("evaluate_decision", namespace="shop")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d.get("next_arguments", {}))
    await p.call("top_nodes")
    await p.call("verify_recovery", namespace="shop", deployment=target)
    await p.call("scale_deployment", namespace="shop", deployment=target, replicas=1)
    await p.call("incident_handoff", namespace="shop")

run(play, f"pending{VARIANT}")
