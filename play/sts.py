"""review-assist7: a StatefulSet's bad RollingUpdate, canaried by partition=2. kv (3 members, OrderedReady, RollingUpdate, claims per member)
4.1 -> 4.2 crash-loops: kv-2 is updated first and never gets Ready, so the rollout stops there (kv-0, kv-1 serve on
4.1). The upstream known issue: reverting the template is not enough, the StatefulSet waits for kv-2 to be Ready
forever; kv-2 must be deleted too."""
import json

from harness import Play, run


async def play(p: Play) -> None:
    labels = {"app": "kv"}
    p.apply([{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "kv", "namespace": "shop"},
              "spec": {"replicas": 3, "serviceName": "kv", "selector": {"matchLabels": labels},
                       "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
                       "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                           "name": "kv", "image": "registry.example.com/shop/kv:4.1.0",
                           "ports": [{"containerPort": 2379, "name": "client"}],
                           "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                           "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                       "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                           "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}},
             {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kv", "namespace": "shop"},
              "spec": {"selector": labels, "ports": [{"port": 2379, "targetPort": "client"}]}}])
    p.wait(lambda: len([x for x in p.pods("shop", "app=kv") if any(c.get("type") == "Ready" and c.get("status") == "True" for c in x["status"].get("conditions", []))]) == 3, timeout=120, what="kv up")
    p.advance(600)
    p.sim.wait_ticks(20)
    p.say("(a canary by partition: only kv-2 takes the new revision)")
    sts = p.jget("sts", "-n", "shop")["items"]
    name = sts[0]["metadata"]["name"]
    c = sts[0]["spec"]["template"]["spec"]["containers"][0]
    p.say(f"statefulset {name}, image {c['image']}, policy {sts[0]['spec'].get('podManagementPolicy')}, strategy {sts[0]['spec'].get('updateStrategy')}")
    new = c["image"].rsplit(":", 1)[0] + ":4.2.0"
    p.kubectl("patch", "sts", name, "-n", "shop", "-p", json.dumps({"spec": {"template": {
        "metadata": {"annotations": {"sim.incident-response.dev/behavior": "crashloop"}},
        "spec": {"containers": [{"name": c["name"], "image": new}]}}}}))
    p.sim.wait_ticks(120)
    p.kubectl("get", "pods", "-n", "shop", "-o", "wide")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    d = a["decision"]
    if d.get("next_tool", "").startswith("rollback"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        await p.confirm(plan)
        p.sim.wait_ticks(200)
        p.kubectl("get", "pods", "-n", "shop", "-o", "wide")
        await p.call("verify_recovery", namespace="shop", deployment=name, kind="statefulset")
        await p.call("incident_handoff", namespace="shop")

run(play, "sts", scenario="healthy")
