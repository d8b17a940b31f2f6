"""Object builders and seeding helpers for scenarios: nodes, apps with rollout history, running pods.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incident_response.sim import errors
from incident_response.sim.controllers.common import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    POD_TEMPLATE_HASH,
    REVISION,
    Obj,
    owner_reference,
    template_hash,
)
from incident_response.sim.controllers.podfactory import qos_class
from incident_response.sim.defaults import apply_defaults, default_tolerations
from incident_response.sim.resources import (
    DEPLOYMENTS,
    NAMESPACES,
    NODES,
    PODS,
    REPLICASETS,
    SERVICES,
    ResourceType,
)
from incident_response.sim.store import Store, timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

CHANGE_CAUSE = "kubernetes.io/change-cause"
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


@contextmanager
def backdated(store: Store, seconds_ago: float) -> Iterator[None]:
    """Objects created inside get creationTimestamps in the past (seeding only: nothing else is writing yet)."""
    original = store.clock
    moment = original() - timedelta(seconds=seconds_ago)
    store.clock = lambda: moment
    try:
        yield
    finally:
        store.clock = original


def ensure(store: Store, res: ResourceType, body: Obj) -> Obj:
    """Create unless it exists (the runner may have made default namespaces already)."""
    name = body["metadata"]["name"]
    existing = store.peek(res, body["metadata"].get("namespace"), name)
    if existing is not None:
        return existing
    if res is SERVICES:
        taken = {str((s.get("spec") or {}).get("clusterIP")) for s in store.items(SERVICES)}
        apply_defaults(res, body, taken)
    elif res in (NAMESPACES, DEPLOYMENTS):
        apply_defaults(res, body, set())
    try:
        return store.create(res, body)
    except errors.ApiError as exc:
        if exc.code == 409:
            found = store.peek(res, body["metadata"].get("namespace"), name)
            if found is not None:
                return found
        raise


def namespace(name: str) -> Obj:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}}


def node(name: str, index: int, *, cpu: str = "4", memory_gi: int = 16, zone: str = "us-central1-a") -> Obj:
    alloc_cpu = f"{int(float(cpu) * 1000) - 80 * max(int(float(cpu)) // 4, 1)}m"
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "e2-standard-4" if cpu == "4" else f"e2-standard-{cpu}",
                "topology.kubernetes.io/zone": zone,
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
        "status": {
            "capacity": {
                "cpu": cpu,
                "memory": f"{memory_gi * 1024 * 1024}Ki",
                "pods": "110",
                "ephemeral-storage": "101430960Ki",
            },
            "allocatable": {
                "cpu": alloc_cpu,
                "memory": f"{memory_gi * 1024 * 1024 - 1_400_000}Ki",
                "pods": "110",
                "ephemeral-storage": "93478772582",
            },
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.{index // 250}.{10 + index % 250}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.4",
                "kubeProxyVersion": "v1.32.4",
                "containerRuntimeVersion": "containerd://1.7.24",
                "osImage": "Ubuntu 22.04.5 LTS",
                "kernelVersion": "6.8.0-1019-gcp",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "machineID": f"{index:032x}",
                "systemUUID": f"{index:08x}-0000-4000-8000-{index:012x}",
                "bootID": f"{index + 7:08x}-1111-4000-8000-{index:012x}",
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "conditions": [],
        },
    }


@dataclass
class Revision:
    """One revision of an app's pod template, rolled out `age` seconds ago."""

    image: str
    cause: str
    age: float
    # pod template annotations; the shipped scenarios put none of the simulator's here (image_does instead)
    annotations: dict[str, str] = field(default_factory=dict)
    memory_limit: str | None = None
    env: list[Obj] | None = None  # this revision's env, instead of the app's
    args: list[str] | None = None  # container args
    # behaviours of this revision's image (the cluster's image catalogue): the template shows only the image
    image_does: dict[str, str] = field(default_factory=dict)


@dataclass
class App:
    name: str
    namespace: str
    replicas: int
    port: int = 8080
    container: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # pod labels (selector labels included)
    selector: dict[str, str] = field(default_factory=dict)
    cpu: tuple[str, str] = ("250m", "500m")
    memory: tuple[str, str] = ("256Mi", "512Mi")
    annotations: dict[str, str] = field(default_factory=dict)  # Deployment metadata annotations
    deploy_labels: dict[str, str] = field(default_factory=dict)
    env: list[Obj] = field(default_factory=list)
    volumes: list[Obj] = field(default_factory=list)
    mounts: list[Obj] = field(default_factory=list)
    strategy: Obj | None = None


