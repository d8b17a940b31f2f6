"""review-assist8 I-secret-gone: a cleanup job deletes Secret checkout-db ("unused", by a label typo). checkout's pods
keep running (env read at start); 20 minutes later a node drain / rollout restart replaces two of them: the new pods
cannot start: CreateContainerConfigError 'secret "checkout-db" not found' (written as a real kubelet would: the sim's
kubelet does not check Secret refs). No deploy. What does the assistant find and propose?"""
import json
from harness import Play, run


async def play(p: Play) -> None:
    d = p.jget("deploy", "checkout", "-n", "shop")
    p.say(json.dumps(d["spec"]["template"]["spec"]["containers"][0].get("env")))
    p.kubectl("delete", "secret", "checkout-db", "-n", "shop")
    p.kubectl("rollout", "restart", "deployment/checkout", "-n", "shop")
    p.sim.wait_ticks(30)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=checkout")
    p.kubectl("get", "events", "-n", "shop", "--field-selector", "type=Warning")
    p.say("\n[human] checkout rollout stuck since someone restarted it. Help.")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("check_rollback_safety", namespace="shop", deployment="checkout")
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_secretgone")
