"""review-assist7: a CronJob backlog eats the namespace's quota. nightly-report (a CronJob, concurrencyPolicy Allow)
has piled up 8 Jobs whose pods hang (Running, never finish: a stuck downstream) since the report DB slowed down.
The namespace has a ResourceQuota of 30 pods (16 app pods + 8 report pods = 24). Then traffic on web rises (700m ->
2400m): the HPA wants 6+ web pods, but only... the quota has room for 6 more, then the HPA wants more and web's
ReplicaSet gets FailedCreate "exceeded quota". The sim has no Job controller: the Jobs and their pods are written
here as a Job controller would (pods owned by the Jobs, restartPolicy Never); the sim serves no CronJob, so the
Jobs stand alone, named as a CronJob names them."""
import json

from harness import Play, run


async def play(p: Play) -> None:
    for i in range(8):
        name = f"nightly-report-2926{i:04d}"
        p.apply([{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "shop",
                  "labels": {"app": "nightly-report"}},
                  "spec": {"template": {"metadata": {"labels": {"job-name": name}}, "spec": {"restartPolicy": "Never",
                           "containers": [{"name": "report", "image": "registry.example.com/shop/report:1.2.0",
                                           "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}}]}}}}])
        job = p.jget("job", name, "-n", "shop")
        p.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{name}-x{i}", "namespace": "shop",
                  "labels": {"job-name": name, "batch.kubernetes.io/job-name": name},
                  "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name,
                                       "uid": job["metadata"]["uid"], "controller": True}]},
                  "spec": {"restartPolicy": "Never", "containers": [{"name": "report", "image": "registry.example.com/shop/report:1.2.0",
                           "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}}]}}])
    p.apply([{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "shop-pods", "namespace": "shop"},
              "spec": {"hard": {"pods": "26"}}}], show=True)
    p.sim.wait_ticks(30)
    p.kubectl("get", "quota,jobs", "-n", "shop")
    p.kubectl("annotate", "deploy", "web", "-n", "shop", "--overwrite", "sim.incident-response.dev/load-millicores=2400")
    p.wait(lambda: "exceeded quota" in p.kubectl("get", "events", "-n", "shop", "--field-selector", "type=Warning", show=False), timeout=120, what="FailedCreate")
    p.sim.wait_ticks(40)
    p.kubectl("get", "hpa,quota", "-n", "shop")
    p.kubectl("get", "events", "-n", "shop", "--field-selector", "type=Warning")
    p.kubectl("get", "pods", "-n", "shop")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    d = a["decision"]
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])

run(play, "jq_backlog")
