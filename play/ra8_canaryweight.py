"""review-assist8 I-canary-weight: an nginx canary left at weight 100. Yesterday the team started a canary of web 2.0.0:
Deployment web-canary (1 pod, its own Service web-canary) and an Ingress web-canary for the same host with
nginx.ingress.kubernetes.io/canary: "true" and canary-weight "10". 12 minutes ago someone bumped the weight to 100
(meant to go to 20). web-canary ran 2.0.0-rc1 at 10% since yesterday; 12 minutes ago 2.0.0 went to the canary (it crash-loops). All of shop.example.com
goes to the canary. The stable web (4 pods) is healthy and idle."""
import json
from harness import Play, run
from incident_response.sim.resources import INGRESSES
from incident_response.sim.scenarios.builders import DAY, App, Revision, backdated, ensure
from incident_response.sim.scenarios.additions import add_app

CANARY = "registry.example.com/shop/web:2.0.0"
RC = "registry.example.com/shop/web:2.0.0-rc1"


async def play(p: Play) -> None:
    c = p.sim.cluster
    c.images[RC] = {}
    c.images[CANARY] = {"sim.incident-response.dev/behavior": "crashloop",
                        "sim.incident-response.dev/log-lines": "panic: runtime error: nil map write in cart.Merge (handlers/cart.go:212)"}
    app = App(name="web-canary", namespace="shop", replicas=1, labels={"app": "web-canary", "app.kubernetes.io/name": "web", "version": "canary"},
              selector={"app": "web-canary"}, container="web")
    add_app(c, app, [Revision(RC, "initial", DAY)])
    with c._tick_lock, backdated(c.store, DAY):
        ensure(c.store, INGRESSES, {"metadata": {"name": "web-canary", "namespace": "shop",
               "annotations": {"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "10"}},
               "spec": {"ingressClassName": "nginx", "rules": [{"host": "shop.example.com", "http": {"paths": [
                   {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web-canary", "port": {"number": 8080}}}}]}}]}})
    p.sim.wait_ticks(10)
    p.kubectl("get", "deploy,ingress", "-n", "shop")
    p.say("[12 minutes ago, in the story] 2.0.0 to the canary, and the weight bumped (meant 20, typed 100)")
    p.kubectl("set", "image", "deploy/web-canary", "-n", "shop", "web=" + CANARY)
    p.kubectl("annotate", "ingress", "web-canary", "-n", "shop", "--overwrite", "nginx.ingress.kubernetes.io/canary-weight=100")
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods,ingress,svc", "-n", "shop")
    p.say("\n[human] shop.example.com returns 502/503 for most requests since ~10 minutes. web's pods look fine?!")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
    await p.call("get_endpoints", namespace="shop", service="web")
    await p.call("rollback_canary", namespace="shop", app="web")
    await p.call("get_endpoints", namespace="shop", service="web-canary")
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_canaryweight")
