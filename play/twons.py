"""review-assist7: two incidents at once in two namespaces, one server (--namespace team-a --namespace team-b).
team-a: api 1.4.0 -> 1.5.0 crash-loops (old pods serve). team-b: worker OOMKilled at its 128Mi limit (needs 300Mi),
no deploy (the load grew). Two on-call humans, one assistant. Does each assess/declare/plan/verify/handoff stay in
its namespace, and does each handoff tell only its own story?"""
import json

from harness import Play, run


def app(ns: str, name: str, image: str, replicas: int, annotations: dict, limit_mem: str = "256Mi") -> list[dict]:
    labels = {"app": name}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                  "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                  "template": {"metadata": {"labels": labels, "annotations": annotations},
                               "spec": {"containers": [{"name": name, "image": image,
                                        "ports": [{"containerPort": 8080, "name": "http"}],
                                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                                      "limits": {"cpu": "500m", "memory": limit_mem}}}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
         "spec": {"selector": labels, "ports": [{"port": 8080, "targetPort": "http"}]}},
    ]


async def play(p: Play) -> None:
    p.apply(app("team-a", "api", "registry.example.com/a/api:1.4.0", 3, {}))
    p.apply(app("team-b", "worker", "registry.example.com/b/worker:2.2.0", 2, {}, limit_mem="128Mi"))
    p.wait(lambda: len([x for x in p.pods("team-a") + p.pods("team-b") if x["status"].get("phase") == "Running"]) == 5, what="up")
    p.sim.wait_ticks(20)
    # team-b: the worker's memory need grows past its limit (no deploy: patch the pods' behaviour via the template
    # would be a deploy; instead the image catalogue is what the app does: annotate the running template? no -
    # the sim reads pod annotations from the template, so a 'no deploy' OOM needs the need set at creation.)
    p.kubectl("patch", "deploy", "api", "-n", "team-a", "-p", json.dumps({"spec": {"template": {
        "metadata": {"annotations": {"sim.incident-response.dev/behavior": "crashloop"}},
        "spec": {"containers": [{"name": "api", "image": "registry.example.com/a/api:1.5.0"}]}}}}))
    p.kubectl("patch", "deploy", "worker", "-n", "team-b", "-p", json.dumps({"metadata": {"annotations": {
        "sim.incident-response.dev/rolled-out-minutes-ago": "1440"}}, "spec": {"template": {
        "metadata": {"annotations": {"sim.incident-response.dev/behavior": "oom",
                                     "sim.incident-response.dev/memory-need": "300Mi"}}}}}))
    p.sim.wait_ticks(120)
    p.kubectl("get", "pods", "-n", "team-a")
    p.kubectl("get", "pods", "-n", "team-b")
    await p.call("server_info")
    a = await p.call("assess_namespace", namespace="team-a")
    await p.call("declare_incident", title="team-a api crash loop", severity="SEV2", namespace="team-a")
    b = await p.call("assess_namespace", namespace="team-b")
    await p.call("declare_incident", title="team-b worker OOM", severity="SEV3", namespace="team-b")
    pa = await p.call(a["decision"]["next_tool"], **a["decision"]["next_arguments"])
    pb = await p.call(b["decision"]["next_tool"], **b["decision"]["next_arguments"]) if b["decision"].get("next_tool") else {}
    await p.call("list_pending_commands")
    await p.confirm(pa)
    if pb.get("token"):
        await p.confirm(pb)
    p.sim.wait_ticks(120)
    await p.call("verify_recovery", namespace="team-a", deployment="api")
    await p.call("verify_recovery", namespace="team-b", deployment="worker")
    await p.call("list_temporary_measures")
    await p.call("incident_handoff", namespace="team-a")
    await p.call("incident_handoff", namespace="team-b")

run(play, "twons", namespaces=("team-a", "team-b"))
