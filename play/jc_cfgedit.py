"""judge-cause play: pods crash after a ConfigMap edit that the current and the previous revision both read.
Variant 'nodeploy': nothing deployed for days; 'deploy': checkout 2.5.1 rolled out (healthy) minutes before the edit.
What every tool that talks about cause says (assess, evaluate, check_rollback_safety, the rollback plan, handoff)."""
import json
import sys
import urllib.request

from harness import Play, run

NS = "shop"


def crash_from_now_on(p: Play, image: str) -> None:
    body = json.dumps({"image": image, "does": {"behavior": "crashloop"}}).encode()
    req = urllib.request.Request(f"{p.sim.url}/sim/images", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()


def live(p: Play) -> list:
    return [x for x in p.pods(NS, "app=checkout") if not x["metadata"].get("deletionTimestamp")]


async def play(p: Play) -> None:
    variant = sys.argv[1] if len(sys.argv) > 1 else "nodeploy"
    if variant == "deploy":
        p.kubectl("patch", "deployment/checkout", "-n", NS, "-p", json.dumps({
            "metadata": {"annotations": {"sim.incident-response.dev/rolled-out-minutes-ago": "20"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "checkout", "image": "registry.example.com/shop/checkout:2.5.1"}]}}}}))
        p.wait(lambda: (lambda d: d["status"].get("updatedReplicas") == d["status"].get("availableReplicas") == 4
                        and d["status"].get("replicas") == 4)(p.jget("deploy", "checkout", "-n", NS)), 60, "rollout")
        pass
    p.kubectl("patch", "configmap/checkout-config", "-n", NS, "--type=merge", "-p", '{"data":{"TIMEOUT_MS":"-1"}}')
    p.advance(60)
    for image in ("registry.example.com/shop/checkout:2.4.0", "registry.example.com/shop/checkout:2.5.1"):
        crash_from_now_on(p, image)
    p.kubectl("rollout", "restart", "deployment/checkout", "-n", NS) if variant == "restart" else \
        p.kubectl("delete", "pod", "-l", "app=checkout", "-n", NS, "--wait=false")

    def backing_off() -> bool:
        ev = p.jget("events", "-n", NS, "--field-selector=reason=BackOff")["items"]
        return any(e["involvedObject"]["name"].startswith("checkout-") for e in ev)
    p.wait(backing_off, 60, "BackOff")
    p.sim.wait_ticks(40)
    p.kubectl("get", "pods", "-n", NS, "-l", "app=checkout")
    p.say("\n[human] checkout is crash-looping since a few minutes. What's going on?")
    a = await p.call("assess_namespace", namespace=NS)
    await p.call("evaluate_decision", namespace=NS)
    await p.call("evaluate_decision", namespace=NS, action="ROLLBACK", deployment="checkout")
    await p.call("check_rollback_safety", namespace=NS, deployment="checkout")
    await p.call("rollback_deployment", namespace=NS, deployment="checkout")
    await p.call("incident_handoff", namespace=NS)

run(play, "jc_cfgedit-" + (sys.argv[1] if len(sys.argv) > 1 else "nodeploy"))
