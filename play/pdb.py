"""Node maintenance blocked by a PodDisruptionBudget that never allows a disruption: payments has 2 replicas and its
PDB says minAvailable 2 (someone copied replicas into it; the shipped PDB said 1). The platform team must drain node-1
(kernel patch) where a payments pod runs. Also 'liveness' variant: api's new revision shortens its liveness probe
(initialDelaySeconds 60 -> 5, failureThreshold 3 -> 1) and the slow-starting app is killed before it is ready:
crash loop (sim: crashloop behaviour with liveness Warning events)."""
import json
import sys
from harness import Play, run

V = sys.argv[1] if len(sys.argv) > 1 else "pdb"


async def play(p: Play) -> None:
    if V == "pdb":
        p.kubectl("patch", "pdb", "payments", "-n", "shop", "--type=merge", "-p", '{"spec":{"minAvailable":2}}')
        p.sim.wait_ticks(20)
        p.kubectl("get", "pdb", "-n", "shop")
        node = p.pods("shop", "app=payments")[0]["spec"]["nodeName"]
        p.kubectl("get", "pods", "-n", "shop", "-o", "wide", "--field-selector", f"spec.nodeName={node}")
        await p.call("assess_namespace", namespace="shop")
        plan = await p.call("drain_node", node=node, include_outside_allow_list=True)
        await p.call("evaluate_decision", namespace="shop", action="ISOLATE")
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(40)
            p.kubectl("get", "pods", "-n", "shop", "-o", "wide", "--field-selector", f"spec.nodeName={node}")
            await p.call("assess_namespace", namespace="shop")
            await p.call("evaluate_decision", namespace="shop")
            plan2 = await p.call("drain_node", node=node, include_outside_allow_list=True)
    else:
        dep = p.jget("deploy", "api", "-n", "shop")
        c = dep["spec"]["template"]["spec"]["containers"][0]
        patch = {"spec": {"template": {"metadata": {"annotations": {"sim.incident-response.dev/behavior": "crashloop",
                  "sim.incident-response.dev/log-lines": "loading model weights (takes ~40s)..."}},
                  "spec": {"containers": [{"name": c["name"], "image": "registry.example.com/shop/api:3.4.0",
                  "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 5, "periodSeconds": 5, "failureThreshold": 1}}]}}}}
        p.kubectl("patch", "deploy", "api", "-n", "shop", "-p", json.dumps(patch))
        p.sim.wait_ticks(80)
        p.kubectl("get", "pods", "-n", "shop", "-l", "app=api")
        a = await p.call("assess_namespace", namespace="shop")
        await p.call("evaluate_decision", namespace="shop")
        await p.call("rollout_history", namespace="shop", deployment="api", revision=2)
        d = a.get("decision") or {}
        if d.get("next_tool"):
            await p.call(d["next_tool"], **d["next_arguments"])

run(play, V)
