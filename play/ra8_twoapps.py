"""review-assist8 I-two-apps: two unrelated failures in one namespace at once. (1) cart 2.4.0 -> 2.5.0 crash-loops (old
pods serve: maxUnavailable 0); (2) orders-db (single replica, no deploy for 30 days) restarts OOMKilled: its data grew
and postgres now needs more than its limit (the pod was rescheduled an hour ago... here: deleted now, replacement
OOMs). Users: orders cannot be placed (orders-db down), cart is fine (old pods serve). Does the assistant lead with
orders-db (outage) and not bundle both into one story? After the first mitigation, does it move to the second?"""
from harness import Play, run


async def play(p: Play) -> None:
    c = p.sim.cluster
    c.images["registry.example.com/shop/cart:2.5.0"] = {"sim.incident-response.dev/behavior": "crashloop"}
    db = p.jget("deploy", "orders-db", "-n", "shop")
    p.say(str(db["spec"]["template"]["spec"]["containers"][0].get("resources")))
    c.images["docker.io/library/postgres:16.4"] = {"sim.incident-response.dev/behavior": "oom", "sim.incident-response.dev/memory-need": "3Gi"}
    p.kubectl("set", "image", "deploy/cart", "-n", "shop", "cart=registry.example.com/shop/cart:2.5.0")
    p.kubectl("delete", "pod", "-n", "shop", "-l", "app=orders-db", "--wait=false")
    p.sim.wait_ticks(80)
    p.kubectl("get", "pods", "-n", "shop")
    p.say("\n[human] Orders are failing at checkout, and someone deployed cart a few minutes ago. Help.")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(60)
    a2 = await p.call("assess_namespace", namespace="shop")
    d2 = a2.get("decision") or {}
    if d2.get("next_tool"):
        plan = await p.call(d2["next_tool"], **d2["next_arguments"])
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(60)
    await p.call("assess_namespace", namespace="shop")
    await p.call("verify_recovery", namespace="shop", deployment="orders-db")
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_twoapps")
