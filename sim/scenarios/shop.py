"""The `shop`: a small realistic production namespace every scenario starts from, then breaks one way.

Apps (namespace `shop`): web (frontend, HPA), api (behind web), checkout, cart (a Helm release), payments
(PDB), orders-db (Recreate, PVC). Plus coredns and metrics-server in kube-system and three nodes.

Each incident is what a real cluster would show: a bad release fails through its image (the cluster's image
catalogue, Revision.image_does), so its pod template differs from the good one in real fields only and no tool or
kubectl output names a simulator key. Simulator annotations stay where a real cluster has no field: a Deployment's
load and a node's kubelet being down.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim import behaviors
from incident_response.sim.resources import (
    CONFIGMAPS,
    ENDPOINTS,
    HPAS,
    INGRESSES,
    NAMESPACES,
    PDBS,
    PVCS,
    SECRETS,
    SERVICES,
)
from incident_response.sim.scenarios import stateful
from incident_response.sim.scenarios.builders import (
    DAY,
    HOUR,
    MINUTE,
    App,
    Revision,
    Seeder,
    backdated,
    ensure,
    namespace,
    node,
    seed_node,
)
from incident_response.sim.scenarios.helm import release_secret
from incident_response.sim.store import Store

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

NS = "shop"
NODES = ("node-1", "node-2", "node-3")
REGISTRY = "registry.example.com/shop"
CRASH = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}


def _app(name: str, replicas: int, **extra: object) -> App:
    labels = {"app": name, "app.kubernetes.io/name": name, "version": "stable"}
    selector = {"app.kubernetes.io/name": name, "version": "stable"}
    app = App(name=name, namespace=NS, replicas=replicas, labels=labels, selector=selector)
    for key, value in extra.items():
        setattr(app, key, value)
    return app


def base(cluster: Cluster) -> None:
    """Namespaces and nodes; apps come from the scenario functions."""
    store = cluster.store
    for ns in ("default", "kube-system", NS):
        with backdated(store, 40 * DAY):
            ensure(store, NAMESPACES, namespace(ns))
    for index, name in enumerate(NODES, start=1):
        seed_node(store, node(name, index, zone=f"us-central1-{'abc'[index - 1]}"))
    with backdated(store, 40 * DAY):
        ensure(
            store,
            SERVICES,
            {
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "clusterIPs": ["10.96.0.1"],
                    "type": "ClusterIP",
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                },
            },
        )
        ensure(
            store,
            ENDPOINTS,
            {
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
                },
                "subsets": [
                    {"addresses": [{"ip": "10.0.0.2"}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}
                ],
            },
        )


def system(seeder: Seeder) -> None:
    coredns = App(
        name="coredns",
        namespace="kube-system",
        replicas=2,
        port=53,
        labels={"k8s-app": "kube-dns"},
        selector={"k8s-app": "kube-dns"},
        cpu=("100m", "200m"),
        memory=("70Mi", "170Mi"),
        deploy_labels={"k8s-app": "kube-dns"},
    )
    seeder.app(coredns, [Revision("registry.k8s.io/coredns/coredns:v1.11.3", "cluster bootstrap", 40 * DAY)])
    metrics = App(
        name="metrics-server",
        namespace="kube-system",
        replicas=1,
        port=10250,
        labels={"k8s-app": "metrics-server"},
        selector={"k8s-app": "metrics-server"},
        cpu=("100m", "200m"),
        memory=("200Mi", "400Mi"),
        deploy_labels={"k8s-app": "metrics-server"},
    )
    seeder.app(
        metrics, [Revision("registry.k8s.io/metrics-server/metrics-server:v0.7.2", "cluster bootstrap", 40 * DAY)]
    )
    _service(seeder.store, "kube-system", "kube-dns", {"k8s-app": "kube-dns"}, 53, cluster_ip="10.96.0.10")
    _service(seeder.store, "kube-system", "metrics-server", {"k8s-app": "metrics-server"}, 443, target=10250)


def _service(
    store: Store,
    ns: str,
    name: str,
    selector: dict[str, str],
    port: int,
    *,
    target: int | str = "http",
    cluster_ip: str | None = None,
) -> None:
    spec: dict[str, object] = {
        "selector": selector,
        "ports": [{"name": "http", "port": port, "targetPort": target, "protocol": "TCP"}],
    }
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
        spec["clusterIPs"] = [cluster_ip]
    with backdated(store, 30 * DAY):
        ensure(store, SERVICES, {"metadata": {"name": name, "namespace": ns, "labels": {"app": name}}, "spec": spec})


def _hpa(store: Store, name: str, target: str, minimum: int, maximum: int, percent: int = 70) -> None:
    with backdated(store, 30 * DAY):
        ensure(
            store,
            HPAS,
            {
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                    "minReplicas": minimum,
                    "maxReplicas": maximum,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": percent},
                            },
                        }
                    ],
                },
            },
        )


def shop(cluster: Cluster, variant: str) -> None:
    """The shop with one incident; `variant` is the scenario name."""
    base(cluster)
    store = cluster.store
    seeder = Seeder(cluster, list(NODES))
    system(seeder)

    # --- web: the frontend, behind the ingress, autoscaled ---
    web_load = 3300 if variant == "overload" else 700
    web_hpa_max = 6
    web_replicas = 6 if variant == "overload" else 4
    web_revs = [
        Revision(f"{REGISTRY}/web:1.8.0", "kubectl set image deployment/web web=shop/web:1.8.0", 9 * DAY),
        Revision(f"{REGISTRY}/web:1.9.0", "kubectl set image deployment/web web=shop/web:1.9.0", 4 * DAY),
        Revision(f"{REGISTRY}/web:1.9.1", "kubectl set image deployment/web web=shop/web:1.9.1", 2 * DAY),
    ]
    web_annotations = {behaviors.LOAD_MILLICORES: str(web_load)}
    if variant == "canary":
        stable = _app("web-stable", 4, annotations=web_annotations)
        stable.labels = {"app": "web", "app.kubernetes.io/name": "web", "version": "stable"}
        stable.selector = {"app": "web", "version": "stable"}
        stable.container = "web"
        seeder.app(stable, web_revs)
        canary = _app("web-canary", 1)
        canary.labels = {"app": "web", "app.kubernetes.io/name": "web", "version": "canary"}
        canary.selector = {"app": "web", "version": "canary"}
        canary.container = "web"
        seeder.app(
            canary,
            # the release candidate crashes through its image: the template holds nothing a real cluster would not
            [
                Revision(
                    f"{REGISTRY}/web:2.0.0-rc1", "canary web 2.0.0-rc1 (10% traffic)", 12 * MINUTE, image_does=CRASH
                )
            ],
        )
        _hpa(store, "web", "web-stable", 3, web_hpa_max)
    else:
        web = _app("web", web_replicas, annotations=web_annotations)
        seeder.app(web, web_revs)
        _hpa(store, "web", "web", 3, web_hpa_max)
    _service(store, NS, "web", {"app": "web"}, 80)

    # --- api: behind web; in `poison`, a separate api-bad deployment's version=bad pods break web ---
    api = _app("api", 3, cpu=("200m", "400m"))
    seeder.app(
        api,
        [
            Revision(f"{REGISTRY}/api:3.2.0", "kubectl set image deployment/api api=shop/api:3.2.0", 12 * DAY),
            Revision(f"{REGISTRY}/api:3.3.0", "kubectl set image deployment/api api=shop/api:3.3.0", 3 * DAY),
        ],
    )
    if variant == "poison":
        bad = _app("api-bad", 2, cpu=("200m", "400m"))
        bad.labels = {"app": "api", "app.kubernetes.io/name": "api", "version": "bad"}
        bad.selector = {"app.kubernetes.io/name": "api", "version": "bad"}
        bad.container = "api"
        bad.deploy_labels = {"app": "api"}
        seeder.app(
            bad,
            [
                Revision(
                    f"{REGISTRY}/api:3.4.0-beta",
                    "kubectl apply -f api-bad.yaml (3.4.0 beta)",
                    25 * MINUTE,
                    image_does={behaviors.POISONS: "app=web"},  # the beta breaks web's pods through its image
                )
            ],
        )
    _service(store, NS, "api", {"app": "api"}, 8080)

    # --- checkout: in `bad-deploy`, revision 3 (rolled out minutes ago) crash-loops; revision 2 was good ---
    checkout = _app(
        "checkout",
        4,
        annotations={behaviors.LOAD_MILLICORES: "640"},
        env=[
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "url"}}},
            {
                "name": "PAYMENTS_URL",
                "valueFrom": {"configMapKeyRef": {"name": "checkout-config", "key": "PAYMENTS_URL"}},
            },
        ],
    )
    checkout_revs = [
        Revision(
            f"{REGISTRY}/checkout:2.3.0", "kubectl set image deployment/checkout checkout=shop/checkout:2.3.0", 6 * DAY
        ),
        Revision(
            f"{REGISTRY}/checkout:2.4.0", "kubectl set image deployment/checkout checkout=shop/checkout:2.4.0", 3 * DAY
        ),
    ]
    if variant == "bad-deploy":
        checkout_revs.append(
            Revision(
                f"{REGISTRY}/checkout:2.5.0",
                "kubectl set image deployment/checkout checkout=shop/checkout:2.5.0",
                7 * MINUTE,
                image_does=CRASH,  # the release crashes; its template differs from 2.4.0's in the image only
            )
        )
        seeder.app(checkout, checkout_revs, running=1)
    else:
        seeder.app(checkout, checkout_revs)
    _service(store, NS, "checkout", {"app": "checkout"}, 8080)
    _hpa(store, "checkout", "checkout", 2, 8)

    # --- cart: a Helm release with three revisions ---
    cart = _app(
        "cart",
        2,
        cpu=("100m", "300m"),
        deploy_labels={
            "app": "cart",
            "app.kubernetes.io/instance": "cart",
            "app.kubernetes.io/managed-by": "Helm",
            "helm.sh/chart": "cart-1.4.2",
        },
        annotations={"meta.helm.sh/release-name": "cart", "meta.helm.sh/release-namespace": NS},
    )
    cart.labels = {**cart.labels, "app.kubernetes.io/instance": "cart"}
    seeder.app(
        cart,
        [
            Revision(f"{REGISTRY}/cart:2.3.0", "helm upgrade cart shop/cart --version 1.4.0", 20 * DAY),
            Revision(f"{REGISTRY}/cart:2.3.1", "helm upgrade cart shop/cart --version 1.4.1", 10 * DAY),
            Revision(f"{REGISTRY}/cart:2.4.0", "helm upgrade cart shop/cart --version 1.4.2", 5 * DAY),
        ],
    )
    _service(store, NS, "cart", {"app": "cart"}, 8080)
    _helm_history(store)

    # --- payments: a PDB; in `oom`, its memory limit (256Mi) is below what it needs (512Mi) ---
    payments = _app("payments", 2, cpu=("200m", "400m"), memory=("256Mi", "256Mi"))
    pay_revs = [
        Revision(f"{REGISTRY}/payments:5.0.2", "kubectl set image deployment/payments payments=5.0.2", 15 * DAY)
    ]
    if variant == "oom":
        pay_revs.append(
            Revision(
                f"{REGISTRY}/payments:5.1.0",
                "kubectl set image deployment/payments payments=5.1.0 (fraud model v2)",
                5 * HOUR,
                # the new model needs 512Mi (its image's behaviour); the template keeps the 256Mi limit: the
                # release differs from 5.0.2 in the image only, and a higher limit or a rollback both end the OOMs
                image_does={behaviors.BEHAVIOR: behaviors.OOM, behaviors.MEMORY_NEED: "512Mi"},
            )
        )
        seeder.app(payments, pay_revs, running=0)
    else:
        seeder.app(payments, pay_revs)
    _service(store, NS, "payments", {"app": "payments"}, 8080)
    with backdated(store, 15 * DAY):
        ensure(
            store,
            PDBS,
            {
                "metadata": {"name": "payments", "namespace": NS},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "payments"}}},
            },
        )
        ensure(
            store,
            PDBS,
            {
                "metadata": {"name": "web", "namespace": NS},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
            },
        )

    # --- orders-db: stateful, one replica, Recreate, a Bound PVC ---
    db = _app(
        "orders-db",
        1,
        port=5432,
        cpu=("500m", "1"),
        memory=("1Gi", "2Gi"),
        strategy={"type": "Recreate"},
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "orders-db-data"}}],
        mounts=[{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
    )
    seeder.app(db, [Revision("docker.io/library/postgres:16.4", "initial install", 30 * DAY)])
    _service(store, NS, "orders-db", {"app": "orders-db"}, 5432)
    with backdated(store, 30 * DAY):
        ensure(
            store,
            PVCS,
            {
                "metadata": {
                    "name": "orders-db-data",
                    "namespace": NS,
                    "labels": {"app": "orders-db"},
                    "annotations": {
                        "pv.kubernetes.io/bind-completed": "yes",
                        "volume.kubernetes.io/storage-provisioner": "pd.csi.storage.gke.io",
                    },
                    "finalizers": ["kubernetes.io/pvc-protection"],
                },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "20Gi"}},
                    "storageClassName": "standard-rwo",
                    "volumeMode": "Filesystem",
                    "volumeName": "pvc-5e1c2b7a-93d4-4f0e-9a51-0c2f4b7d8e11",
                },
                "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"}},
            },
        )
        _config(store)
        ensure(
            store,
            INGRESSES,
            {
                "metadata": {"name": "shop", "namespace": NS, "annotations": {"kubernetes.io/ingress.class": "nginx"}},
                "spec": {
                    "ingressClassName": "nginx",
                    "rules": [
                        {
                            "host": "shop.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {"service": {"name": "web", "port": {"number": 80}}},
                                    },
                                    {
                                        "path": "/api",
                                        "pathType": "Prefix",
                                        "backend": {"service": {"name": "api", "port": {"number": 8080}}},
                                    },
                                ]
                            },
                        }
                    ],
                },
                "status": {"loadBalancer": {"ingress": [{"ip": "34.120.18.77"}]}},
            },
        )
    if variant == "node-failure":
        _fail_node(cluster, "node-2")
    if variant == "bad-statefulset":
        stateful.sessions(cluster, NS, list(NODES), bad_age=15 * MINUTE)
        _service(store, NS, "sessions", {"app": "sessions"}, 6379, target=6379, cluster_ip="None")
    if variant == "bad-daemonset":
        stateful.db_proxy(cluster, NS, list(NODES), bad_age=12 * MINUTE)


def _config(store: Store) -> None:
    ensure(
        store,
        CONFIGMAPS,
        {
            "metadata": {"name": "web-config", "namespace": NS},
            "data": {"API_URL": "http://api:8080", "FEATURE_NEW_CART": "false"},
        },
    )
    ensure(
        store,
        CONFIGMAPS,
        {
            "metadata": {"name": "checkout-config", "namespace": NS},
            "data": {"PAYMENTS_URL": "http://payments:8080", "TIMEOUT_MS": "2500"},
        },
    )
    import base64

    url = base64.b64encode(b"postgres://checkout:s3cr3t@orders-db:5432/orders").decode()
    ensure(
        store, SECRETS, {"metadata": {"name": "checkout-db", "namespace": NS}, "type": "Opaque", "data": {"url": url}}
    )


def _helm_history(store: Store) -> None:
    now = store.clock()
    history = [
        ("1.4.0", "2.3.0", 20 * DAY, "superseded", "Install complete"),
        ("1.4.1", "2.3.1", 10 * DAY, "superseded", "Upgrade complete"),
        ("1.4.2", "2.4.0", 5 * DAY, "deployed", "Upgrade complete"),
    ]
    first = timestamp_nano(now, 20 * DAY)
    for revision, (chart_version, app_version, age, status, description) in enumerate(history, start=1):
        manifest = (
            "---\n# Source: cart/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: cart\n"
            "---\n# Source: cart/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
            f"  name: cart\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: cart\n"
            f"        image: {REGISTRY}/cart:{app_version}\n"
        )
        body = release_secret(
            name="cart",
            namespace=NS,
            revision=revision,
            status=status,
            chart="cart",
            chart_version=chart_version,
            app_version=app_version,
            first_deployed=first,
            last_deployed=timestamp_nano(now, age),
            description=description,
            values={"replicaCount": 2, "image": {"tag": app_version}},
            manifest=manifest,
        )
        with backdated(store, age):
            ensure(store, SECRETS, body)


def timestamp_nano(now: object, age: float) -> str:
    from datetime import datetime, timedelta

    assert isinstance(now, datetime)
    return (now - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _fail_node(cluster: Cluster, name: str) -> None:
    from incident_response.sim.resources import NODES as NODE_RES

    def down(obj: dict[str, object]) -> None:
        meta = obj["metadata"]
        assert isinstance(meta, dict)
        meta.setdefault("annotations", {})[behaviors.NODE_CONDITION] = "NotReady"

    cluster.store.mutate(NODE_RES, None, name, down)
