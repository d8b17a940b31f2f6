"""review-assist7: the human rolls back by hand (kubectl rollout undo) 30 s after payments 5.1.0 started
crash-looping, then asks the assistant "is it fixed?". Old pods (15 d) never stopped (maxUnavailable 0)."""
import json
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("patch", "deploy", "payments", "-n", "shop", "-p", json.dumps({"spec": {"template": {
        "metadata": {"annotations": {"sim.incident-response.dev/behavior": "crashloop"}},
        "spec": {"containers": [{"name": "payments", "image": "registry.example.com/shop/payments:5.1.0"}]}}}}))
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=payments")
    await p.call("assess_namespace", namespace="shop")
    p.kubectl("rollout", "undo", "deploy/payments", "-n", "shop")
    p.wait(lambda: len(p.pods("shop", "app=payments")) == 2, what="bad pod gone")
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=payments")
    p.kubectl("get", "events", "-n", "shop", "--field-selector", "type=Warning")
    await p.call("verify_recovery", namespace="shop", deployment="payments")
    await p.call("incident_handoff", namespace="shop")

run(play, "manual")
