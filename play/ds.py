"""A DaemonSet bad rollout: node-agent (kube-system-like namespace 'obs', one pod per node, 9 days old, 1.6.2) gets
1.7.0 which crash-loops; updateStrategy RollingUpdate maxUnavailable 1: one node's agent is replaced by a crashing
one, the rollout stalls there (the other two keep 1.6.2). Users are not affected directly (node agents: logs/metrics)."""
from harness import Play, run

NS = "obs"


def ds(version: str, behavior: str | None) -> dict:
    labels = {"app": "node-agent"}
    ann = {"sim.incident-response.dev/behavior": behavior} if behavior else {}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "node-agent", "namespace": NS, "annotations": {"sim.incident-response.dev/rolled-out-minutes-ago": "12960"} if not behavior else {}},
            "spec": {"selector": {"matchLabels": labels},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                     "template": {"metadata": {"labels": labels, "annotations": ann},
                                  "spec": {"containers": [{"name": "agent", "image": f"registry.example.com/obs/node-agent:{version}",
                                                           "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}}]}}}}


async def play(p: Play) -> None:
    p.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, ds("1.6.2", None)])
    p.wait(lambda: sum(1 for x in p.pods(NS) if x["status"].get("phase") == "Running") == 3, what="ds up")
    p.sim.wait_ticks(40)
    p.apply([ds("1.7.0", "crashloop")])
    p.sim.wait_ticks(100)
    p.kubectl("get", "ds,pods", "-n", NS, "-o", "wide")
    p.kubectl("rollout", "status", "ds/node-agent", "-n", NS, "--timeout=3s", check=False)
    a = await p.call("assess_namespace", namespace=NS)
    e = await p.call("evaluate_decision", namespace=NS)
    d = a.get("decision") or {}
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d.get("next_arguments", {}))
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(100)
            p.kubectl("get", "ds,pods", "-n", NS, "-o", "wide")
            await p.call("verify_recovery", namespace=NS, kind="daemonset", name="node-agent")
    await p.call("rollout_history", namespace=NS, deployment="node-agent")
    await p.call("incident_handoff", namespace=NS)

run(play, "ds")
