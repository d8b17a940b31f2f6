"""review-assist7: a CPU regression, the HPA chases it to its max. web 1.9.1 -> 1.9.2 (a busy loop: every pod burns
its whole 500m limit whatever the load; the load itself, 700m, did not change). The HPA (3..6, 70%) goes 4 -> 6 and
sits at its max with every pod at its CPU limit. Pods stay Ready. What does the assistant propose: raise the HPA's
max (more pods burning CPU in a loop) or roll back the release that started it?"""
import json
from harness import Play, run


async def play(p: Play) -> None:
    patch = {"spec": {"template": {"metadata": {"annotations": {"sim.incident-response.dev/cpu-millicores": "500"}},
             "spec": {"containers": [{"name": "web", "image": "registry.example.com/shop/web:1.9.2"}]}}}}
    p.kubectl("patch", "deploy", "web", "-n", "shop", "-p", json.dumps(patch))
    p.wait(lambda: (p.jget("hpa", "web", "-n", "shop").get("status") or {}).get("currentReplicas") == 6
           and len([x for x in p.pods("shop", "app=web") if "1.9.2" in x["spec"]["containers"][0]["image"]]) == 6,
           timeout=120, what="HPA at max")
    p.sim.wait_ticks(40)
    p.kubectl("get", "hpa", "web", "-n", "shop")
    p.kubectl("top", "pods", "-n", "shop", "-l", "app=web")
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=web")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("evaluate_decision", namespace="shop", action="ROLLBACK", deployment="web")
    await p.call("list_hpas", namespace="shop")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        if plan.get("token"):
            await p.confirm(plan)
            p.wait(lambda: all("1.9.1" in x["spec"]["containers"][0]["image"] for x in p.pods("shop", "app=web")), timeout=120, what="rolled back")
            p.advance(360)  # the HPA's scale-down stabilization window (5 min)
            p.sim.wait_ticks(60)
            p.kubectl("get", "hpa", "web", "-n", "shop")
            p.kubectl("top", "pods", "-n", "shop", "-l", "app=web")
            await p.call("assess_namespace", namespace="shop")
            await p.call("verify_recovery", namespace="shop", deployment="web")
    await p.call("incident_handoff", namespace="shop")

run(play, "hpareg")
