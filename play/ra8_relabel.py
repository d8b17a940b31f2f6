"""review-assist8 I-relabel: a chart refactor relabels payments' pods. payments 5.0.2 -> 5.0.3 (same behaviour) whose
template drops the label app=payments for app.kubernetes.io/name only (the Deployment's selector does not use `app`,
so the rollout is valid). The Service payments selects app=payments: once the rollout finishes it has no endpoint.
Every pod is Running and Ready. checkout's calls to payments fail (the human reports it)."""
import json
from harness import Play, run


async def play(p: Play) -> None:
    p.sim.cluster.images["registry.example.com/shop/payments:5.0.3"] = {}
    d = p.jget("deploy", "payments", "-n", "shop")
    labels = dict(d["spec"]["template"]["metadata"]["labels"])
    labels.pop("app", None)
    labels["app.kubernetes.io/part-of"] = "shop"
    patch = [
        {"op": "replace", "path": "/spec/template/metadata/labels", "value": labels},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "registry.example.com/shop/payments:5.0.3"},
    ]
    p.kubectl("patch", "deploy", "payments", "-n", "shop", "--type=json", "-p", json.dumps(patch))
    p.wait(lambda: all("5.0.3" in x["spec"]["containers"][0]["image"] for x in p.pods("shop", "app.kubernetes.io/name=payments"))
           and len(p.pods("shop", "app.kubernetes.io/name=payments")) == 2, timeout=120, what="rollout")
    p.sim.wait_ticks(10)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app.kubernetes.io/name=payments", "--show-labels")
    p.kubectl("get", "endpoints", "payments", "-n", "shop")
    p.say("\n[human] checkout says payments calls fail with 'no healthy upstream' since a few minutes. What's going on?")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("get_endpoints", namespace="shop", service="payments")
    await p.call("evaluate_decision", namespace="shop")
    d = a.get("decision") or {}
    if d.get("next_tool"):
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        if plan.get("token"):
            await p.confirm(plan)
            p.sim.wait_ticks(40)
            p.kubectl("get", "endpoints", "payments", "-n", "shop")
            await p.call("verify_recovery", namespace="shop", deployment="payments")
    await p.call("incident_handoff", namespace="shop")

run(play, "ra8_relabel")
