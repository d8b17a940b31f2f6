"""review-assist8 I-coredns: the cause is in another namespace. coredns (kube-system) gets a bad config rollout
(image v1.11.4-bad crash-loops, maxUnavailable 100%: both replicas replaced at once): cluster DNS is down. Every app
of shop that resolves a name fails; the sim models no DNS dependency, so shop's own pods stay Ready here. The human,
who owns shop: "everything in shop logs 'lookup payments.shop.svc.cluster.local: i/o timeout'". What do the tools
say when asked about shop, and do they point at kube-system?"""
import json
from harness import Play, run


async def play(p: Play) -> None:
    p.sim.cluster.images["registry.k8s.io/coredns/coredns:v1.11.4"] = {"sim.incident-response.dev/behavior": "crashloop"}
    p.kubectl("patch", "deploy", "coredns", "-n", "kube-system", "-p", json.dumps(
        {"spec": {"strategy": {"rollingUpdate": {"maxUnavailable": "100%", "maxSurge": 0}}}}))
    p.kubectl("set", "image", "deploy/coredns", "-n", "kube-system", "coredns=registry.k8s.io/coredns/coredns:v1.11.4")
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods", "-n", "kube-system")
    p.say("\n[human] everything in shop logs 'lookup payments.shop.svc.cluster.local: i/o timeout' since 5 min. Help.")
    await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("assess_namespace", namespace="kube-system")
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_coredns")
