"""Server-side defaulting for the fields kubectl displays or the controllers rely on.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from incident_response.sim.resources import (
    DAEMONSETS,
    DEPLOYMENTS,
    HPAS,
    NAMESPACES,
    PODS,
    REPLICASETS,
    SERVICES,
    STATEFULSETS,
    ResourceType,
)

Obj = dict[str, Any]

_SERVICE_NET = ipaddress.ip_network("10.96.0.0/16")


# DefaultTolerationSeconds admission: a pod that does not tolerate these NoExecute taints is given 300 s of them, so
# the taint eviction controller deletes it five minutes after its node goes NotReady or unreachable.
NODE_PROBLEM_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
DEFAULT_TOLERATION_SECONDS = 300


def default_tolerations(spec: Obj) -> None:
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    for key in NODE_PROBLEM_TAINTS:
        if not any(
            isinstance(t, dict) and t.get("key") in (key, None, "") and t.get("effect") in (None, "", "NoExecute")
            for t in tolerations
        ):
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
    spec["tolerations"] = tolerations


def _default_ports(ports: list[Obj] | None) -> None:
    for port in ports or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def pull_policy(image: object) -> str:
    """SetDefaults_Container's pull policy: Always for an image whose tag is `latest` (or that has neither a tag
    nor a digest, which means latest), else IfNotPresent."""
    name, _, digest = str(image or "").partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ("" if digest else "latest")
    return "Always" if tag == "latest" else "IfNotPresent"


def _default_pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            container.setdefault("imagePullPolicy", pull_policy(container.get("image")))
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            _default_ports(container.get("ports"))


def _default_workload(spec: Obj, deployment: bool) -> None:
    spec.setdefault("replicas", 1)
    template = spec.setdefault("template", {})
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        if isinstance(template.get("spec"), dict):
            _default_pod_spec(template["spec"])
    if deployment:
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        if isinstance(strategy, dict):
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = strategy.setdefault("rollingUpdate", {})
                if isinstance(rolling, dict):
                    rolling.setdefault("maxSurge", "25%")
                    rolling.setdefault("maxUnavailable", "25%")


def _default_statefulset(spec: Obj) -> None:
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("partition", 0)
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):
            claim.setdefault("apiVersion", "v1")
            claim.setdefault("kind", "PersistentVolumeClaim")
            if isinstance(claim.get("spec"), dict):
                claim["spec"].setdefault("volumeMode", "Filesystem")
            claim.setdefault("status", {"phase": "Pending"})


def _default_daemonset(spec: Obj) -> None:
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", 1)
                rolling.setdefault("maxSurge", 0)


def apply_defaults(res: ResourceType, obj: Obj, taken_cluster_ips: set[str]) -> None:
    """Fill defaults in place on a new object, as the API server does on create."""
    spec = obj.get("spec")
    if res is PODS and isinstance(spec, dict):
        _default_pod_spec(spec)
        default_tolerations(spec)
    elif res in (DEPLOYMENTS, REPLICASETS, STATEFULSETS) and isinstance(spec, dict):
        _default_workload(spec, deployment=res is DEPLOYMENTS)
        if res is STATEFULSETS:
            _default_statefulset(spec)
    elif res is DAEMONSETS and isinstance(spec, dict):
        _default_workload(spec, deployment=False)
        spec.pop("replicas", None)  # a DaemonSet runs one pod per node
        _default_daemonset(spec)
    elif res is SERVICES and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        _default_ports(spec.get("ports"))
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and "port" in port:
                port.setdefault("targetPort", port["port"])
        if "clusterIP" not in spec:
            spec["clusterIP"] = _next_cluster_ip(taken_cluster_ips)
            spec["clusterIPs"] = [spec["clusterIP"]]
    elif res is HPAS and isinstance(spec, dict):
        spec.setdefault("minReplicas", 1)
        if not spec.get("metrics"):  # upstream's v2 default (an autoscaling/v1 HPA without a CPU target gets it)
            target = {"type": "Utilization", "averageUtilization": 80}
            spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    elif res is NAMESPACES:
        # setdefault twice: a protobuf body (kubectl create namespace) carries an empty spec and status
        if isinstance(obj.setdefault("spec", {}), dict):
            obj["spec"].setdefault("finalizers", ["kubernetes"])
        if isinstance(obj.setdefault("status", {}), dict):
            obj["status"].setdefault("phase", "Active")
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        if isinstance(labels, dict):
            labels.setdefault("kubernetes.io/metadata.name", obj["metadata"].get("name", ""))


def _next_cluster_ip(taken: set[str]) -> str:
    for offset in range(10, _SERVICE_NET.num_addresses - 1):
        candidate = str(_SERVICE_NET.network_address + offset)
        if candidate not in taken:
            return candidate
    return "None"
