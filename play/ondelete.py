"""An OnDelete StatefulSet: kv (3 members, 4.1, updateStrategy OnDelete, 10 days old) gets 4.2 applied; nothing rolls
until a pod is deleted. The on-call engineer deletes kv-2 to "pick up the fix": kv-2 comes back on 4.2 and
crash-loops; kv-0/kv-1 still run 4.1. Does the rollback plan say the crashing kv-2 keeps 4.2 until it is deleted
again (OnDelete applies to rollbacks too)?"""
from harness import Play, run

NS = "kv"


def sts(version: str, bad: bool) -> dict:
    labels = {"app": "kv"}
    ann = {"sim.incident-response.dev/behavior": "crashloop"} if bad else {}
    meta = {"name": "kv", "namespace": NS}
    if not bad:
        meta["annotations"] = {"sim.incident-response.dev/rolled-out-minutes-ago": str(10 * 24 * 60)}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta,
            "spec": {"replicas": 3, "serviceName": "kv", "selector": {"matchLabels": labels},
                     "updateStrategy": {"type": "OnDelete"},
                     "template": {"metadata": {"labels": labels, "annotations": ann},
                                  "spec": {"containers": [{"name": "kv", "image": f"registry.example.com/kv/kv:{version}",
                                                           "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}}]}}}}


async def play(p: Play) -> None:
    p.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, sts("4.1", False),
             {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kv", "namespace": NS}, "spec": {"selector": {"app": "kv"}, "ports": [{"port": 6379}]}}])
    p.wait(lambda: len([x for x in p.pods(NS) if x["status"].get("phase") == "Running"]) == 3, timeout=60, what="up")
    p.advance(31)
    p.apply([sts("4.2", True)])
    p.sim.wait_ticks(20)
    p.kubectl("delete", "pod", "kv-2", "-n", NS)
    p.sim.wait_ticks(100)
    p.kubectl("get", "pods", "-n", NS, "-o", "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image,STATUS:.status.phase,RESTARTS:.status.containerStatuses[0].restartCount")
    a = await p.call("assess_namespace", namespace=NS)
    await p.call("evaluate_decision", namespace=NS)
    d = a["decision"]
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(100)
            p.kubectl("get", "pods", "-n", NS, "-o", "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image,STATUS:.status.phase,RESTARTS:.status.containerStatuses[0].restartCount")
            await p.call("verify_recovery", namespace=NS, deployment="kv", kind="statefulset")

run(play, "ondelete")
