"""Service targetPort broken by a deploy: api's new revision renames its container port 'http' -> 'web' (a refactor
of the chart), the Service api keeps targetPort: http. Pods are all Running and Ready; the Service has no usable
endpoint (upstream: a named targetPort a pod does not define leaves the pod out). Callers (checkout) break."""
import json
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("get", "svc", "api", "-n", "shop", "-o", "jsonpath={.spec.ports}")
    p.kubectl("get", "deploy", "api", "-n", "shop", "-o", "jsonpath={.spec.template.spec.containers[0].ports}")
    p.kubectl("get", "endpoints", "api", "-n", "shop")
    dep = p.jget("deploy", "api", "-n", "shop")
    ports = dep["spec"]["template"]["spec"]["containers"][0]["ports"]
    newports = [dict(pt, name="web") for pt in ports]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "registry.example.com/shop/api:3.4.0", "ports": newports}]}}}}
    p.kubectl("patch", "deploy", "api", "-n", "shop", "--type=strategic", "-p", json.dumps(patch))
    p.kubectl("annotate", "deploy", "api", "-n", "shop", "kubernetes.io/change-cause=chart 4.0: rename port", "--overwrite")
    p.wait(lambda: all(pd["spec"]["containers"][0]["image"].endswith("3.4.0") for pd in p.pods("shop", "app=api")) and len(p.pods("shop", "app=api")) == 3, what="rollout")
    p.kubectl("rollout", "status", "deploy/api", "-n", "shop", "--timeout=20s", check=False)
    p.kubectl("get", "endpoints", "api", "-n", "shop", "-o", "yaml")
    p.kubectl("get", "pods", "-n", "shop")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("get_endpoints", namespace="shop", service="api")
    await p.call("verify_recovery", namespace="shop", deployment="api")
    await p.call("rollout_history", namespace="shop", deployment="api", revision=2)
    d = a.get("decision") or {}
    if d.get("next_tool") == "rollback_deployment":
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        await p.confirm(plan)
        p.wait(lambda: all(pd["spec"]["containers"][0]["image"].endswith("3.3.0") for pd in p.pods("shop", "app=api")), what="rollback")
        p.sim.wait_ticks(20)
        p.kubectl("get", "endpoints", "api", "-n", "shop")
        await p.call("verify_recovery", namespace="shop", deployment="api")
        await p.call("assess_namespace", namespace="shop")
    await p.call("incident_handoff", namespace="shop")

run(play, "tp")
