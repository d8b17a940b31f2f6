"""judge-cause play: the config-edit crash, then the human restores the key by hand (as every tool advised). What the
tools say while the pods come back, and the handoff. Transcript: play/jc_restore.out."""
import json
import urllib.request

from harness import Play, run

NS = "shop"
IMAGES = ("registry.example.com/shop/checkout:2.4.0",)


def behave(p: Play, image: str, behavior: str) -> None:
    body = json.dumps({"image": image, "does": {"behavior": behavior}}).encode()
    req = urllib.request.Request(f"{p.sim.url}/sim/images", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()


async def play(p: Play) -> None:
    p.kubectl("patch", "configmap/checkout-config", "-n", NS, "--type=merge", "-p", '{"data":{"TIMEOUT_MS":"-1"}}')
    behave(p, IMAGES[0], "crashloop")
    p.kubectl("delete", "pod", "-l", "app=checkout", "-n", NS, "--wait=false")

    def backing_off() -> bool:
        ev = p.jget("events", "-n", NS, "--field-selector=reason=BackOff")["items"]
        return any(e["involvedObject"]["name"].startswith("checkout-") for e in ev)
    p.wait(backing_off, 60, "BackOff")
    p.say("\n[human] checkout is down. What happened?")
    await p.call("assess_namespace", namespace=NS)
    p.advance(60)  # the human takes a minute to find the edit
    p.say("\n[human] Right, that was me. Restoring TIMEOUT_MS now.")
    p.kubectl("patch", "configmap/checkout-config", "-n", NS, "--type=merge", "-p", '{"data":{"TIMEOUT_MS":"3000"}}')
    behave(p, IMAGES[0], "healthy")
    p.sim.wait_ticks(4)
    await p.call("assess_namespace", namespace=NS)
    await p.call("check_rollback_safety", namespace=NS, deployment="checkout")
    await p.call("verify_recovery", namespace=NS, deployment="checkout")
    p.say("\n[human] they still crash-loop: restart them")
    p.kubectl("rollout", "restart", "deployment/checkout", "-n", NS)
    p.sim.wait_ticks(80)
    p.kubectl("get", "pods", "-n", NS, "-l", "app=checkout")
    await p.call("assess_namespace", namespace=NS)
    await p.call("verify_recovery", namespace=NS, deployment="checkout")
    await p.call("incident_handoff", namespace=NS)

run(play, "jc_restore")
