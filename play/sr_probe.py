"""review-assist8 I-probe: a readiness probe pointed at the wrong port. api's chart moves the readiness probe to the new
admin port 9090, but the container (image unchanged, api:3.3.0) still serves /healthz on 8080 only: the new pods never
become Ready (no restarts: a failing readiness probe does not kill). maxUnavailable 25% of 3 = 0, maxSurge 1: one new
pod, unready, the rollout stuck; the 3 old pods serve. Progress deadline passes later. The only template difference is
the probe. (Sim: the image catalogue makes new api:3.3.0 pods not-ready; running pods keep theirs.)"""
import json
from harness import Play, run


async def play(p: Play) -> None:
    patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/readinessProbe/httpGet/port", "value": 9090}]
    p.kubectl("patch", "deploy", "api", "-n", "shop", "--type=json", "-p", json.dumps(patch))
    p.sim.wait_ticks(80)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=api")
    p.kubectl("get", "events", "-n", "shop", "--field-selector", "type=Warning")
    p.say("\n[human] api deploy from the chart refactor has been 'in progress' for a while. Anything wrong?")
    a = await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("rollout_history", namespace="shop", deployment="api", revision=int(p.jget("deploy", "api", "-n", "shop")["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))
    await p.call("rollout_history", namespace="shop", deployment="api", revision=2)
    await p.call("rollout_history", namespace="shop", deployment="api")
    await p.call("list_pods", namespace="shop", selector="app=api", problems_only=True)
    await p.call("rollout_status", namespace="shop", deployment="api", timeout_seconds=2)
    d = a.get("decision") or {}
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])
    p.say("\n[10 minutes later: progress deadline exceeded]")
    p.advance(620)
    p.sim.wait_ticks(10)
    await p.call("assess_namespace", namespace="shop")

run(play, "sr_probe")
