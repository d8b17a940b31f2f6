"""CreateContainerConfigError (the sim's kubelet does not check config keys: the new pods' status is written with
`kubectl patch --subresource=status` as a real kubelet would, plus its Warning events).
 a: a deploy of checkout 2.5.0 adds env DB_PASSWORD from Secret checkout-db key 'password' (the Secret has only
    'url'); maxUnavailable 0: the surge pod is stuck in CreateContainerConfigError, the 4 old pods serve.
 b: no deploy; someone edits ConfigMap checkout-config and drops key PAYMENTS_URL (which checkout's template reads
    with configMapKeyRef); two checkout pods are then deleted (a node drain): their replacements are stuck in
    CreateContainerConfigError, 2 of 4 serve. Rolling back cannot help (the template did not change).
 c: image pull 401: a deploy of payments 5.1.0 from a private registry whose pull secret expired; the new pod is
    ErrImagePull/ImagePullBackOff with '401 Unauthorized'; the old image is cached on the nodes that run it."""
import datetime as dt
import json
import sys
from harness import Play, run

V = sys.argv[1] if len(sys.argv) > 1 else "a"


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def waiting(p: Play, pod: dict, reason: str, message: str, events: list[tuple[str, str]]) -> None:
    c = pod["spec"]["containers"][0]
    status = {"status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now()},
        {"type": "Initialized", "status": "True", "lastTransitionTime": now()},
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": f"containers with unready status: [{c['name']}]", "lastTransitionTime": now()},
        {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now()}],
        "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "", "ready": False, "restartCount": 0, "started": False,
                               "state": {"waiting": {"reason": reason, "message": message}}}]}}
    p.kubectl("patch", "pod", pod["metadata"]["name"], "-n", "shop", "--subresource=status", "--type=merge", "-p", json.dumps(status), show=False)
    for i, (r, m) in enumerate(events):
        p.apply([{"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{pod['metadata']['name']}.cc{i}", "namespace": "shop"},
                  "involvedObject": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": "shop", "uid": pod["metadata"]["uid"], "fieldPath": f"spec.containers{{{c['name']}}}"},
                  "reason": r, "type": "Warning", "message": m, "source": {"component": "kubelet", "host": pod["spec"].get("nodeName", "")},
                  "firstTimestamp": now(), "lastTimestamp": now(), "count": 6}])


def fresh(p: Play, app: str, image_suffix: str = "") -> list[dict]:
    return [x for x in p.pods("shop", f"app={app}") if not x["metadata"].get("deletionTimestamp")
            and (not image_suffix or x["spec"]["containers"][0]["image"].endswith(image_suffix))]


async def play(p: Play) -> None:
    if V == "a":
        patch = {"spec": {"strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                          "template": {"spec": {"containers": [{"name": "checkout", "image": "registry.example.com/shop/checkout:2.5.0",
                                                                "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "password"}}}]}]}}}}
        p.kubectl("patch", "deploy", "checkout", "-n", "shop", "-p", json.dumps(patch))
        p.wait(lambda: len(fresh(p, "checkout", "2.5.0")) >= 1, what="surge")
        p.sim.wait_ticks(10)
        # hold the rollout where a real one would stop: the surge pod never becomes Ready
        for pod in fresh(p, "checkout", "2.5.0"):
            waiting(p, pod, "CreateContainerConfigError", 'couldn\'t find key password in Secret shop/checkout-db',
                    [("Failed", "Error: couldn't find key password in Secret shop/checkout-db")])
        target = "checkout"
    elif V == "b":
        p.advance(31)
        p.kubectl("patch", "configmap", "checkout-config", "-n", "shop", "--type=json", "-p", '[{"op":"remove","path":"/data/PAYMENTS_URL"}]')
        old = fresh(p, "checkout")[:2]
        for x in old:
            p.kubectl("delete", "pod", x["metadata"]["name"], "-n", "shop", "--wait=false")
        names = {x["metadata"]["name"] for x in old}
        p.wait(lambda: len([x for x in fresh(p, "checkout") if x["metadata"]["name"] not in names]) == 4, what="replacements")
        p.sim.wait_ticks(10)
        for pod in [x for x in fresh(p, "checkout") if x["metadata"]["name"] not in names and x["metadata"]["creationTimestamp"] >= old[0]["metadata"]["creationTimestamp"]][-2:]:
            waiting(p, pod, "CreateContainerConfigError", "couldn't find key PAYMENTS_URL in ConfigMap shop/checkout-config",
                    [("Failed", "Error: couldn't find key PAYMENTS_URL in ConfigMap shop/checkout-config")])
        target = "checkout"
    else:
        patch = {"spec": {"strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                          "template": {"spec": {"containers": [{"name": "payments", "image": "registry.example.com/shop/payments:5.1.0"}]}}}}
        p.kubectl("patch", "deploy", "payments", "-n", "shop", "-p", json.dumps(patch))
        p.wait(lambda: len(fresh(p, "payments", "5.1.0")) >= 1, what="surge")
        p.sim.wait_ticks(10)
        img = "registry.example.com/shop/payments:5.1.0"
        msg = (f'failed to pull and unpack image "{img}": failed to resolve reference "{img}": pull access denied, '
               f'repository does not exist or may require authorization: server message: insufficient_scope: '
               f'authorization failed: unexpected status from HEAD request to https://registry.example.com/v2/shop/payments/manifests/5.1.0: 401 Unauthorized')
        for pod in fresh(p, "payments", "5.1.0"):
            waiting(p, pod, "ImagePullBackOff", f'Back-off pulling image "{img}"',
                    [("Failed", f'Failed to pull image "{img}": rpc error: code = Unknown desc = {msg}'),
                     ("Failed", "Error: ErrImagePull"), ("Failed", "Error: ImagePullBackOff")])
        target = "payments"
    p.sim.wait_ticks(20)
    p.kubectl("get", "pods", "-n", "shop", "-l", f"app={target}")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    d = a.get("decision") or {}
    await p.call("check_rollback_safety", namespace="shop", deployment=target)
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
    await p.call("incident_handoff", namespace="shop")

run(play, f"ccce-{V}")
