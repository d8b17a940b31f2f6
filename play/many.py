"""A namespace with 300 deployments (1-2 replicas each, days old) and one bad deploy (svc-137: new image crash-loops,
maxUnavailable 0 so its old pod serves) plus one unrelated standing problem (svc-250 OOMs for days). What does the
model read, how big is it, and does the bad one come first?"""
import time
from harness import Play, run

NS = "many"
N = 300


def dep(i: int, version: str = "1.0.0", bad: str | None = None, days: bool = True) -> dict:
    name = f"svc-{i:03d}"
    labels = {"app": name}
    ann = {"sim.incident-response.dev/behavior": bad} if bad else {}
    if bad == "oom":
        ann["sim.incident-response.dev/memory-need"] = "300Mi"
    meta = {"name": name, "namespace": NS}
    if days:
        meta["annotations"] = {"sim.incident-response.dev/rolled-out-minutes-ago": str(4 * 24 * 60 + i)}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 1 + (i % 2), "selector": {"matchLabels": labels},
                     "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                     "template": {"metadata": {"labels": labels, "annotations": ann},
                                  "spec": {"containers": [{"name": "app", "image": f"registry.example.com/many/{name}:{version}",
                                                           "resources": {"requests": {"cpu": "5m", "memory": "16Mi"},
                                                                         "limits": {"cpu": "100m", "memory": "128Mi"}}}]}}}}


import json, sys
FULL = len(sys.argv) > 1 and sys.argv[1] == "full"


def more_nodes(p: Play) -> None:
    node = p.jget("node", "node-3")
    for n in (4, 5):
        body = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{n}", "labels": dict(node["metadata"]["labels"], **{"kubernetes.io/hostname": f"node-{n}"})},
                "spec": {"podCIDR": f"10.244.{n}.0/24", "podCIDRs": [f"10.244.{n}.0/24"]}, "status": node["status"]}
        p.kubectl("create", "-f", "-", stdin=json.dumps(body))


async def play(p: Play) -> None:
    if not FULL:
        more_nodes(p)
        p.sim.wait_ticks(20)
        p.kubectl("get", "nodes")
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}]
    docs += [dep(i, bad="oom" if i == 250 else None) for i in range(N)]
    docs += [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{i:03d}", "namespace": NS},
              "spec": {"selector": {"app": f"svc-{i:03d}"}, "ports": [{"port": 80, "targetPort": 8080}]}} for i in range(N)]
    p.apply(docs)
    p.wait(lambda: len(p.pods(NS)) >= 450, timeout=180, what="pods")
    p.sim.wait_ticks(100)
    p.advance(31)
    p.apply([dep(137, "1.1.0", bad="crashloop", days=False)])
    p.sim.wait_ticks(100)
    p.kubectl("get", "pods", "-n", NS, "--field-selector=status.phase!=Running")
    t = time.monotonic()
    a = await p.call("assess_namespace", namespace=NS)
    p.say(f"(assess took {time.monotonic() - t:.1f} s)")
    await p.call("evaluate_decision", namespace=NS)
    await p.call("list_pods", namespace=NS)
    await p.call("list_events", namespace=NS)
    await p.call("top_pods", namespace=NS)
    await p.call("incident_handoff", namespace=NS)

run(play, "many-full" if FULL else "many")
