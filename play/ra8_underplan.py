"""review-assist8 I-under-plan: the cluster changes between the plan (approved by the human) and the assistant's
confirm. payments 5.0.2 -> 5.1.0 crash-loops (old pods serve). The assistant plans the rollback, the human approves it.
 a (hand): before the assistant confirms, a colleague runs `kubectl rollout undo deployment/payments` by hand.
 b (ci):   before the assistant confirms, CI deploys the "fix" 5.1.1 (it works).
 c (ci-bad): CI deploys 5.1.1 which crash-loops too.
What does confirm_command do, and what do verify/handoff say?"""
import sys
from harness import Play, run

VARIANT = sys.argv[1] if len(sys.argv) > 1 else "hand"
IMG = "registry.example.com/shop/payments"


async def play(p: Play) -> None:
    p.sim.cluster.images[f"{IMG}:5.1.0"] = {"sim.incident-response.dev/behavior": "crashloop"}
    p.sim.cluster.images[f"{IMG}:5.1.1"] = {"sim.incident-response.dev/behavior": "crashloop"} if VARIANT == "ci-bad" else {}
    p.kubectl("set", "image", "deploy/payments", "-n", "shop", f"payments={IMG}:5.1.0")
    p.sim.wait_ticks(60)
    a = await p.call("assess_namespace", namespace="shop")
    d = a["decision"]
    plan = await p.call(d["next_tool"], **d["next_arguments"])
    first = await p.call("confirm_command", token=plan["token"])
    p.approve(plan["token"])
    if VARIANT == "hand":
        p.kubectl("rollout", "undo", "deployment/payments", "-n", "shop")
    else:
        p.kubectl("set", "image", "deploy/payments", "-n", "shop", f"payments={IMG}:5.1.1")
    p.sim.wait_ticks(30)
    p.kubectl("rollout", "history", "deployment/payments", "-n", "shop")
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=payments")
    await p.call("confirm_command", token=plan["token"])
    p.sim.wait_ticks(40)
    p.kubectl("rollout", "history", "deployment/payments", "-n", "shop")
    p.kubectl("get", "deploy", "payments", "-n", "shop", "-o", "wide")
    await p.call("assess_namespace", namespace="shop")
    await p.call("verify_recovery", namespace="shop", deployment="payments")
    if VARIANT == "hand":
        p.say("\n[assistant follows 'Plan again']")
        await p.call("rollback_deployment", namespace="shop", deployment="payments")
        await p.call("evaluate_decision", namespace="shop", deployment="payments", action="ROLLBACK")
    await p.call("incident_handoff", namespace="shop")

run(play, f"ra8_underplan_{VARIANT}")
