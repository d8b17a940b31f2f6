"""A dict-backed Kube for planner unit tests: label selectors and patches with the simulated API server's own rules."""

from __future__ import annotations

import copy
from typing import Any

from incident_response.sim import patching
from incident_response.sim.selectors import parse_label_selector
from incident_response.tools import errors
from incident_response.tools.kube import ListResult

CLUSTER_SCOPED = {"nodes", "namespaces"}


class MiniKube:
    context: str | None = "test"

    def __init__(self, *objects: tuple[str, dict[str, Any]]) -> None:
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str, str, Any]] = []
        self.dry_runs: list[tuple[str, str, str, Any]] = []
        self._rv = 0
        for resource, obj in objects:
            self.put(resource, obj)

    def put(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self._rv)
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("generation", 1)
        namespace = None if resource in CLUSTER_SCOPED else meta.get("namespace")
        self.objects[(resource, namespace, meta["name"])] = obj
        return obj

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        try:
            return copy.deepcopy(self.objects[(resource, namespace, name)])
        except KeyError:
            raise errors.NotFound(f"{resource} {name!r} not found", code=404, reason="NotFound") from None

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
    ) -> ListResult:
        selector = parse_label_selector(label_selector or "")
        fields = dict(p.split("=", 1) for p in (field_selector or "").split(",") if p)
        items = []
        for (r, ns, _), obj in sorted(self.objects.items(), key=lambda kv: str(kv[0])):
            if r != resource or (namespace is not None and ns != namespace):
                continue
            if not selector.matches(obj["metadata"].get("labels") or {}):
                continue
            if "spec.nodeName" in fields and (obj.get("spec") or {}).get("nodeName") != fields["spec.nodeName"]:
                continue
            items.append(copy.deepcopy(obj))
        return ListResult(items=items)

    def _patched(self, current: dict[str, Any], body: Any, patch_type: str) -> dict[str, Any]:
        try:
            if patch_type == "json":
                return patching.json_patch(current, body)
            if patch_type == "merge":
                return patching.merge_patch(current, body)
            return patching.strategic_merge_patch(current, body)
        except patching.PatchError as e:
            raise errors.Invalid(str(e), code=422, reason="Invalid") from e

    def patch(
        self,
        resource: str,
        name: str,
        body: Any,
        namespace: str | None = None,
        *,
        patch_type: str,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        current = self.get(resource, name, namespace)
        (self.dry_runs if dry_run else self.writes).append(("patch", resource, name, body))
        if subresource == "scale":
            scale = {
                "kind": "Scale",
                "metadata": current["metadata"],
                "spec": {"replicas": current["spec"]["replicas"]},
            }
            scale = self._patched(scale, body, patch_type)
            new = copy.deepcopy(current)
            new["spec"]["replicas"] = scale["spec"]["replicas"]
            if not dry_run:
                self.put(resource, new)
            return {**scale, "spec": {"replicas": new["spec"]["replicas"]}}
        new = self._patched(current, body, patch_type)
        if new.get("spec") != current.get("spec"):
            new["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        if dry_run:
            return new
        return copy.deepcopy(self.put(resource, new))

    def create(
        self, resource: str, body: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        name = body["metadata"]["name"]
        if (resource, namespace, name) in self.objects:
            raise errors.Conflict(f"{resource} {name!r} already exists", code=409, reason="AlreadyExists")
        (self.dry_runs if dry_run else self.writes).append(("create", resource, name, body))
        obj = copy.deepcopy(body)
        obj["metadata"].setdefault("namespace", namespace)
        if dry_run:
            return obj
        return copy.deepcopy(self.put(resource, obj))

    def delete(
        self,
        resource: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        current = self.get(resource, name, namespace)
        if uid is not None and current["metadata"]["uid"] != uid:
            raise errors.Conflict("uid precondition failed", code=409, reason="Conflict")
        (self.dry_runs if dry_run else self.writes).append(("delete", resource, name, None))
        if not dry_run:
            del self.objects[(resource, namespace, name)]
        return current

    def evict(self, name: str, namespace: str, *, dry_run: bool = False) -> None:
        self.get("pods", name, namespace)
        (self.dry_runs if dry_run else self.writes).append(("evict", "pods", name, None))
        if not dry_run:
            del self.objects[("pods", namespace, name)]


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    ready: bool = True,
    unschedulable: bool = False,
    taints: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if unschedulable:
        spec["unschedulable"] = True
    if taints:
        spec["taints"] = taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": spec,
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def service(name: str, selector: dict[str, str], *, namespace: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]},
    }


def with_resources(obj: dict[str, Any], **resources: dict[str, str]) -> dict[str, Any]:
    """Set resources on every container of a pod or deployment template."""
    spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else obj["spec"]
    for container in spec["containers"]:
        container["resources"] = copy.deepcopy(resources)
    return obj
