"""review-assist7: a ConfigMap change with no deploy. checkout-config's PAYMENTS_URL is edited in place (a typo'd
host) by someone fixing something else; checkout reads it only at start. Nothing fails until pods restart: the HPA
adds a pod (load), the new pod reads the bad URL (the sim cannot fail it on config: the human reports "new checkout
pods log connection refused to payments"). What do the tools say, and is the rollback they may offer honest?"""
import json

from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("get", "configmap", "checkout-config", "-n", "shop", "-o", "jsonpath={.data}")
    p.kubectl("patch", "configmap", "checkout-config", "-n", "shop", "--type=merge", "-p",
              json.dumps({"data": {"PAYMENTS_URL": "http://payments.shop.svc:8081"}}))
    p.sim.wait_ticks(10)
    p.say("\n[human] new checkout pods log 'connection refused payments.shop.svc:8081' since a few minutes. What changed?")
    await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop", deployment="checkout", action="ROLLBACK")
    await p.call("check_rollback_safety", namespace="shop", deployment="checkout")
    await p.call("incident_handoff", namespace="shop", deployment="checkout")

run(play, "cmnodeploy")
