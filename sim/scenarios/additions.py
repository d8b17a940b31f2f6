"""Apps added to a running scenario: one more deployment with its rollout history, seeded between two ticks.

An incident sometimes needs something placed relative to what the cluster did on its own: a deploy of another
service one second before the first warning of the failing one can only be seeded once that warning exists. Ages
are relative to the store's clock, as every scenario's are (Revision.age).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim.resources import NODES, SERVICES
from incident_response.sim.scenarios.builders import DAY, App, Revision, Seeder, backdated, ensure

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster


def add_app(cluster: Cluster, app: App, revisions: list[Revision], *, running: int | None = None) -> None:
    """Seed `app` (Deployment, one ReplicaSet per revision, running pods) and a Service selecting its pods, holding
    the controllers between two ticks. As Seeder.app: when `running` is not the last revision, the controllers roll
    the last one out."""
    with cluster._tick_lock:
        nodes = sorted(str(n["metadata"]["name"]) for n in cluster.store.items(NODES))
        Seeder(cluster, nodes).app(app, revisions, running=running)
        selector = {"app": app.labels.get("app", app.name)}
        with backdated(cluster.store, revisions[0].age + DAY):
            ensure(
                cluster.store,
                SERVICES,
                {
                    "metadata": {"name": app.name, "namespace": app.namespace, "labels": dict(selector)},
                    "spec": {
                        "selector": selector,
                        "ports": [{"name": "http", "port": app.port, "targetPort": "http", "protocol": "TCP"}],
                    },
                },
            )
