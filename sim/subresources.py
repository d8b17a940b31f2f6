"""Subresources (scale, eviction, log) and the virtual resources (node Leases, metrics).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from incident_response.sim import errors, metrics, selectors
from incident_response.sim.requests import (
    Target,
    apply_patch,
    field_manager,
    is_dry_run,
    json_response,
    predicates,
    read_body,
    truthy,
    unknown_resource,
)
from incident_response.sim.resources import NODES, SCALABLE
from incident_response.sim.store import Obj, Store

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

NODE_LEASES = "kube-node-lease"


def _scale_of(obj: Obj) -> Obj:
    meta = obj["metadata"]
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = ""
    if isinstance(spec.get("selector"), dict):
        selector = str(selectors.selector_from_spec(spec["selector"]))
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
        },
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": {"replicas": status.get("replicas", 0), "selector": selector},
    }


async def scale(request: web.Request, target: Target, verb: str, store: Store) -> web.Response:
    """get, update or patch a Deployment's or ReplicaSet's replicas through its autoscaling/v1 Scale."""
    assert target.name is not None
    res = target.res
    if res not in SCALABLE:
        raise unknown_resource()
    if verb == "get":
        return json_response(_scale_of(store.get(res, target.namespace, target.name)))
    body = await request.read() if verb == "patch" else None
    update = await read_body(request) if verb == "update" else None
    with store.lock:
        current = store.get(res, target.namespace, target.name)
        scale = _scale_of(current)
        if verb == "patch":
            assert body is not None
            scale = apply_patch(scale, body, request.headers.get("Content-Type", ""))
        elif isinstance(update, dict):
            rv = (update.get("metadata") or {}).get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise errors.conflict(res.plural, res.group, target.name)
            scale = update
        else:
            raise errors.bad_request("the request body must be a Scale object")
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(
                "Scale",
                "autoscaling",
                target.name,
                [("spec.replicas", f"Invalid value: {replicas!r}: must be greater than or equal to 0")],
            )
        current["spec"]["replicas"] = replicas
        obj = store.replace(
            res, current, dry_run=is_dry_run(request), field_manager=field_manager(request), subresource="scale"
        )
    return json_response(_scale_of(obj))


async def evict(request: web.Request, target: Target, cluster: Cluster) -> web.Response:
    """POST an Eviction: the cluster deletes the pod unless a PodDisruptionBudget forbids it (429)."""
    assert target.name is not None and target.namespace is not None
    if request.method != "POST":
        raise errors.method_not_allowed("evictions are created with POST")
    body = await read_body(request)
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be an Eviction object")
    opts = body.get("deleteOptions")
    if opts is not None and not isinstance(opts, dict):
        raise errors.bad_request("Eviction.deleteOptions must be an object")
    dry_run = is_dry_run(request) or (isinstance(opts, dict) and opts.get("dryRun") == ["All"])
    pre = (opts or {}).get("preconditions") or {}
    if not isinstance(pre, dict):
        raise errors.bad_request("Eviction.deleteOptions.preconditions must be an object")
    uid = pre.get("uid")
    cluster.evict(target.namespace, target.name, dry_run=dry_run, uid=str(uid) if uid else None)
    return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201)


def logs(request: web.Request, target: Target, cluster: Cluster) -> web.Response:
    assert target.name is not None and target.namespace is not None
    q = request.query

    def number(key: str) -> int | None:
        if key not in q:
            return None
        try:
            value = int(q[key])
        except ValueError as e:
            raise errors.bad_request(f"invalid {key}: {q[key]!r}") from e
        if value < 0:
            raise errors.bad_request(f"{key} must be >= 0")
        return value

    text = cluster.pod_logs(
        target.namespace,
        target.name,
        container=q.get("container") or None,
        previous=truthy(q.get("previous")),
        tail_lines=number("tailLines"),
        since_seconds=number("sinceSeconds"),
        timestamps=truthy(q.get("timestamps")),
        limit_bytes=number("limitBytes"),
    )
    return web.Response(text=text, content_type="text/plain")


def read_metrics(request: web.Request, target: Target, cluster: Cluster) -> web.Response:
    """metrics.k8s.io PodMetrics and NodeMetrics, computed from the cluster's current usage."""
    if request.method != "GET":
        raise errors.method_not_allowed("metrics are read-only")
    now = cluster.store.clock()
    if target.res.kind == "PodMetrics":
        return json_response(metrics.pod_metrics(cluster, target.namespace, target.name, predicates(request), now))
    return json_response(metrics.node_metrics(cluster, target.name, predicates(request), now))


def _lease_of(node: Obj, clock: Callable[[], datetime]) -> Obj:
    """The kubelet's heartbeat Lease for a node: renewed now while Ready, stale since it went NotReady."""
    meta = node["metadata"]
    conditions = (node.get("status") or {}).get("conditions") or []
    ready: Obj = next((c for c in conditions if c.get("type") == "Ready"), {})
    now = clock()
    if ready.get("status") == "True" or not ready.get("lastHeartbeatTime"):
        renew = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        renew = str(ready["lastHeartbeatTime"]).replace("Z", ".000000Z")
    return {
        "kind": "Lease",
        "apiVersion": "coordination.k8s.io/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": NODE_LEASES,
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": meta["name"], "uid": meta.get("uid")}],
        },
        "spec": {"holderIdentity": meta["name"], "leaseDurationSeconds": 40, "renewTime": renew},
    }


def read_leases(request: web.Request, target: Target, store: Store) -> web.Response:
    """The kube-node-lease Leases, one per node, derived from the nodes (read-only)."""
    if request.method != "GET":
        raise errors.method_not_allowed("node leases are read-only in the simulated cluster")
    if target.name is not None:
        node = store.peek(NODES, None, target.name) if target.namespace == NODE_LEASES else None
        if node is None:
            raise errors.not_found("leases", "coordination.k8s.io", target.name)
        return json_response(_lease_of(node, store.clock))
    nodes = list(store.items(NODES)) if target.namespace in (None, NODE_LEASES) else []
    checks = predicates(request)
    items = [
        lease for lease in (_lease_of(node, store.clock) for node in nodes) if all(check(lease) for check in checks)
    ]
    return json_response(
        {
            "kind": "LeaseList",
            "apiVersion": "coordination.k8s.io/v1",
            "metadata": {"resourceVersion": str(store.resource_version)},
            "items": items,
        }
    )
