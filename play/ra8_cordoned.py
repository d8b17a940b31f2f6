"""review-assist8 I-cordoned: a forgotten maintenance. Someone cordoned node-1 and node-2 for a kernel upgrade (in the
story an hour ago) and went home; nothing moved (a cordon evicts nothing). Now the evening peak: web's load rises
(9000m), its HPA (3..24 here) wants more than node-3 holds; the new ones fit on node-3 until it is full, the rest stay Pending
("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable"). What does the assistant say: raise
the HPA, scale, or uncordon the two idle nodes?"""
import json
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("patch", "hpa", "web", "-n", "shop", "-p", json.dumps({"spec": {"maxReplicas": 24}}), show=False)
    p.kubectl("cordon", "node-1")
    p.kubectl("cordon", "node-2")
    p.kubectl("annotate", "deploy/web", "-n", "shop", "--overwrite", "sim.incident-response.dev/load-millicores=9000")
    p.wait(lambda: any(x["status"].get("phase") == "Pending" for x in p.pods("shop", "app=web")), timeout=120, what="pending")
    p.sim.wait_ticks(20)
    p.advance(150)
    p.sim.wait_ticks(10)
    p.kubectl("get", "nodes")
    p.kubectl("get", "hpa", "web", "-n", "shop")
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=web", "-o", "wide")
    p.kubectl("get", "events", "-n", "shop", "--field-selector", "reason=FailedScheduling")
    p.say("\n[human] web latency is climbing, HPA seems stuck. What's going on?")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("top_nodes")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_cordoned")
