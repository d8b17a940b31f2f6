"""review-assist8 I-restore-drift: the assistant's override_hpa (web 3..6 -> 9..9) is in place; later the team lead
edits the HPA by hand to 6..12 (the new normal after the incident). Then the assistant, cleaning up, restores its
measure: does restore_measure put back 3..6 over the lead's newer edit, and does it say so?"""
import json
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("annotate", "deploy/web", "-n", "shop", "--overwrite", "sim.incident-response.dev/load-millicores=2400")
    p.wait(lambda: (p.jget("hpa", "web", "-n", "shop").get("status") or {}).get("currentReplicas") == 6, timeout=120, what="HPA at 6")
    p.sim.wait_ticks(20)
    plan = await p.call("override_hpa", namespace="shop", hpa="web", min_replicas=9, max_replicas=9)
    await p.confirm(plan)
    p.sim.wait_ticks(20)
    p.say("\n[the team lead, by hand] HPA web -> 6..12")
    p.kubectl("patch", "hpa", "web", "-n", "shop", "-p", json.dumps({"spec": {"minReplicas": 6, "maxReplicas": 12}}))
    p.sim.wait_ticks(10)
    m = await p.call("list_temporary_measures")
    p.say("\n[human] incident's over, clean up your temporary measures")
    ids = [x.get("measure_id") for x in (m.get("measures") or [])]
    p.say(f"measure ids: {ids}")
    if ids:
        r = await p.call("restore_measure", measure_id=ids[0]) if ids[0] else None
        if r and r.get("token"):
            await p.confirm(r)
            p.kubectl("get", "hpa", "web", "-n", "shop")
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_restoredrift")
