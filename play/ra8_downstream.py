"""review-assist8 I-downstream: the HPA at max is a symptom. api 3.3.0 -> 3.4.0 (10 min ago) makes every api call slow
(its pods stay Ready and log 'slow query: orders lookup took 28.4s'); web's request threads pile up waiting on api and
its retries burn CPU: web's load 700m -> 2400m, its HPA (3..6) goes to 6 and sits at max with pods at their limit;
web's new pods log 'upstream api.shop.svc:8080 timed out after 30s'. web was not deployed. What first: raise web's
HPA (more callers hammering a slow api), or roll back api?"""
import json
from harness import Play, run


async def play(p: Play) -> None:
    p.sim.cluster.images["registry.example.com/shop/api:3.4.0"] = {
        "sim.incident-response.dev/log-lines": "slow query: orders lookup took 28.4s\nWARN request GET /v1/orders took 29.1s"}
    p.sim.cluster.images["registry.example.com/shop/web:1.9.1"] = {
        "sim.incident-response.dev/log-lines": "ERROR upstream api.shop.svc:8080 timed out after 30s (GET /v1/orders)\nERROR upstream api.shop.svc:8080 timed out after 30s (GET /v1/cart)"}
    p.kubectl("set", "image", "deploy/api", "-n", "shop", "api=registry.example.com/shop/api:3.4.0")
    p.wait(lambda: all("3.4.0" in x["spec"]["containers"][0]["image"] for x in p.pods("shop", "app=api")) and len(p.pods("shop", "app=api")) == 3,
           timeout=120, what="api rollout")
    p.kubectl("annotate", "deploy/web", "-n", "shop", "--overwrite", "sim.incident-response.dev/load-millicores=2400")
    p.wait(lambda: (p.jget("hpa", "web", "-n", "shop").get("status") or {}).get("currentReplicas") == 6
           and sum(1 for x in p.pods("shop", "app=web") if x["status"].get("phase") == "Running") == 6, timeout=120, what="HPA at max")
    p.sim.wait_ticks(40)
    p.kubectl("get", "hpa", "-n", "shop")
    p.kubectl("top", "pods", "-n", "shop")
    p.say("\n[human] Pager: web p99 latency 30s, error rate 40%. HPA web is at max. Do we scale it up?")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("list_pods", namespace="shop", selector="app=web")
    web_new = sorted(p.pods("shop", "app=web"), key=lambda x: x["metadata"]["creationTimestamp"])[-1]["metadata"]["name"]
    await p.call("get_logs", namespace="shop", pod_or_deployment=web_new)
    await p.call("get_logs", namespace="shop", pod_or_deployment="api")
    await p.call("evaluate_decision", namespace="shop", deployment="api", action="ROLLBACK")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_downstream")
