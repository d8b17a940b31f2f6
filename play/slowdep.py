"""HPA pinned at max, CPU saturated, and a slow dependency: web's load rises past what 6 pods serve (HPA web max 6,
pinned), while orders-db (one replica, 1 CPU limit) runs at its CPU limit and web's pods log 'too many clients' and
4-second queries against it. Adding web replicas adds DB connections to a saturated database. The sim has no
dependency model: the DB's saturation is its CPU usage annotation (a template change, dated days back) and web's
errors are its log lines."""
from harness import Play, run

DBLOG = ("level=error msg=\"query failed\" err=\"pq: sorry, too many clients already\" db=orders-db:5432\n"
         "level=warn msg=\"slow query\" duration=4.8s db=orders-db:5432 query=\"SELECT * FROM orders WHERE ...\"\n"
         "level=error msg=\"checkout handler timeout\" upstream=orders-db:5432 waited=5s")


async def play(p: Play) -> None:
    p.kubectl("patch", "deploy", "orders-db", "-n", "shop", "-p",
              '{"metadata":{"annotations":{"sim.incident-response.dev/rolled-out-minutes-ago":"43200"}},"spec":{"template":{"metadata":{"annotations":{"sim.incident-response.dev/cpu-millicores":"995"}}}}}')
    p.wait(lambda: any((x["metadata"].get("annotations") or {}).get("sim.incident-response.dev/cpu-millicores") == "995" and x["status"].get("phase") == "Running" for x in p.pods("shop", "app=orders-db")), what="db")
    import json
    p.kubectl("patch", "deploy", "web", "-n", "shop", "-p", json.dumps(
        {"metadata": {"annotations": {"sim.incident-response.dev/load-millicores": "3300", "sim.incident-response.dev/rolled-out-minutes-ago": "2880"}},
         "spec": {"template": {"metadata": {"annotations": {"sim.incident-response.dev/log-lines": DBLOG}}}}}))
    p.wait(lambda: len(p.pods("shop", "app=web")) >= 6, timeout=90, what="hpa")
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods,hpa", "-n", "shop")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("top_pods", namespace="shop")
    await p.call("get_logs", namespace="shop", pod_or_deployment="web")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])
    for pr in a.get("problems", []):
        p.say(f"problem {pr['rank']}: {pr['impact']} {pr['components']} {pr['action']} {pr['next_tool']} {pr['next_arguments']}\n  detail: {pr['detail']}")
    await p.call("scale_deployment", namespace="shop", deployment="orders-db", replicas=5)
    await p.call("evaluate_decision", namespace="shop", deployment="orders-db", action="SCALE")
    await p.call("scale_deployment", namespace="shop", deployment="orders-db", replicas=0)

run(play, "slowdep")
