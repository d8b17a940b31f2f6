"""The endpoints controller: one Endpoints object per Service with a selector, from the pods it selects.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from incident_response.sim import errors
from incident_response.sim.controllers.common import Obj, labels_of, meta, selector_from_map, terminating
from incident_response.sim.controllers.replicasets import pod_ready
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import ENDPOINTS
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def resolve_port(service_port: Obj, pod: Obj) -> int | None:
    """The Service port's targetPort against the pod's container ports (by name or number)."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and isinstance(port.get("containerPort"), int):
                return int(port["containerPort"])
    return None


def _ip_key(address: Obj) -> tuple[int, str]:
    try:
        return int(ipaddress.ip_address(str(address.get("ip")))), ""
    except ValueError:
        return 0, str(address.get("ip"))


def subsets_for(service: Obj, pods: list[Obj]) -> list[Obj]:
    ports = [p for p in (service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
    # Pods resolving the ports the same way share a subset, as upstream's RepackSubsets groups them.
    groups: dict[tuple[tuple[str, int, str], ...], tuple[list[Obj], list[Obj]]] = {}
    for pod in pods:
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or terminating(pod) or (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
            continue  # upstream's ShouldPodBeInEndpoints: a pod in a terminal phase is no endpoint, ready or not
        resolved = []
        for port in ports:
            number = resolve_port(port, pod)
            if number is not None:
                resolved.append((str(port.get("name") or ""), number, str(port.get("protocol") or "TCP")))
        if ports and not resolved:
            # Upstream adds a pod per Service port it resolves: a pod with none of the ports (a named targetPort its
            # containers do not define) is no endpoint at all, not an address with no ports.
            continue
        key = tuple(resolved)
        ready, not_ready = groups.setdefault(key, ([], []))
        m = pod["metadata"]
        address: Obj = {
            "ip": ip,
            "nodeName": (pod.get("spec") or {}).get("nodeName"),
            "targetRef": {"kind": "Pod", "namespace": m.get("namespace"), "name": m.get("name"), "uid": m.get("uid")},
        }
        (ready if pod_ready(pod) else not_ready).append(address)
    subsets = []
    for key in sorted(groups):
        ready, not_ready = groups[key]
        subset: Obj = {}
        if ready:
            subset["addresses"] = sorted(ready, key=_ip_key)
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=_ip_key)
        subset["ports"] = [
            {**({"name": name} if name else {}), "port": number, "protocol": protocol} for name, number, protocol in key
        ]
        subsets.append(subset)
    return subsets


class EndpointsController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        # Per Service: the Service, its namespace's pods and the Endpoints object as they were when the Endpoints
        # last matched them. The store replaces an object on every write, so while all three are the very same
        # objects the Endpoints are still right (subsets_for reads only the Service and those pods) and the
        # selector matching, subsets and comparison are skipped: most of an idle tick's work.
        self._unchanged: dict[tuple[str, str], tuple[Obj, list[Obj], Obj]] = {}

    def sync(self, snap: Snapshot) -> bool:
        changed = False
        wanted: set[tuple[str, str]] = set()
        for service in snap.services:
            selector = (service.get("spec") or {}).get("selector")
            if not selector or terminating(service):
                continue
            namespace = str(meta(service).get("namespace", ""))
            name = str(meta(service)["name"])
            key = (namespace, name)
            wanted.add(key)
            in_namespace = snap.pods_by_ns.get(namespace, [])
            cached = self._unchanged.pop(key, None)
            current = self.store.peek(ENDPOINTS, namespace, name)
            if (
                cached is not None
                and cached[0] is service
                and cached[2] is current
                and len(cached[1]) == len(in_namespace)
                and all(a is b for a, b in zip(cached[1], in_namespace, strict=True))
            ):
                self._unchanged[key] = cached
                continue
            matches = selector_from_map(selector)
            pods = [p for p in in_namespace if matches(labels_of(p))]
            subsets = subsets_for(service, pods)
            try:
                changed = self._write(service, namespace, name, subsets) or changed
            except errors.ApiError:
                changed = True
                continue
            written = self.store.peek(ENDPOINTS, namespace, name)
            if written is not None:
                self._unchanged[key] = (service, list(in_namespace), written)
        for gone in self._unchanged.keys() - wanted:
            del self._unchanged[gone]
        for endpoints in list(self.store.items(ENDPOINTS)):
            key = (str(meta(endpoints).get("namespace", "")), str(meta(endpoints)["name"]))
            if key not in wanted and TRIGGER in (meta(endpoints).get("annotations") or {}):
                if not any(
                    (str(meta(s).get("namespace")), str(meta(s)["name"])) == key
                    and not (s.get("spec") or {}).get("selector")
                    for s in snap.services
                ):
                    self.store.remove(ENDPOINTS, *key)
                    changed = True
        return changed

    def _write(self, service: Obj, namespace: str, name: str, subsets: list[Obj]) -> bool:
        current = self.store.peek(ENDPOINTS, namespace, name)
        labels = dict(labels_of(service))
        if current is None:
            body: Obj = {
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": labels,
                    "annotations": {TRIGGER: timestamp(self.store.clock())},
                },
            }
            if subsets:
                body["subsets"] = subsets
            if not labels:
                del body["metadata"]["labels"]
            self.store.create(ENDPOINTS, body)
            return True
        if (current.get("subsets") or []) == subsets and (labels_of(current) == labels):
            return False

        def apply(obj: Obj) -> None:
            if subsets:
                obj["subsets"] = subsets
            else:
                obj.pop("subsets", None)
            if labels:
                obj["metadata"]["labels"] = labels
            obj["metadata"].setdefault("annotations", {})[TRIGGER] = timestamp(self.store.clock())

        self.store.mutate(ENDPOINTS, namespace, name, apply)
        return True
