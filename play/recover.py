"""'Do nothing, it is recovering.' Variant node: node-2 went NotReady for ~20 s (its pods unready, endpoints
dropped) and came back; every pod is Ready again, Warning events of the blip remain. Variant hpa: web's load rose
(2.4 -> 2.8 cores), the HPA scaled 4 -> 6 on its own; readiness timeouts of the old pods are in the events; now 6/6
Ready and within the HPA's range. An SRE looks, confirms, and does nothing (maybe watches)."""
import sys
from harness import Play, run

V = sys.argv[1] if len(sys.argv) > 1 else "node"


def ready(x: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in x["status"].get("conditions") or [])


async def play(p: Play) -> None:
    if V == "node":
        p.kubectl("annotate", "node", "node-2", "sim.incident-response.dev/condition=NotReady")
        p.wait(lambda: sum(not ready(x) for x in p.pods("shop")) >= 3, what="unready")
        p.advance(20)
        p.kubectl("get", "pods", "-n", "shop", "-o", "wide")
        p.kubectl("annotate", "node", "node-2", "sim.incident-response.dev/condition-")
        p.wait(lambda: all(ready(x) for x in p.pods("shop")), what="ready again")
        target = "web"
    else:
        p.kubectl("annotate", "deploy", "web", "-n", "shop", "sim.incident-response.dev/load-millicores=2800", "--overwrite")
        p.wait(lambda: len([x for x in p.pods("shop", "app=web") if ready(x)]) >= 6, timeout=90, what="hpa scale-up")
        p.sim.wait_ticks(40)
        target = "web"
    p.kubectl("get", "pods,hpa", "-n", "shop")
    p.kubectl("get", "events", "-n", "shop", "--field-selector", "type=Warning")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("verify_recovery", namespace="shop", deployment=target)
    await p.call("top_nodes")
    # the human asks: "should we roll web back, or add replicas, to be safe?"
    await p.call("evaluate_decision", namespace="shop", action="ROLLBACK", deployment=target)
    await p.call("evaluate_decision", namespace="shop", action="SCALE", deployment=target)
    await p.call("incident_handoff", namespace="shop")

run(play, f"recover-{V}")
