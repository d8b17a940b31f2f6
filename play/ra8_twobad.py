"""review-assist8 I-two-bad: two bad deploys in a row and nothing old serving. orders-api (new here: 3 replicas,
strategy Recreate, 1.0 running for days) gets 1.1 (crash-loops: Recreate killed every 1.0 pod first), and 4 minutes
later the "fix" 1.1.1, which crash-loops too. kubectl's default rollback target is 1.1 (bad); 1.0 (revision 1) served
for days. Nothing serves now: an outage. Does the assistant go to revision 1, and say why not revision 2?"""
from harness import Play, run
from incident_response.sim.scenarios.additions import add_app
from incident_response.sim.scenarios.builders import DAY, MINUTE, App, Revision

IMG = "registry.example.com/shop/orders-api"


async def play(p: Play) -> None:
    c = p.sim.cluster
    crash = {"sim.incident-response.dev/behavior": "crashloop"}
    app = App(name="orders-api", namespace="shop", replicas=3, labels={"app": "orders-api"}, selector={"app": "orders-api"},
              strategy={"type": "Recreate"})
    add_app(c, app, [Revision(f"{IMG}:1.0", "initial", 6 * DAY)])
    p.sim.wait_ticks(10)
    c.images[f"{IMG}:1.1"] = crash
    c.images[f"{IMG}:1.1.1"] = crash
    p.kubectl("set", "image", "deploy/orders-api", "-n", "shop", f"orders-api={IMG}:1.1")
    p.sim.wait_ticks(40)
    p.kubectl("set", "image", "deploy/orders-api", "-n", "shop", f"orders-api={IMG}:1.1.1")
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=orders-api")
    p.kubectl("rollout", "history", "deploy/orders-api", "-n", "shop")
    p.say("\n[human] orders-api is down, we shipped 1.1 and then the hotfix 1.1.1, both broken. Roll back!")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("rollback_deployment", namespace="shop", deployment="orders-api")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(60)
            p.kubectl("get", "pods", "-n", "shop", "-l", "app=orders-api")
            await p.call("verify_recovery", namespace="shop", deployment="orders-api")

run(play, "ra8_twobad")