def catalogue(cluster: Cluster, revisions: list[Revision]) -> None:
    """Enter what each revision's image does in the cluster's image catalogue (not visible through the API)."""
    for rev in revisions:
        if rev.image_does:
            cluster.images[rev.image] = dict(rev.image_does)


def template(app: App, rev: Revision) -> Obj:
    limits: dict[str, Any] = {"cpu": app.cpu[1], "memory": rev.memory_limit or app.memory[1]}
    container: Obj = {
        "name": app.container or app.name,
        "image": rev.image,
        "ports": [{"name": "http", "containerPort": app.port, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": app.cpu[0], "memory": app.memory[0]}, "limits": limits},
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
            "periodSeconds": 5,
            "timeoutSeconds": 1,
            "successThreshold": 1,
            "failureThreshold": 3,
        },
    }
    env = rev.env if rev.env is not None else app.env
    if env:
        container["env"] = copy.deepcopy(env)
    if rev.args:
        container["args"] = list(rev.args)
    if app.mounts:
        container["volumeMounts"] = copy.deepcopy(app.mounts)
    tmpl_meta: Obj = {"labels": dict(app.labels)}
    if rev.annotations:
        tmpl_meta["annotations"] = dict(rev.annotations)
    spec: Obj = {"containers": [container]}
    if app.volumes:
        spec["volumes"] = copy.deepcopy(app.volumes)
    tmpl: Obj = {"metadata": tmpl_meta, "spec": spec}
    body: Obj = {"spec": {"template": tmpl}}
    apply_defaults(DEPLOYMENTS, body, set())
    result: Obj = body["spec"]["template"]
    return result


class Seeder:
    """Seeds apps with their history straight into the store, pods already running (fast, no ticks)."""

    def __init__(self, cluster: Cluster, nodes: list[str]) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.nodes = nodes
        self._next_node = 0

    def pick_node(self, avoid: frozenset[str] = frozenset()) -> str:
        for _ in range(len(self.nodes)):
            name = self.nodes[self._next_node % len(self.nodes)]
            self._next_node += 1
            if name not in avoid:
                return name
        return self.nodes[0]

    def app(self, app: App, revisions: list[Revision], *, running: int | None = None) -> Obj:
        """Deployment + one ReplicaSet per revision; pods of revision `running` (default: last) are up.

        When `running` is not the last revision, the last one's rollout is left to the controllers, dated as
        long ago as that revision (its pods have been running, or crash-looping, since).
        """
        running = len(revisions) - 1 if running is None else running
        catalogue(self.cluster, revisions)
        templates = [template(app, rev) for rev in revisions]
        current = revisions[-1]
        body: Obj = {
            "metadata": {
                "name": app.name,
                "namespace": app.namespace,
                "labels": dict(app.deploy_labels or {"app": app.labels.get("app", app.name)}),
                "annotations": {**app.annotations, CHANGE_CAUSE: current.cause, REVISION: str(running + 1)},
            },
            "spec": {
                "replicas": app.replicas,
                "selector": {"matchLabels": dict(app.selector)},
                "template": templates[-1],
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
        }
        if app.strategy is not None:
            body["spec"]["strategy"] = app.strategy
        with backdated(self.store, revisions[0].age + DAY):
            deploy = ensure(self.store, DEPLOYMENTS, body)
        for index, (rev, tmpl) in enumerate(zip(revisions, templates, strict=True)):
            replicas = app.replicas if index == running else 0
            rs = self._replicaset(app, deploy, tmpl, rev, index + 1, replicas)
            if replicas:
                self.pods(rs, replicas, rev.age)
            elif index == len(revisions) - 1:
                self.cluster.dated.date(rs["metadata"]["uid"], rev.age)
        return deploy

    def _replicaset(self, app: App, deploy: Obj, tmpl: Obj, rev: Revision, number: int, replicas: int) -> Obj:
        pod_hash = template_hash(tmpl)
        tmpl = copy.deepcopy(tmpl)
        tmpl["metadata"]["labels"][POD_TEMPLATE_HASH] = pod_hash
        body: Obj = {
            "metadata": {
                "name": f"{app.name}-{pod_hash}",
                "namespace": app.namespace,
                "labels": dict(tmpl["metadata"]["labels"]),
                "annotations": {
                    **app.annotations,
                    CHANGE_CAUSE: rev.cause,
                    DESIRED_REPLICAS: str(app.replicas),
                    MAX_REPLICAS: str(app.replicas + max(1, -(-app.replicas // 4))),
                    REVISION: str(number),
                },
                "ownerReferences": [owner_reference(deploy)],
            },
            "spec": {
                "replicas": replicas,
                "minReadySeconds": 0,
                "selector": {"matchLabels": {**app.selector, POD_TEMPLATE_HASH: pod_hash}},
                "template": tmpl,
            },
        }
        with backdated(self.store, rev.age):
            rs = self.store.create(REPLICASETS, body)
        if replicas:
            status = {
                "replicas": replicas,
                "fullyLabeledReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
                "observedGeneration": 1,
            }
            rs = self.store.mutate(
                REPLICASETS, app.namespace, rs["metadata"]["name"], lambda o: o.__setitem__("status", status)
            )
        return rs

    def pods(self, rs: Obj, count: int, age: float, node_names: list[str] | None = None) -> list[Obj]:
        created = []
        tmpl = rs["spec"]["template"]
        # Each body is built fresh (the spec from JSON, which is faster than deepcopy) and handed over to the
        # store uncopied: seeding 10,000 pods is dominated by copying otherwise.
        base = dict(tmpl["spec"])
        default_tolerations(base)  # DefaultTolerationSeconds, as on any pod created through the API
        spec_json = json.dumps(base)
        labels = dict(tmpl["metadata"].get("labels") or {})
        annotations = dict(tmpl["metadata"].get("annotations") or {})
        started = timestamp(self.store.clock() - timedelta(seconds=age))
        seeded = []
        with backdated(self.store, age):
            for i in range(count):
                spec = json.loads(spec_json)
                spec.setdefault("serviceAccountName", "default")
                spec.setdefault("enableServiceLinks", True)
                spec.setdefault("priority", 0)
                body: Obj = {
                    "metadata": {
                        "generateName": f"{rs['metadata']['name']}-",
                        "namespace": rs["metadata"]["namespace"],
                        "labels": dict(labels),
                        "ownerReferences": [owner_reference(rs)],
                    },
                    "spec": spec,
                }
                if annotations:
                    body["metadata"]["annotations"] = dict(annotations)
                target = node_names[i % len(node_names)] if node_names else self.pick_node()
                rt = self.cluster.kubelet.seed_running(body, target, started, age)
                body["status"]["qosClass"] = qos_class(spec)
                pod = self.store.create(PODS, body, owned=True)
                seeded.append((pod, rt))
                created.append(pod)
        for pod, rt in seeded:  # now, not backdated: the events a long-running pod left are dated from now
            self.cluster.kubelet.register(pod, rt)
        return created


def seed_node(store: Store, body: Obj) -> Obj:
    with backdated(store, 40 * DAY):
        return ensure(store, NODES, body)


def iso(moment: datetime) -> str:
    return timestamp(moment)


def minimal(cluster: Cluster, nodes: int = 3, *, cpu: str = "4", memory_gi: int = 16) -> list[str]:
    """Namespaces default and kube-system plus `nodes` empty nodes: the smallest useful cluster (tests)."""
    for ns in ("default", "kube-system"):
        ensure(cluster.store, NAMESPACES, namespace(ns))
    names = [f"node-{i}" for i in range(1, nodes + 1)]
    for index, name in enumerate(names, start=1):
        ensure(cluster.store, NODES, node(name, index, cpu=cpu, memory_gi=memory_gi))
    return names


def deployment_body(
    name: str,
    *,
    namespace: str = "default",
    replicas: int = 3,
    image: str = "registry.example.com/app:1.0",
    annotations: dict[str, str] | None = None,
    pod_annotations: dict[str, str] | None = None,
    cpu: tuple[str, str] = ("100m", "500m"),
    memory: tuple[str, str] = ("64Mi", "256Mi"),
    strategy: Obj | None = None,
) -> Obj:
    """A Deployment as `kubectl apply` would send it (defaults applied as the API server would)."""
    tmpl_meta: Obj = {"labels": {"app": name}}
    if pod_annotations:
        tmpl_meta["annotations"] = dict(pod_annotations)
    body: Obj = {
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}, "annotations": annotations or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": tmpl_meta,
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "resources": {
                                "requests": {"cpu": cpu[0], "memory": memory[0]},
                                "limits": {"cpu": cpu[1], "memory": memory[1]},
                            },
                        }
                    ]
                },
            },
        },
    }
    if strategy is not None:
        body["spec"]["strategy"] = strategy
    apply_defaults(DEPLOYMENTS, body, set())
    return body
