"""review-assist8 I-hpa-edit: someone lowered web's HPA max to cut cost (6 -> 3, and min 3 -> 2) 8 minutes ago during
the evening peak. web's load is 2400m; at 3 pods every pod is at its CPU limit, latency climbs. Nothing was deployed.
An SRE's first question: what changed? The HPA's bounds, by hand, minutes ago: put them back."""
import json
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("annotate", "deploy/web", "-n", "shop", "--overwrite", "sim.incident-response.dev/load-millicores=2000")
    p.wait(lambda: (p.jget("hpa", "web", "-n", "shop").get("status") or {}).get("currentReplicas") == 6, timeout=120, what="HPA at 6")
    p.sim.wait_ticks(10)
    p.kubectl("get", "hpa", "web", "-n", "shop")
    p.say("[someone, 8 minutes ago in the story] lowers the HPA's bounds")
    p.kubectl("patch", "hpa", "web", "-n", "shop", "-p", json.dumps({"spec": {"minReplicas": 2, "maxReplicas": 3}}))
    p.wait(lambda: len([x for x in p.pods("shop", "app=web") if not x["metadata"].get("deletionTimestamp")]) == 3, timeout=120, what="scaled to 3")
    p.sim.wait_ticks(30)
    p.kubectl("get", "hpa", "web", "-n", "shop")
    p.kubectl("top", "pods", "-n", "shop", "-l", "app=web")
    p.say("\n[human] web latency alerts firing, p99 4s. No deploys today. What's happening?")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("list_hpas", namespace="shop")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_hpaedit")
