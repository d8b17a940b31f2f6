"""An init container crash-looping, no deploy: orders (3 pods, 5 days old) has an init container wait-for-db
(pg_isready against orders-db); the database's password was rotated, so replaced pods loop in
Init:CrashLoopBackOff. Two pods are replaced (node maintenance). The sim runs no init containers: the replaced
pods' status is written as a kubelet writes it."""
import datetime as dt
import json
from harness import Play, run

NS = "init"


def now(back: int = 0) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=back)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def play(p: Play) -> None:
    labels = {"app": "orders"}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "orders", "namespace": NS, "annotations": {"sim.incident-response.dev/rolled-out-minutes-ago": str(5 * 24 * 60)}},
           "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": {
                        "initContainers": [{"name": "wait-for-db", "image": "postgres:16.4", "command": ["sh", "-c", "until pg_isready -h orders-db; do sleep 2; done"]}],
                        "containers": [{"name": "orders", "image": "registry.example.com/init/orders:4.2.0", "ports": [{"containerPort": 8080}],
                                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}}]}}}}
    p.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, dep,
             {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "orders", "namespace": NS}, "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}}])
    p.wait(lambda: len([x for x in p.pods(NS) if x["status"].get("phase") == "Running"]) == 3, what="up")
    p.advance(31)
    old = p.pods(NS)[:2]
    for x in old:
        p.kubectl("delete", "pod", x["metadata"]["name"], "-n", NS, "--wait=false")
    names = {x["metadata"]["name"] for x in old}
    p.wait(lambda: len([x for x in p.pods(NS) if x["metadata"]["name"] not in names and x["status"].get("phase") == "Running"]) == 3, what="replaced")
    p.sim.wait_ticks(10)
    new = [x for x in p.pods(NS) if x["metadata"]["name"] not in names]
    new.sort(key=lambda x: x["metadata"]["creationTimestamp"])
    for pod in new[-2:]:
        status = {"status": {"phase": "Pending",
                  "conditions": [{"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized", "message": "containers with incomplete status: [wait-for-db]"},
                                 {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
                  "initContainerStatuses": [{"name": "wait-for-db", "image": "postgres:16.4", "ready": False, "restartCount": 4, "started": False,
                                             "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s restarting failed container=wait-for-db"}},
                                             "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "startedAt": now(30), "finishedAt": now(28)}}}],
                  "containerStatuses": [{"name": "orders", "image": "registry.example.com/init/orders:4.2.0", "ready": False, "restartCount": 0, "started": False,
                                         "state": {"waiting": {"reason": "PodInitializing"}}}]}}
        p.kubectl("patch", "pod", pod["metadata"]["name"], "-n", NS, "--subresource=status", "--type=merge", "-p", json.dumps(status), show=False)
    p.sim.wait_ticks(10)
    p.kubectl("get", "pods", "-n", NS)
    a = await p.call("assess_namespace", namespace=NS)
    await p.call("evaluate_decision", namespace=NS)
    d = a["decision"]
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])
    bad = new[-1]["metadata"]["name"]
    await p.call("get_logs", namespace=NS, pod_or_deployment=bad, container="wait-for-db", previous=True)
    p.kubectl("logs", bad, "-n", NS, "-c", "wait-for-db", "--previous", check=False)
    await p.call("list_pods", namespace=NS)

run(play, "init")
