"""review-assist8 I-mutable-tag: web runs registry.example.com/shop/web:stable (imagePullPolicy Always) for days. CI
pushes a new build to the same tag :stable and runs `kubectl rollout restart deployment/web` (the only template change
is the restartedAt annotation). The new build crash-loops; maxUnavailable 1 / maxSurge 1 (web's): new pods crash, the
rollout stalls with 3 old pods serving. A rollback to the previous revision restores the same tag: the registry now
serves the bad build under it, so the rolled-back pods pull the same code and crash too. (Sim: the catalogue says
what :stable does now; running pods keep the old behaviour.)"""
import json
from harness import Play, run

TAG = "registry.example.com/shop/web:stable"


async def play(p: Play) -> None:
    p.sim.cluster.images[TAG] = {}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": TAG, "imagePullPolicy": "Always"}]}}}}
    p.kubectl("patch", "deploy", "web", "-n", "shop", "-p", json.dumps(patch))
    p.wait(lambda: all(x["spec"]["containers"][0]["image"] == TAG for x in p.pods("shop", "app=web")) and len(p.pods("shop", "app=web")) == 4,
           timeout=120, what="web on :stable")
    p.say("[days later, in the story] CI pushes a new build to :stable and restarts web")
    p.sim.cluster.images[TAG] = {"sim.incident-response.dev/behavior": "crashloop",
                                 "sim.incident-response.dev/log-lines": "FATAL: schema version 42 expected, found 41"}
    p.kubectl("rollout", "restart", "deployment/web", "-n", "shop")
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=web")
    p.kubectl("rollout", "history", "deployment/web", "-n", "shop")
    p.say("\n[human] web pods crash-looping after this morning's CI run. Roll it back?")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("check_rollback_safety", namespace="shop", deployment="web")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(60)
            p.kubectl("get", "pods", "-n", "shop", "-l", "app=web")
            await p.call("verify_recovery", namespace="shop", deployment="web")
            await p.call("assess_namespace", namespace="shop")
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_mutabletag")
