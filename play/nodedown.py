"""review-assist7: a node dies under a single-replica database and some web pods. node-X (the one orders-db runs on)
goes NotReady (kubelet stopped posting). 5 minutes later the taint manager evicts its pods: they stay Terminating
(no kubelet to confirm), the Deployments create replacements elsewhere. orders-db (1 replica, Recreate, a
ReadWriteOnce claim) is a database: its replacement needs the volume the dead node still holds."""
import json

from harness import Play, run


async def play(p: Play) -> None:
    db = p.pods("shop", "app=orders-db")[0]
    node = db["spec"]["nodeName"]
    p.kubectl("get", "pods", "-n", "shop", "-o", "wide", "--field-selector", f"spec.nodeName={node}")
    p.kubectl("get", "deploy", "orders-db", "-n", "shop", "-o", "jsonpath={.spec.strategy}{\"\\n\"}{.spec.template.spec.volumes}")
    p.kubectl("get", "pvc", "-n", "shop")
    p.kubectl("annotate", "node", node, "sim.incident-response.dev/condition=NotReady")
    p.sim.wait_ticks(20)
    p.advance(90)
    p.sim.wait_ticks(10)
    p.kubectl("get", "nodes")
    p.kubectl("get", "pods", "-n", "shop", "-o", "wide")
    await p.call("assess_namespace", namespace="shop")
    p.say("\n(five more minutes: the taint manager evicts)")
    p.advance(300)
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods", "-n", "shop", "-o", "wide")
    p.kubectl("get", "events", "-n", "shop", "--field-selector", "type=Warning")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    d = a["decision"]
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(10)
            await p.call("assess_namespace", namespace="shop")
            await p.call("drain_node", node=plan["command"].split()[2], include_outside_allow_list=True)
    await p.call("verify_recovery", namespace="shop", deployment="orders-db")
    await p.call("verify_recovery", namespace="shop", deployment="web")

run(play, "nodedown")
