"""`extra_pods=N`: N healthy pods in namespace `scale`, seeded already running (10,000 load in seconds).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from incident_response.sim.resources import NAMESPACES
from incident_response.sim.scenarios.builders import (
    DAY,
    App,
    Revision,
    Seeder,
    backdated,
    ensure,
    namespace,
    node,
    seed_node,
)

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

NS = "scale"
PODS_PER_DEPLOYMENT = 50
PODS_PER_NODE = 100  # under the 110 pods a node admits


def add_scale_pods(cluster: Cluster, count: int) -> None:
    store = cluster.store
    with backdated(store, 20 * DAY):
        ensure(store, NAMESPACES, namespace(NS))
    nodes = []
    for i in range(math.ceil(count / PODS_PER_NODE)):
        name = f"scale-node-{i + 1:03d}"
        seed_node(store, node(name, 10 + i, cpu="16", memory_gi=64))
        nodes.append(name)
    seeder = Seeder(cluster, nodes)
    left = count
    index = 0
    while left > 0:
        replicas = min(PODS_PER_DEPLOYMENT, left)
        name = f"svc-{index:04d}"
        app = App(
            name=name,
            namespace=NS,
            replicas=replicas,
            labels={"app": name},
            selector={"app": name},
            cpu=("10m", "100m"),
            memory=("16Mi", "64Mi"),
        )
        seeder.app(app, [Revision(f"registry.example.com/scale/{name}:1.0.{index % 7}", "initial", 10 * DAY)])
        left -= replicas
        index += 1
