"""A pod kept by a namespace read: what the tools read stays, the heavy parts nobody reads go, and equal parts of
pods of one controller are one object."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from support.builders import NOW, container_status, pod

from incident_response.tools.k8s.podslim import Sharing, slim_pod
from incident_response.tools.k8s.podstatus import pod_row
from incident_response.tools.k8s.usage import pod_resources


def heavy(name: str) -> dict[str, Any]:
    p = pod(name, deployment="web", resources={"limits": {"cpu": "500m", "memory": "256Mi"}})
    p["metadata"]["managedFields"] = [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]
    p["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": "{...}",
        "prometheus.io/scrape": "true",
    }
    p["spec"]["volumes"] = [{"name": "kube-api-access", "projected": {"sources": []}}]
    p["spec"]["tolerations"] = [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}]
    p["spec"]["initContainers"] = [{"name": "proxy", "image": "envoy:1", "restartPolicy": "Always", "env": []}]
    container = p["spec"]["containers"][0]
    container["env"] = [{"name": "PASSWORD", "value": "hunter2"}]
    container["readinessProbe"] = {"httpGet": {"path": "/healthz"}}
    container["volumeMounts"] = [{"name": "kube-api-access", "mountPath": "/var/run/secrets"}]
    p["status"]["containerStatuses"] = [
        {**container_status("app", restarts=4, last_terminated="OOMKilled"), "imageID": "sha256:1", "containerID": "c"}
    ]
    return p


def test_the_heavy_parts_go_and_what_the_tools_read_stays() -> None:
    original = heavy("web-1")
    before = copy.deepcopy(original)
    slim = slim_pod(original)
    assert original == before  # the read's own dict is not changed
    assert "managedFields" not in slim["metadata"]
    assert slim["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
    assert "volumes" not in slim["spec"]
    container = slim["spec"]["containers"][0]
    assert set(container) <= {"name", "image", "resources", "ports", "restartPolicy"}
    assert slim["spec"]["initContainers"] == [{"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"}]
    assert "containerID" not in slim["status"]["containerStatuses"][0]
    assert slim["status"]["containerStatuses"][0]["imageID"] == "sha256:1"  # a re-pushed tag's proof
    # What is computed from a pod is the same from the slim one.
    assert pod_row(slim, NOW) == pod_row(original, NOW)
    assert pod_resources(slim) == pod_resources(original)
    assert slim["spec"]["tolerations"] == original["spec"]["tolerations"]


def test_equal_parts_of_one_controllers_pods_are_one_object_and_unequal_ones_are_not() -> None:
    sharing = Sharing()
    first, second, edited = (slim_pod(heavy(f"web-{i}"), sharing) for i in range(3))
    assert first["spec"]["containers"] is second["spec"]["containers"]
    assert first["metadata"]["labels"] is second["metadata"]["labels"]
    assert first["metadata"]["ownerReferences"] is second["metadata"]["ownerReferences"]
    assert first["status"]["conditions"] is second["status"]["conditions"]  # started together: equal conditions
    assert first["status"] is not second["status"]

    changed = heavy("web-9")
    changed["spec"]["containers"][0]["image"] = "web:hotfix"  # `kubectl set image` on one pod
    kept = slim_pod(changed, sharing)
    assert kept["spec"]["containers"][0]["image"] == "web:hotfix"
    assert edited["spec"]["containers"][0]["image"] != "web:hotfix"


def test_pods_of_different_controllers_share_nothing() -> None:
    sharing = Sharing()
    web = slim_pod(heavy("web-1"), sharing)
    other = heavy("api-1")
    other["metadata"]["ownerReferences"][0]["uid"] = "another-uid"
    api = slim_pod(other, sharing)
    assert api["spec"]["containers"] == web["spec"]["containers"]
    assert api["spec"]["containers"] is not web["spec"]["containers"]
    assert pod_row(api, NOW + timedelta(minutes=1)).name == "api-1"
