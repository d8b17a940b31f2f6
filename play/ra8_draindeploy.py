"""review-assist8 I-drain-pdb: node-3 reports a failing disk (the human wants it drained now) while payments (PDB
minAvailable 1, 2 replicas) is mid-incident: payments 5.1.0 crash-loops after a deploy (maxUnavailable 0: the two old
pods serve, one on node-3, one on node-2). The budget allows 1 disruption (2 healthy, min 1)... unless the crashing
surge pod counts. What does drain_node plan, and does the assistant stack two mitigations (drain + rollback)?"""
from harness import Play, run


async def play(p: Play) -> None:
    p.sim.cluster.images["registry.example.com/shop/payments:5.1.0"] = {"sim.incident-response.dev/behavior": "crashloop"}
    p.kubectl("set", "image", "deploy/payments", "-n", "shop", "payments=registry.example.com/shop/payments:5.1.0")
    p.sim.wait_ticks(40)
    p.kubectl("get", "pods", "-n", "shop", "-o", "wide", "-l", "app=payments")
    p.kubectl("get", "pdb", "-n", "shop")
    p.say("\n[human] node-3 is throwing disk errors, I need it drained NOW. Also payments looks unhappy.")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop", action="ISOLATE", node="node-3")
    plan = await p.call("drain_node", node="node-3")
    if plan.get("token"):
        await p.confirm(plan)
        p.sim.wait_ticks(40)
        p.kubectl("get", "pods", "-n", "shop", "-o", "wide")
        p.kubectl("get", "pdb", "-n", "shop")
        await p.call("assess_namespace", namespace="shop")
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_draindeploy")
