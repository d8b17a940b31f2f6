"""Every pod of a large namespace is read, and the answers stay small: counts per state, the worst pods named, and
how many more there are.

The namespace holds more pods than the 2,000 a call once read, and the crash-looping deployment's pods sort last by
name, past that old window: list_pods(problems_only) and assess_namespace must still find them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.behaviors import BEHAVIOR, CRASHLOOP
from incident_response.sim.cluster import Cluster
from incident_response.sim.resources import NODES
from incident_response.sim.scenarios.builders import DAY, App, Revision, Seeder
from incident_response.sim.serve import RunningSim
from incident_response.tools.assess.namespace import MAX_PROBLEM_PODS

pytestmark = pytest.mark.anyio

OLD_WINDOW = 2000  # pods one call read before every page was read
EXTRA_PODS = OLD_WINDOW + 500
CRASHING = "zz-worker"  # sorts after every svc-NNNN pod of the scale namespace
CRASHING_REPLICAS = 25  # more than assess_namespace names in problem_pods


def crashing_last(cluster: Cluster) -> None:
    """A deployment in namespace scale whose pods have crash-looped for a day (no recent rollout)."""
    nodes = sorted(
        str(n["metadata"]["name"]) for n in cluster.store.items(NODES) if "scale-node" in n["metadata"]["name"]
    )
    app = App(
        name=CRASHING,
        namespace="scale",
        replicas=CRASHING_REPLICAS,
        labels={"app": CRASHING},
        selector={"app": CRASHING},
        cpu=("10m", "100m"),
        memory=("16Mi", "64Mi"),
    )
    image = f"registry.example.com/scale/{CRASHING}:3.1"
    Seeder(cluster, nodes).app(app, [Revision(image, "initial", DAY, annotations={BEHAVIOR: CRASHLOOP})])


@pytest.fixture
def big(sim_factory: Callable[..., RunningSim]) -> RunningSim:
    return sim_factory("healthy", extra_pods=EXTRA_PODS, seed=crashing_last)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], int]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content, len(json.dumps(result.structured_content))


async def test_pods_past_the_old_window_are_read_and_the_answers_stay_small(big: RunningSim) -> None:
    assert big.kubeconfig_path is not None
    total = EXTRA_PODS + CRASHING_REPLICAS
    settings = Settings(kubeconfig=big.kubeconfig_path, cluster=resolve_cluster(big.kubeconfig_path, None, {}))
    async with Client(build_server(settings)) as client:
        problems, problems_size = await call(client, "list_pods", {"namespace": "scale", "problems_only": True})
        pods, size = await call(client, "list_pods", {"namespace": "scale"})
        few, _ = await call(client, "list_pods", {"namespace": "scale", "limit": 2})
        assessment, assess_size = await call(client, "assess_namespace", {"namespace": "scale"})
        top, top_size = await call(client, "top_pods", {"namespace": "scale"})

    crashing = [p["name"] for p in problems["pods"]]
    assert len(crashing) == CRASHING_REPLICAS and all(name.startswith(f"{CRASHING}-") for name in crashing)
    assert problems["problem_count"] == CRASHING_REPLICAS
    assert problems["truncation"] == {"shown": CRASHING_REPLICAS, "total": CRASHING_REPLICAS, "truncated": False}
    assert problems["summary"].startswith(f"{total} pods in scale; {CRASHING_REPLICAS} with problems")
    assert "all Running and ready" not in problems["summary"]
    assert sum(problems["status_counts"].values()) == total  # every pod is counted, those not listed too

    # Without problems_only: the problems first, then healthy pods up to the page; the summary counts them all.
    assert len(pods["pods"]) == 100
    assert {p["name"] for p in pods["pods"][:CRASHING_REPLICAS]} == set(crashing)
    assert pods["truncation"] == {"shown": 100, "total": total, "truncated": True}
    assert pods["summary"].startswith(f"{total} pods in scale; {CRASHING_REPLICAS} with problems")
    assert size < 64 * 1024 and problems_size < 64 * 1024

    # Fewer shown than have problems: the worst are named, the rest counted.
    assert len(few["pods"]) == 2 and few["problem_count"] == CRASHING_REPLICAS
    assert f"the 2 worst are listed, {CRASHING_REPLICAS - 2} more are counted only" in few["summary"]

    assert assessment["pods_total"] == total
    assert sum(assessment["status_counts"].values()) == total
    assert len(assessment["problem_pods"]) == MAX_PROBLEM_PODS
    assert {p["name"] for p in assessment["problem_pods"]} < set(crashing)
    assert (
        f"(the {MAX_PROBLEM_PODS} worst in problem_pods, {CRASHING_REPLICAS - MAX_PROBLEM_PODS} more"
        in (assessment["summary"])
    )
    assert CRASHING in assessment["problems"][0]["detail"]
    assert CRASHING in assessment["summary"]
    assert "truncated" not in assessment["summary"]
    assert assess_size < 16 * 1024

    assert top["truncation"] == {"shown": 20, "total": total, "truncated": True}  # every pod's usage was read
    assert top_size < 64 * 1024
