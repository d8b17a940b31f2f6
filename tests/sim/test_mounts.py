"""ConfigMap and Secret volumes with real kubectl as the oracle: a pod whose volume names a missing object (not
optional) stays ContainerCreating with a FailedMount Warning naming it, as the kubelet reports it; it starts once the
object exists; an optional one that is missing does not hold it."""

from __future__ import annotations

import json
from collections.abc import Callable

from support.kubectl_runner import Kubectl
from support.sims import SimFactory

from incident_response.sim.serve import RunningSim

NS = "shop"


def _pod(name: str, volume: dict[str, object]) -> str:
    container = {"name": "main", "image": "busybox", "volumeMounts": [{"name": "v", "mountPath": "/etc/v"}]}
    spec = {"containers": [container], "volumes": [{"name": "v", **volume}]}
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}, "spec": spec})


def test_a_missing_configmap_or_secret_volume_holds_the_pod_until_it_exists(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=_pod("files", {"configMap": {"name": "rates"}}))
    k.run("apply", "-f", "-", stdin=_pod("creds", {"secret": {"secretName": "db-tls"}}))
    k.run("apply", "-f", "-", stdin=_pod("maybe", {"configMap": {"name": "extra", "optional": True}}))
    sim.advance(5)
    rows = {r["NAME"]: r["STATUS"] for r in k.table("pods", "-n", NS)}
    assert (rows["files"], rows["creds"], rows["maybe"]) == ("ContainerCreating", "ContainerCreating", "Running")
    described = k.run("describe", "pod", "files", "-n", NS).stdout
    assert 'MountVolume.SetUp failed for volume "v" : configmap "rates" not found' in described, described
    events = k.run("get", "events", "-n", NS, "--field-selector=reason=FailedMount", "-o", "json").stdout
    messages = {e["involvedObject"]["name"]: e["message"] for e in json.loads(events)["items"]}
    assert messages["creds"] == 'MountVolume.SetUp failed for volume "v" : secret "db-tls" not found', messages
    assert "maybe" not in messages
    k.run("create", "configmap", "rates", "-n", NS, "--from-literal=a=b")
    sim.advance(5)
    rows = {r["NAME"]: r["STATUS"] for r in k.table("pods", "-n", NS)}
    assert (rows["files"], rows["creds"]) == ("Running", "ContainerCreating")
