"""A StatefulSet and a DaemonSet seeded with their history, pods already running: the `bad-statefulset` and
`bad-daemonset` scenarios, each a healthy shop plus one of these whose newest revision crash-loops.

sessions (a StatefulSet, 3 replicas, a claim each): revision 2 (an image bump `age` ago) reached sessions-2,
which has crash-looped since, so the ordered rollout stopped there. db-proxy (a DaemonSet on every node):
revision 2 replaced the pod on node-1, which has crash-looped since, so the rolling update (maxUnavailable 1)
stopped there. What the controllers find is what they would have left; they take over from it. Both bad revisions
crash through their images (the cluster's image catalogue): their templates differ from the good ones in the image.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from incident_response.sim import behaviors
from incident_response.sim.controllers import revisions
from incident_response.sim.controllers.common import Obj, owner_reference, template_hash, uid_of
from incident_response.sim.controllers.daemonsets import (
    POD_TEMPLATE_GENERATION,
    TEMPLATE_GENERATION,
    daemon_tolerations,
    pinned_affinity,
)
from incident_response.sim.controllers.podfactory import pod_from_template
from incident_response.sim.controllers.statefulsets import DEFAULT_STORAGE_CLASS, POD_INDEX, POD_NAME
from incident_response.sim.defaults import apply_defaults
from incident_response.sim.resources import CONTROLLERREVISIONS, DAEMONSETS, PODS, PVCS, STATEFULSETS
from incident_response.sim.scenarios.builders import DAY, MINUTE, Revision, backdated, catalogue
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

CRASH = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}


def _template(name: str, rev: Revision, port: int) -> Obj:
    """The pod template of a revision, defaulted as the API server stores it."""
    meta: Obj = {"labels": {"app": name}}
    if rev.annotations:
        meta["annotations"] = dict(rev.annotations)
    container = {
        "name": name,
        "image": rev.image,
        "ports": [{"containerPort": port, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    }
    body: Obj = {"spec": {"template": {"metadata": meta, "spec": {"containers": [container]}}}}
    apply_defaults(STATEFULSETS, body, set())
    template: Obj = body["spec"]["template"]
    return template


def _workload(res: Any, name: str, namespace: str, cause: str, spec: Obj) -> Obj:
    body: Obj = {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app": name},
            "annotations": {"kubernetes.io/change-cause": cause},
        },
        "spec": spec,
    }
    apply_defaults(res, body, set())
    return body


def _revision(cluster: Cluster, owner: Obj, template: Obj, number: int, cause: str, age: float) -> Obj:
    data = revisions.patch_of(template)
    digest = template_hash(data)
    labels = {**(template.get("metadata") or {}).get("labels", {}), revisions.REVISION_HASH: digest}
    body: Obj = {
        "metadata": {
            "name": f"{owner['metadata']['name']}-{digest}",
            "namespace": owner["metadata"]["namespace"],
            "labels": labels,
            "annotations": {**owner["metadata"].get("annotations", {}), "kubernetes.io/change-cause": cause},
            "ownerReferences": [owner_reference(owner)],
        },
        "data": data,
        "revision": number,
    }
    with backdated(cluster.store, age):
        return cluster.store.create(CONTROLLERREVISIONS, body)


def _running_pod(cluster: Cluster, body: Obj, node: str, age: float) -> None:
    """A pod body running on `node` for `age` seconds (crash-looping since, if its behaviour says so)."""
    started = timestamp(cluster.store.clock() - timedelta(seconds=age))
    rt = cluster.kubelet.seed_running(body, node, started, age)
    with backdated(cluster.store, age):
        pod = cluster.store.create(PODS, body, owned=True)
    cluster.kubelet.register(pod, rt)


def sessions(cluster: Cluster, namespace: str, nodes: list[str], bad_age: float, good_age: float = 30 * DAY) -> None:
    """The sessions StatefulSet: revision 1 ran for weeks (`good_age`), revision 2 reached only sessions-2 and
    crash-loops."""
    good = Revision(
        "registry.example.com/shop/sessions:7.2.5", "kubectl apply -f sessions.yaml (redis 7.2.5)", good_age
    )
    bad = Revision(
        "registry.example.com/shop/sessions:7.4.0",
        "kubectl set image statefulset/sessions redis 7.4.0",
        bad_age,
        image_does=CRASH,
    )
    catalogue(cluster, [good, bad])
    templates = [_template("sessions", rev, 6379) for rev in (good, bad)]
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
    }
    spec = {
        "serviceName": "sessions",
        "replicas": 3,
        "selector": {"matchLabels": {"app": "sessions"}},
        "template": copy.deepcopy(templates[1]),
        "volumeClaimTemplates": [claim],
    }
    with backdated(cluster.store, good.age + MINUTE):
        sts = cluster.store.create(STATEFULSETS, _workload(STATEFULSETS, "sessions", namespace, bad.cause, spec))
    made = [
        _revision(cluster, sts, tmpl, number, rev.cause, rev.age)
        for number, (rev, tmpl) in enumerate(zip((good, bad), templates, strict=True), start=1)
    ]
    status = {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 2,
        "currentReplicas": 2,
        "updatedReplicas": 1,
        "currentRevision": made[0]["metadata"]["name"],
        "updateRevision": made[1]["metadata"]["name"],
        "collisionCount": 0,
        "availableReplicas": 2,
    }
    cluster.store.mutate(STATEFULSETS, namespace, "sessions", lambda o: o.__setitem__("status", status))
    for ordinal in range(3):
        at = 1 if ordinal == 2 else 0  # the ordered rollout replaced sessions-2 first, and stopped there
        rev, revision = (bad, made[1]) if at else (good, made[0])
        name = f"sessions-{ordinal}"
        labels = {revisions.REVISION_HASH: revision["metadata"]["name"], POD_NAME: name, POD_INDEX: str(ordinal)}
        body = pod_from_template(sts, templates[at], name=name, labels=labels)
        body["spec"].update(hostname=name, subdomain="sessions")
        claim_name = f"data-sessions-{ordinal}"
        body["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]
        _claim(cluster, namespace, claim_name, good.age)
        _running_pod(cluster, body, nodes[ordinal % len(nodes)], rev.age)


def _claim(cluster: Cluster, namespace: str, name: str, age: float) -> None:
    body: Obj = {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app": "sessions"},
            "annotations": {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"},
            "finalizers": ["kubernetes.io/pvc-protection"],
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "5Gi"}},
            "storageClassName": DEFAULT_STORAGE_CLASS,
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "5Gi"}},
    }
    with backdated(cluster.store, age):
        created = cluster.store.create(PVCS, body)
    cluster.store.mutate(PVCS, namespace, name, lambda p: p["spec"].__setitem__("volumeName", f"pvc-{uid_of(created)}"))


def db_proxy(cluster: Cluster, namespace: str, nodes: list[str], bad_age: float, good_age: float = 25 * DAY) -> None:
    """The db-proxy DaemonSet: revision 1 ran for weeks (`good_age`), revision 2 replaced node-1's pod and
    crash-loops."""
    good = Revision("registry.example.com/shop/db-proxy:1.14.2", "pgbouncer 1.14.2", good_age)
    bad = Revision(
        "registry.example.com/shop/db-proxy:1.15.0", "pgbouncer 1.15.0 (new pool settings)", bad_age, image_does=CRASH
    )
    catalogue(cluster, [good, bad])
    templates = [_template("db-proxy", rev, 6432) for rev in (good, bad)]
    spec = {"selector": {"matchLabels": {"app": "db-proxy"}}, "template": copy.deepcopy(templates[1])}
    body = _workload(DAEMONSETS, "db-proxy", namespace, bad.cause, spec)
    body["metadata"]["annotations"][TEMPLATE_GENERATION] = "2"
    with backdated(cluster.store, good.age + MINUTE):
        ds = cluster.store.create(DAEMONSETS, body)
    made = [
        _revision(cluster, ds, tmpl, number, rev.cause, rev.age)
        for number, (rev, tmpl) in enumerate(zip((good, bad), templates, strict=True), start=1)
    ]
    for index, node in enumerate(nodes):
        at = 1 if index == 0 else 0
        rev, revision = (bad, made[1]) if at else (good, made[0])
        labels = {revisions.REVISION_HASH: revisions.hash_of(revision), POD_TEMPLATE_GENERATION: str(at + 1)}
        template = templates[at]
        pod_spec = {**(template.get("spec") or {}), "tolerations": daemon_tolerations(template)}
        pod = pod_from_template(ds, {**template, "spec": pod_spec}, labels=labels)
        pod["spec"]["affinity"] = pinned_affinity(node)
        _running_pod(cluster, pod, node, rev.age)
