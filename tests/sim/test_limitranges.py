"""LimitRange in the simulated cluster, with real kubectl as the oracle: the API's defaulting of a Container item,
and the LimitRanger admission writing the defaults into new pods (kubectl run, a ReplicaSet's) before the quota
charges them, so a template without resources runs under a quota on requests."""

from __future__ import annotations

import json
from collections.abc import Callable

from support.kubectl_runner import Kubectl
from support.polling import eventually
from support.sims import SimFactory

from incident_response.sim.resources import PODS, RESOURCEQUOTAS
from incident_response.sim.serve import RunningSim

NS = "shop"
RANGES = f"""
apiVersion: v1
kind: LimitRange
metadata: {{name: defaults, namespace: {NS}}}
spec:
  limits:
  - type: Container
    max: {{cpu: "1"}}
    default: {{memory: 256Mi}}
    defaultRequest: {{memory: 128Mi}}
"""
QUOTA = f"""
apiVersion: v1
kind: ResourceQuota
metadata: {{name: compute, namespace: {NS}}}
spec:
  hard: {{requests.cpu: "20", limits.memory: 64Gi, requests.ephemeral-storage: 1Gi}}
"""


def test_limit_range_defaults_reach_new_pods_before_the_quota(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=RANGES + "---" + QUOTA)
    # the API server stores the item defaulted: the default limit from max, the default request from the limit
    item = json.loads(k.run("get", "limits", "defaults", "-n", NS, "-o", "jsonpath={.spec.limits[0]}").stdout)
    assert item["default"] == {"cpu": "1", "memory": "256Mi"}
    assert item["defaultRequest"] == {"cpu": "1", "memory": "128Mi"}
    assert sim.cluster.run_until(lambda: bool((sim.store.peek(RESOURCEQUOTAS, NS, "compute") or {}).get("status")))

    # a pod with no resources is admitted under a quota on requests.cpu and limits.memory: the defaults fill them
    k.run("run", "plain", "-n", NS, "--image=registry.example.com/app:1.0")
    pod = sim.store.get(PODS, NS, "plain")
    assert pod["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "1", "memory": "256Mi"},
        "requests": {"cpu": "1", "memory": "128Mi"},
    }
    assert pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain"
    )
    # a container's own limit is its request, not the default request (the API's defaulting, before admission)
    own = {"name": "own", "image": "registry.example.com/app:1.0", "resources": {"limits": {"cpu": "500m"}}}
    k.run(
        "run",
        "own",
        "-n",
        NS,
        "--image=registry.example.com/app:1.0",
        "--overrides",
        json.dumps({"spec": {"containers": [own]}}),
    )
    resources = sim.store.get(PODS, NS, "own")["spec"]["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert resources["requests"]["memory"] == "128Mi" and resources["requests"].get("cpu") in (None, "500m")
    # ephemeral-storage is charged when a container asks for it
    big = {
        "name": "big",
        "image": "registry.example.com/app:1.0",
        "resources": {"requests": {"ephemeral-storage": "2Gi"}},
    }
    refused = k.run(
        "run",
        "big",
        "-n",
        NS,
        "--image=registry.example.com/app:1.0",
        "--overrides",
        json.dumps({"spec": {"containers": [big]}}),
        check=False,
    )
    assert "exceeded quota: compute, requested: requests.ephemeral-storage=2Gi" in refused.stderr, refused.stderr


BOUNDS = f"""
apiVersion: v1
kind: LimitRange
metadata: {{name: bounds, namespace: {NS}}}
spec:
  limits:
  - type: Container
    min: {{memory: 64Mi}}
    max: {{memory: 1Gi}}
"""


def test_limit_range_bounds_refuse_pods_outside_them(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """A container over an item's max (or under its min) is refused at admission with the plugin's words: a pod
    created directly gets the 403, a ReplicaSet's creates fail (FailedCreate, the Deployment's ReplicaFailure)."""
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=BOUNDS)
    big = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "big", "namespace": NS},
            "spec": {
                "containers": [
                    {
                        "name": "big",
                        "image": "registry.example.com/app:1.0",
                        "resources": {"requests": {"memory": "32Mi"}, "limits": {"memory": "2Gi"}},
                    }
                ]
            },
        }
    )
    refused = k.run("apply", "-f", "-", stdin=big, check=False)
    assert refused.returncode != 0, refused.stdout
    assert (
        'pods "big" is forbidden: [minimum memory usage per Container is 64Mi, but request is 32Mi, maximum memory '
        "usage per Container is 1Gi, but limit is 2Gi]"
    ) in refused.stderr, refused.stderr
    assert sim.store.peek(PODS, NS, "big") is None

    k.run("set", "resources", "deployment/payments", "-n", NS, "--limits=memory=2Gi")

    said = "is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi"

    def refused_creates() -> str | None:
        listed = " ".join(k.run("get", "events", "-n", NS, "--field-selector", "reason=FailedCreate").stdout.split())
        return listed if said in listed else None

    events = eventually(refused_creates, what="the ReplicaSet's FailedCreate")
    assert 'Error creating: pods "payments-' in events, events
    described = " ".join(k.run("describe", "deployment", "payments", "-n", NS).stdout.split())
    assert "ReplicaFailure True FailedCreate" in described, described
