"""Table printers: pod STATUS logic, HumanDuration, and each kind's columns and a representative row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incident_response.sim.tables import human_duration, pod_ready, pod_restarts, pod_status, render_table

NOW = datetime(2025, 1, 10, 12, 0, 0, tzinfo=UTC)


def ts(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, ago: timedelta = timedelta(hours=1), **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "uid": f"uid-{name}", "creationTimestamp": ts(ago), **extra}


# --- pod builders ---


def running(ready: bool = True, restarts: int = 0, last_finished: timedelta | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": "app",
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ts(timedelta(minutes=5))}},
    }
    if last_finished is not None:
        status["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ts(last_finished)}}
    return status


def waiting(reason: str, restarts: int = 0, name: str = "app") -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason}}}


def terminated(reason: str = "", exit_code: int = 1, signal: int = 0, name: str = "app") -> dict[str, Any]:
    term: dict[str, Any] = {"exitCode": exit_code}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": term}}


def pod(
    containers: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    init: list[dict[str, Any]] | None = None,
    n_init: int | None = None,
    conditions: list[dict[str, Any]] | None = None,
    n_containers: int | None = None,
    **status_extra: Any,
) -> dict[str, Any]:
    statuses = containers if containers is not None else [running()]
    spec_containers = [{"name": f"c{i}", "image": "img"} for i in range(n_containers or max(len(statuses), 1))]
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta("web-1"),
        "spec": {"containers": spec_containers, "nodeName": "node-1"},
        "status": {"phase": phase, "containerStatuses": statuses, **status_extra},
    }
    if init is not None:
        count = n_init if n_init is not None else len(init)
        obj["spec"]["initContainers"] = [{"name": f"init{i}", "image": "busybox"} for i in range(count)]
        for i, status in enumerate(init):
            status.setdefault("name", f"init{i}")
        obj["status"]["initContainerStatuses"] = init
    if conditions is not None:
        obj["status"]["conditions"] = conditions
    return obj


def cond(ctype: str, status: str = "True", reason: str = "") -> dict[str, Any]:
    return {"type": ctype, "status": status, **({"reason": reason} if reason else {})}


def deleting(obj: dict[str, Any]) -> dict[str, Any]:
    obj["metadata"]["deletionTimestamp"] = ts(timedelta(seconds=10))
    return obj


def init_done() -> dict[str, Any]:
    return terminated("Completed", exit_code=0)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (pod(), "Running"),
        (pod([], phase="Pending"), "Pending"),
        (pod([waiting("ContainerCreating")], phase="Pending"), "ContainerCreating"),
        (pod([waiting("CrashLoopBackOff", restarts=4)]), "CrashLoopBackOff"),
        (pod([waiting("ImagePullBackOff")], phase="Pending"), "ImagePullBackOff"),
        (pod([waiting("ErrImagePull")], phase="Pending"), "ErrImagePull"),
        (pod([terminated("OOMKilled", exit_code=137)]), "OOMKilled"),
        (pod([terminated("Error")], phase="Failed"), "Error"),
        (pod([terminated("Completed", exit_code=0)], phase="Succeeded"), "Completed"),
        (pod([terminated(signal=9, exit_code=137)]), "Signal:9"),
        (pod([terminated(exit_code=3)]), "ExitCode:3"),
        (pod([], phase="Failed", reason="Evicted"), "Evicted"),
        # Init containers: the first unfinished one decides.
        (pod([waiting("PodInitializing")], "Pending", init=[init_done(), {"state": {"running": {}}}]), "Init:1/2"),
        (pod([], "Pending", init=[{"state": {"waiting": {"reason": "PodInitializing"}}}], n_init=3), "Init:0/3"),
        (pod([], "Pending", init=[waiting("CrashLoopBackOff", restarts=2, name="init0")]), "Init:CrashLoopBackOff"),
        (pod([], "Pending", init=[terminated("Error", name="init0")]), "Init:Error"),
        (pod([], "Pending", init=[terminated(signal=15, name="init0")]), "Init:Signal:15"),
        (pod([], "Pending", init=[terminated(exit_code=2, name="init0")]), "Init:ExitCode:2"),
        (pod([], "Pending", init=[waiting("ImagePullBackOff", name="init0")]), "Init:ImagePullBackOff"),
        # All init containers done: the app containers decide.
        (pod([waiting("CrashLoopBackOff")], init=[init_done()]), "CrashLoopBackOff"),
        # A completed first container next to a running one: Running only with the Ready condition.
        (pod([terminated("Completed", exit_code=0), running()], conditions=[cond("Ready")]), "Running"),
        (pod([terminated("Completed", exit_code=0), running()], conditions=[cond("Ready", "False")]), "NotReady"),
        # Running but not ready is still "Running" (NotReady only arises from the Completed case above).
        (pod([running(ready=False)], conditions=[cond("Ready", "False")]), "Running"),
        (deleting(pod()), "Terminating"),
        (deleting(pod([], phase="Running", reason="NodeLost")), "Unknown"),
        (deleting(pod([terminated("Completed", exit_code=0)], phase="Succeeded")), "Completed"),
        (pod([], "Pending", conditions=[cond("PodScheduled", "False", "SchedulingGated")]), "SchedulingGated"),
    ],
)
def test_pod_status(obj: dict[str, Any], expected: str) -> None:
    assert pod_status(obj) == expected


def test_pod_status_first_container_wins() -> None:
    # Upstream walks container statuses backwards, so the first container's reason is what remains.
    obj = pod([waiting("CrashLoopBackOff", name="a"), waiting("ImagePullBackOff", name="b")])
    assert pod_status(obj) == "CrashLoopBackOff"


def test_pod_status_partial_objects_never_raise() -> None:
    assert pod_status({}) == ""
    assert pod_ready({}) == "0/0"
    assert pod_restarts({}, NOW) == "0"
    weird = {"spec": {"containers": "x"}, "status": {"containerStatuses": [None, 3, {"state": None}]}}
    assert pod_status(weird) == ""


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (pod(), "1/1"),
        (pod([running(), running(ready=False)]), "1/2"),
        (pod([waiting("CrashLoopBackOff")]), "0/1"),
        (pod([], phase="Pending", n_containers=3), "0/3"),
    ],
)
def test_pod_ready(obj: dict[str, Any], expected: str) -> None:
    assert pod_ready(obj) == expected


def test_pod_ready_counts_started_sidecars() -> None:
    obj = pod([running()], init=[{"ready": True, "started": True, "state": {"running": {}}}])
    obj["spec"]["initContainers"][0]["restartPolicy"] = "Always"
    assert pod_ready(obj) == "2/2"
    assert pod_status(obj) == "Running"


def test_pod_restarts() -> None:
    assert pod_restarts(pod(), NOW) == "0"
    assert pod_restarts(pod([running(restarts=5, last_finished=timedelta(minutes=2))]), NOW) == "5 (2m ago)"
    # Without a lastState.terminated time only the count shows.
    assert pod_restarts(pod([waiting("CrashLoopBackOff", restarts=3)]), NOW) == "3"
    both = pod(
        [
            running(restarts=1, last_finished=timedelta(hours=3)),
            running(restarts=2, last_finished=timedelta(seconds=40)),
        ]
    )
    assert pod_restarts(both, NOW) == "3 (40s ago)"


def test_pod_restarts_while_initializing_count_init_containers() -> None:
    init = [waiting("CrashLoopBackOff", restarts=4, name="init0")]
    init[0]["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": ts(timedelta(minutes=1))}}
    assert pod_restarts(pod([], "Pending", init=init), NOW) == "4 (60s ago)"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-1.5), "0s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(minutes=3, seconds=5), "3m5s"),
        (timedelta(minutes=9, seconds=59), "9m59s"),
        (timedelta(minutes=10, seconds=30), "10m"),
        (timedelta(minutes=179), "179m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=3, minutes=25), "3h25m"),
        (timedelta(hours=7, minutes=59), "7h59m"),
        (timedelta(hours=8, minutes=30), "8h"),
        (timedelta(hours=47), "47h"),
        (timedelta(days=2), "2d"),
        (timedelta(days=2, hours=3), "2d3h"),
        (timedelta(days=7, hours=23), "7d23h"),
        (timedelta(days=8, hours=5), "8d"),
        (timedelta(days=729), "729d"),
        (timedelta(days=730), "2y"),
        (timedelta(days=800), "2y70d"),
        (timedelta(days=365 * 8 + 10), "8y"),
    ],
)
def test_human_duration(delta: timedelta, expected: str) -> None:
    assert human_duration(delta) == expected


# --- render_table: columns and representative rows per kind ---


def names(table: dict[str, Any], wide: bool = True) -> list[str]:
    return [c["name"] for c in table["columnDefinitions"] if wide or c["priority"] == 0]


def cells(resource: str, obj: dict[str, Any]) -> list[Any]:
    table = render_table(resource, [obj], now=NOW)
    row: list[Any] = table["rows"][0]["cells"]
    assert len(row) == len(table["columnDefinitions"])
    return row


def test_table_envelope_and_column_shape() -> None:
    table = render_table("pods", [pod()], now=NOW, list_meta={"resourceVersion": "42", "continue": "x"})
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42", "continue": "x"}
    for column in table["columnDefinitions"]:
        assert set(column) == {"name", "type", "format", "description", "priority"}
        assert column["description"]
    assert table["columnDefinitions"][0]["format"] == "name"


def test_pod_columns_and_row() -> None:
    table = render_table("pods", [pod()], now=NOW)
    assert names(table, wide=False) == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert names(table)[5:] == ["IP", "Node", "Nominated Node", "Readiness Gates"]
    assert [c["priority"] for c in table["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert [c["type"] for c in table["columnDefinitions"]][:4] == ["string", "string", "string", "string"]
    obj = pod(podIPs=[{"ip": "10.244.0.5"}], conditions=[cond("Ready"), cond("example.com/gate", "False")])
    obj["spec"]["readinessGates"] = [{"conditionType": "example.com/gate"}]
    assert cells("pods", obj) == ["web-1", "1/1", "Running", "0", "60m", "10.244.0.5", "node-1", "<none>", "0/1"]
    bare = pod([], phase="Pending")
    del bare["spec"]["nodeName"]
    assert cells("pods", bare)[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_pod_rows_carry_completed_conditions() -> None:
    done = render_table("pods", [pod([terminated("Completed", 0)], phase="Succeeded")], now=NOW)["rows"][0]
    assert done["conditions"] == [
        {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
    ]
    assert "conditions" not in render_table("pods", [pod()], now=NOW)["rows"][0]


def test_include_object_modes() -> None:
    obj = pod()
    partial = render_table("pods", [obj], now=NOW)["rows"][0]["object"]
    assert partial == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
    assert render_table("pods", [obj], now=NOW, include_object="Metadata")["rows"][0]["object"] == partial
    assert render_table("pods", [obj], now=NOW, include_object="Object")["rows"][0]["object"] == obj
    assert "object" not in render_table("pods", [obj], now=NOW, include_object="None")["rows"][0]
    with pytest.raises(ValueError, match="includeObject"):
        render_table("pods", [obj], now=NOW, include_object="Everything")


def test_empty_list() -> None:
    table = render_table("deployments.apps", [], now=NOW, list_meta={"resourceVersion": "7"})
    assert table["rows"] == []
    assert names(table)[0] == "Name"


def deployment() -> dict[str, Any]:
    return {
        "metadata": meta("shop", timedelta(days=2, hours=3)),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "shop", "tier": "web"}},
            "template": {
                "spec": {"containers": [{"name": "shop", "image": "shop:v2"}, {"name": "proxy", "image": "envoy"}]}
            },
        },
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }


def test_deployment_columns_and_row() -> None:
    table = render_table("deployments.apps", [deployment()], now=NOW)
    assert names(table, wide=False) == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    assert names(table)[5:] == ["Containers", "Images", "Selector"]
    assert cells("deployments.apps", deployment()) == [
        "shop", "2/3", 3, 2, "2d3h", "shop,proxy", "shop:v2,envoy", "app=shop,tier=web",
    ]  # fmt: skip
    assert cells("deployments.apps", {"metadata": {"name": "x"}}) == ["x", "0/1", 0, 0, "<unknown>", "", "", ""]


def test_replicaset_columns_and_row() -> None:
    rs = deployment()
    rs["metadata"]["name"] = "shop-7d9f"
    rs["spec"]["selector"] = {
        "matchLabels": {"app": "shop"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "canary"]},
            {"key": "debug", "operator": "DoesNotExist"},
        ],
    }
    table = render_table("replicasets.apps", [rs], now=NOW)
    assert names(table) == ["Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"]
    assert [c["type"] for c in table["columnDefinitions"][1:4]] == ["integer"] * 3
    assert cells("replicasets.apps", rs) == [
        "shop-7d9f", 3, 3, 2, "2d3h", "shop,proxy", "shop:v2,envoy", "app=shop,!debug,env in (canary,prod)",
    ]  # fmt: skip
    rs["spec"]["selector"] = {}
    assert cells("replicasets.apps", rs)[-1] == "<none>"
    rs["spec"]["selector"] = {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}
    assert cells("replicasets.apps", rs)[-1] == "<error>"


def node(ready: str | None = "True", unschedulable: bool = False) -> dict[str, Any]:
    labels = {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker", "zone": "a"}
    obj: dict[str, Any] = {
        "metadata": meta("node-1", timedelta(days=30), labels=labels),
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {
            "conditions": [cond("MemoryPressure", "False")] + ([cond("Ready", ready)] if ready else []),
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "node-1"}],
            "nodeInfo": {"kubeletVersion": "v1.32.4", "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0",
                         "containerRuntimeVersion": "containerd://1.7.24"},
        },
    }  # fmt: skip
    return obj


@pytest.mark.parametrize(
    ("obj", "status"),
    [
        (node(), "Ready"),
        (node("False"), "NotReady"),
        (node("Unknown"), "NotReady"),
        (node(None), "Unknown"),
        (node(unschedulable=True), "Ready,SchedulingDisabled"),
        (node("False", unschedulable=True), "NotReady,SchedulingDisabled"),
    ],
)
def test_node_status(obj: dict[str, Any], status: str) -> None:
    assert cells("nodes", obj)[1] == status


def test_node_columns_and_row() -> None:
    table = render_table("nodes", [node()], now=NOW)
    assert names(table, wide=False) == ["Name", "Status", "Roles", "Age", "Version"]
    assert names(table)[5:] == ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"]
    assert cells("nodes", node()) == [
        "node-1", "Ready", "control-plane,worker", "30d", "v1.32.4",
        "172.18.0.2", "<none>", "Debian GNU/Linux 12", "6.1.0", "containerd://1.7.24",
    ]  # fmt: skip
    assert cells("nodes", {"metadata": {"name": "n"}})[2:] == [
        "<none>", "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>",
    ]  # fmt: skip


def service(svc_type: str = "ClusterIP", **spec: Any) -> dict[str, Any]:
    return {
        "metadata": meta("shop", timedelta(minutes=5)),
        "spec": {"type": svc_type, "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                 "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}], "selector": {"app": "shop"}, **spec},
    }  # fmt: skip


def test_service_columns_and_row() -> None:
    table = render_table("services", [service()], now=NOW)
    assert names(table, wide=False) == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"]
    assert names(table)[6:] == ["Selector"]
    assert cells("services", service()) == ["shop", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "5m", "app=shop"]


@pytest.mark.parametrize(
    ("obj", "external", "ports"),
    [
        (
            service(
                "NodePort", ports=[{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]
            ),
            "<none>",
            "80:30080/TCP,53/UDP",
        ),
        (service("LoadBalancer"), "<pending>", "80/TCP"),
        (service("LoadBalancer", externalIPs=["1.2.3.4"]), "1.2.3.4", "80/TCP"),
        (
            {
                **service("LoadBalancer"),
                "status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb.example"}]}},
            },
            "5.6.7.8,lb.example",
            "80/TCP",
        ),
        (service("ExternalName", externalName="db.example.com", ports=[]), "db.example.com", "<none>"),
        (service("ClusterIP", ports=[{"port": 8080}]), "<none>", "8080/TCP"),
    ],
)
def test_service_external_ip_and_ports(obj: dict[str, Any], external: str, ports: str) -> None:
    row = cells("services", obj)
    assert (row[3], row[4]) == (external, ports)


def endpoints(*subsets: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": meta("shop", timedelta(seconds=30)), "subsets": list(subsets)}


def addrs(*ips: str) -> list[dict[str, str]]:
    return [{"ip": ip} for ip in ips]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (endpoints(), "<none>"),
        (
            endpoints({"addresses": addrs("10.0.0.1", "10.0.0.2"), "ports": [{"port": 8080}]}),
            "10.0.0.1:8080,10.0.0.2:8080",
        ),
        (
            endpoints({"addresses": addrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), "ports": [{"port": 80}]}),
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80",
        ),
        (
            endpoints(
                {"addresses": addrs(*(f"10.0.0.{i}" for i in range(1, 6))), "ports": [{"port": 8080}, {"port": 9090}]}
            ),
            "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 7 more...",
        ),
        (endpoints({"addresses": addrs("10.0.0.1", "fd00::1")}), "10.0.0.1,fd00::1"),
        (endpoints({"addresses": addrs("fd00::1"), "ports": [{"port": 80}]}), "[fd00::1]:80"),
        (endpoints({"notReadyAddresses": addrs("10.0.0.9"), "ports": [{"port": 80}]}), ""),
    ],
)
def test_endpoints(obj: dict[str, Any], expected: str) -> None:
    table = render_table("endpoints", [obj], now=NOW)
    assert names(table) == ["Name", "Endpoints", "Age"]
    assert table["rows"][0]["cells"] == ["shop", expected, "30s"]


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "metadata": meta("web-1.17a", timedelta(minutes=10)),
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container app\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "type": "Warning",
        "firstTimestamp": ts(timedelta(minutes=10)),
        "lastTimestamp": ts(timedelta(seconds=30)),
        "count": 12,
    }
    base.update(fields)
    return base


def test_event_columns_and_row() -> None:
    table = render_table("events", [event()], now=NOW)
    assert names(table, wide=False) == ["Last Seen", "Type", "Reason", "Object", "Message"]
    assert names(table) == [
        "Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name",
    ]  # fmt: skip
    assert table["rows"][0]["cells"] == [
        "30s", "Warning", "BackOff", "pod/web-1", "spec.containers{app}", "kubelet, node-1",
        "Back-off restarting failed container app", "10m", 12, "web-1.17a",
    ]  # fmt: skip


def test_event_time_fallbacks() -> None:
    new_api = event(firstTimestamp=None, lastTimestamp=None, count=None, source={},
                    eventTime="2025-01-10T11:58:00.000000Z", reportingComponent="deployment-controller")  # fmt: skip
    row = cells("events", new_api)
    assert (row[0], row[5], row[7], row[8]) == ("2m", "deployment-controller", "2m", 1)
    series = event(series={"count": 7, "lastObservedTime": "2025-01-10T11:59:55.000000Z"})
    assert (cells("events", series)[0], cells("events", series)[8]) == ("5s", 7)
    bare = cells("events", {"involvedObject": {"kind": "Node"}})
    assert bare == ["<unknown>", "", "", "node", "", "", "", "<unknown>", 1, ""]


def hpa(**status: Any) -> dict[str, Any]:
    return {
        "metadata": meta("shop", timedelta(hours=2)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                }
            ],
        },
        "status": {"currentReplicas": 10, **status},
    }


def test_hpa_columns_and_row() -> None:
    current = [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 250}}}]
    table = render_table("horizontalpodautoscalers.autoscaling", [hpa(currentMetrics=current)], now=NOW)
    assert names(table) == ["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"]
    assert table["rows"][0]["cells"] == ["shop", "Deployment/shop", "cpu: 250%/80%", "2", 10, 10, "120m"]


def test_hpa_targets() -> None:
    def targets(obj: dict[str, Any]) -> Any:
        return cells("horizontalpodautoscalers.autoscaling", obj)[2]

    assert targets(hpa()) == "cpu: <unknown>/80%"
    many = hpa()
    many["spec"]["metrics"] += [
        {
            "type": "Resource",
            "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "200Mi"}},
        },
        {
            "type": "Pods",
            "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "100"}},
        },
    ]
    assert targets(many) == "cpu: <unknown>/80%, memory: <unknown>/200Mi + 1 more..."
    many["spec"]["metrics"] = many["spec"]["metrics"][1:]
    many["status"]["currentMetrics"] = [
        {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "150Mi"}}},
        {"type": "Pods", "pods": {"current": {"averageValue": "42"}}},
    ]
    assert targets(many) == "memory: 150Mi/200Mi, 42/100"
    external = hpa()
    external["spec"]["metrics"] = [
        {"type": "External", "external": {"target": {"type": "AverageValue", "averageValue": "30"}}}
    ]
    assert targets(external) == "<unknown>/30 (avg)"
    external["spec"]["metrics"] = []
    assert targets(external) == "<none>"
    v1 = {"metadata": meta("old"), "spec": {"maxReplicas": 3, "targetCPUUtilizationPercentage": 50},
          "status": {"currentCPUUtilizationPercentage": 12}}  # fmt: skip
    assert cells("horizontalpodautoscalers.autoscaling", v1)[1:4] == ["/", "cpu: 12%/50%", "<unset>"]


def test_ingress_columns_and_row() -> None:
    ing = {
        "metadata": meta("shop", timedelta(days=1)),
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "shop.example"}, {"host": "api.example"}],
                 "tls": [{"hosts": ["shop.example"]}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.10"}]}},
    }  # fmt: skip
    table = render_table("ingresses.networking.k8s.io", [ing], now=NOW)
    assert names(table) == ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
    assert table["rows"][0]["cells"] == ["shop", "nginx", "shop.example,api.example", "192.168.1.10", "80, 443", "24h"]
    many = {"metadata": meta("m"), "spec": {"rules": [{"host": f"h{i}"} for i in range(5)] + [{}]}}
    assert cells("ingresses.networking.k8s.io", many)[1:5] == ["<none>", "h0,h1,h2 + 3 more...", "", "80"]
    assert cells("ingresses.networking.k8s.io", {"metadata": meta("x"), "spec": {"rules": [{}]}})[2] == "*"


def test_networkpolicy_columns_and_row() -> None:
    pol = {"metadata": meta("deny", timedelta(minutes=3)), "spec": {"podSelector": {"matchLabels": {"app": "db"}}}}
    table = render_table("networkpolicies.networking.k8s.io", [pol], now=NOW)
    assert names(table) == ["Name", "Pod-Selector", "Age"]
    assert table["rows"][0]["cells"] == ["deny", "app=db", "3m"]
    pol["spec"]["podSelector"] = {}
    assert cells("networkpolicies.networking.k8s.io", pol)[1] == "<none>"


def test_pvc_columns_and_row() -> None:
    bound = {
        "metadata": meta("data", timedelta(days=3)),
        "spec": {"volumeName": "pvc-123", "storageClassName": "standard", "volumeMode": "Filesystem",
                 "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"]},
    }  # fmt: skip
    table = render_table("persistentvolumeclaims", [bound], now=NOW)
    assert names(table, wide=False) == [
        "Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass", "VolumeAttributesClass", "Age",
    ]  # fmt: skip
    assert names(table)[8:] == ["VolumeMode"]
    assert table["rows"][0]["cells"] == [
        "data",
        "Bound",
        "pvc-123",
        "1Gi",
        "RWO,RWX",
        "standard",
        "<unset>",
        "3d",
        "Filesystem",
    ]
    pending = {"metadata": meta("logs"), "spec": {"storageClassName": "fast"}, "status": {"phase": "Pending"}}
    assert cells("persistentvolumeclaims", pending) == [
        "logs",
        "Pending",
        "",
        "",
        "",
        "fast",
        "<unset>",
        "60m",
        "<unset>",
    ]
    assert cells("persistentvolumeclaims", deleting(pending))[1] == "Terminating"


def test_namespace_secret_configmap_pdb_rows() -> None:
    ns = {"metadata": meta("prod", timedelta(days=400)), "status": {"phase": "Active"}}
    assert names(render_table("namespaces", [ns], now=NOW)) == ["Name", "Status", "Age"]
    assert cells("namespaces", ns) == ["prod", "Active", "400d"]
    secret = {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "x", "tls.key": "y"}}
    assert names(render_table("secrets", [secret], now=NOW)) == ["Name", "Type", "Data", "Age"]
    assert cells("secrets", secret) == ["tls", "kubernetes.io/tls", 2, "60m"]
    cm = {"metadata": meta("cfg"), "data": {"a": "1"}, "binaryData": {"b": "AA=="}}
    assert names(render_table("configmaps", [cm], now=NOW)) == ["Name", "Data", "Age"]
    assert cells("configmaps", cm) == ["cfg", 2, "60m"]
    pdb = {"metadata": meta("shop"), "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}}
    table = render_table("poddisruptionbudgets.policy", [pdb], now=NOW)
    assert names(table) == ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"]
    assert table["rows"][0]["cells"] == ["shop", "50%", "N/A", 1, "60m"]
    assert cells("poddisruptionbudgets.policy", {"metadata": meta("x"), "spec": {"maxUnavailable": 1}})[1:4] == [
        "N/A", "1", 0,
    ]  # fmt: skip


def test_default_table_for_other_kinds() -> None:
    obj = {"metadata": {"name": "web-1", "creationTimestamp": "2025-01-10T13:00:00+01:00"}}
    table = render_table("pods.metrics.k8s.io", [obj], now=NOW)
    assert [(c["name"], c["type"]) for c in table["columnDefinitions"]] == [("Name", "string"), ("Created At", "date")]
    assert table["rows"][0]["cells"] == ["web-1", "2025-01-10T12:00:00Z"]
    assert cells("leases.coordination.k8s.io", {})[1] == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "resource",
    [
        "pods", "deployments.apps", "replicasets.apps", "nodes", "services", "endpoints", "events",
        "horizontalpodautoscalers.autoscaling", "ingresses.networking.k8s.io", "networkpolicies.networking.k8s.io",
        "persistentvolumeclaims", "namespaces", "secrets", "configmaps", "poddisruptionbudgets.policy", "other",
    ],
)  # fmt: skip
@pytest.mark.parametrize("obj", [{}, {"metadata": None, "spec": [], "status": "x"}, {"spec": {"ports": [None, 1]}}])
def test_partial_objects_never_raise(resource: str, obj: dict[str, Any]) -> None:
    table = render_table(resource, [obj], now=NOW)
    assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"])
