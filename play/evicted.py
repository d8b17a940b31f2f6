"""Leftovers of a kubelet eviction (node DiskPressure an hour ago, over now): 3 of web's pods are Failed/Evicted
("The node was low on resource: ephemeral-storage..."), their ReplicaSet replaced them and web is 4/4 Ready. Nothing
to mitigate (maybe clean up the Failed pods, find the disk hog). Written as pod status, as the kubelet writes it."""
import json
from harness import Play, run


async def play(p: Play) -> None:
    pods = p.pods("shop", "app=web")[:3]
    for pod in pods:
        status = {"status": {"phase": "Failed", "reason": "Evicted",
                             "message": "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 8Gi. Container web was using 6Gi, request is 0, has larger consumption of ephemeral-storage.",
                             "conditions": [{"type": "Ready", "status": "False", "reason": "PodFailed"}],
                             "containerStatuses": [{"name": "web", "image": pod["spec"]["containers"][0]["image"], "ready": False, "restartCount": 0,
                                                    "state": {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown", "message": "The container could not be located when the pod was terminated"}}}]}}
        p.kubectl("patch", "pod", pod["metadata"]["name"], "-n", "shop", "--subresource=status", "--type=merge", "-p", json.dumps(status), show=False)
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=web")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("verify_recovery", namespace="shop", deployment="web")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])

run(play, "evicted")
