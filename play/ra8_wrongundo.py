"""review-assist8 I-wrong-undo: a human's hand rollback went to the wrong revision. orders-api (3 replicas, RollingUpdate
maxUnavailable 0): 1.0 for days (revision 1), 1.1 crash-loops (revision 2), the "fix" 1.1.1 crash-loops too (revision
3); the on-call engineer, before asking the assistant, runs `kubectl rollout undo deployment/orders-api` - kubectl's
default goes to the previous revision: 1.1 (revision 4 now), which crash-loops too. 1.0's pods still serve. What does
the assistant say now: "rollback in progress, wait", or "that undo went to a bad release: go to revision 1"?"""
from harness import Play, run
from incident_response.sim.scenarios.additions import add_app
from incident_response.sim.scenarios.builders import DAY, App, Revision

IMG = "registry.example.com/shop/orders-api"


async def play(p: Play) -> None:
    c = p.sim.cluster
    crash = {"sim.incident-response.dev/behavior": "crashloop"}
    app = App(name="orders-api", namespace="shop", replicas=3, labels={"app": "orders-api"}, selector={"app": "orders-api"},
              strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    add_app(c, app, [Revision(f"{IMG}:1.0", "initial", 6 * DAY)])
    p.sim.wait_ticks(10)
    c.images[f"{IMG}:1.1"] = crash
    c.images[f"{IMG}:1.1.1"] = crash
    p.kubectl("set", "image", "deploy/orders-api", "-n", "shop", f"orders-api={IMG}:1.1")
    p.sim.wait_ticks(30)
    p.kubectl("set", "image", "deploy/orders-api", "-n", "shop", f"orders-api={IMG}:1.1.1")
    p.sim.wait_ticks(30)
    p.say("[the on-call engineer, by hand]")
    p.kubectl("rollout", "undo", "deployment/orders-api", "-n", "shop")
    p.sim.wait_ticks(40)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=orders-api")
    p.say("\n[human] I rolled orders-api back already but it's still crashing?")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("verify_recovery", namespace="shop", deployment="orders-api")
    d = a.get("decision") or {}
    if d.get("next_tool") == "rollback_deployment":
        await p.call(d["next_tool"], **d["next_arguments"])

run(play, "ra8_wrongundo")
