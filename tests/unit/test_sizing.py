"""The one sizing function (tools/playbook/sizing.py) and the replicas-that-fit arithmetic it is capped by."""

from __future__ import annotations

import json

import pytest
from support.builders import deployment, node, pod, with_resources

from incident_response.tools.k8s import capacity
from incident_response.tools.k8s.qos import qos_class
from incident_response.tools.playbook.demand_facts import previous_count
from incident_response.tools.playbook.sizing import Demand, HpaCount, Previous, shortfall, size

PINNED = {"measured": 2, "pinned": 2, "unready": 2, "load": 1.0, "cpu_limit": 0.5}


@pytest.mark.parametrize(
    ("demand", "replicas", "source"),
    [
        # The HPA's count beyond its max comes first.
        (Demand("web", 6, hpa=HpaCount("web", 6, desired=9, formula=18)), 9, "hpa"),
        # Its formula on pinned usage is a floor: never below the default step (+100% / +4).
        (Demand("web", 6, **PINNED, hpa=HpaCount("web", 6, formula=8)), 12, "hpa"),
        (Demand("web", 4, **PINNED, hpa=HpaCount("web", 4, formula=25)), 25, "hpa"),
        # Usage below the limit measures the load: each pod at 80% of its limit (2.4 cores / 0.4 = 6).
        (Demand("web", 4, measured=4, load=2.4, cpu_limit=0.5), 6, "load"),
        # Pinned usage is no measure: the previous count is used instead.
        (Demand("web", 2, **PINNED, previous=Previous(6, "the manifest")), 6, "previous"),
        # Nothing known: the HPA's default scale-up policy, the larger of +100% and +4 pods.
        (Demand("web", 2, **PINNED), 6, "step"),
        (Demand("web", 10, **PINNED), 20, "step"),
        (Demand("web", 0), 4, "step"),
        # Always at least one more.
        (Demand("web", 4, measured=4, load=0.5, cpu_limit=0.5), 5, "load"),
    ],
)
def test_size_takes_the_first_known_source(demand: Demand, replicas: int, source: str) -> None:
    sizing = size(demand)
    assert (sizing.replicas, sizing.source) == (replicas, source)
    assert (sizing.hidden is not None) == demand.saturated
    if demand.saturated:
        assert "usage at the limit hides the real demand" in sizing.text()


def test_size_is_capped_by_node_room_then_by_the_planners_bound() -> None:
    assert size(Demand("web", 2, **PINNED, fits=5)).replicas == 5
    assert "capped at the 5 that fit" in size(Demand("web", 2, **PINNED, fits=5)).text()
    bounded = size(Demand("web", 4, hpa=HpaCount("web", 4, desired=90), fits=200, bound=40))
    assert bounded.replicas == 40 and "allow_large" in bounded.text()
    # No room at all: not capped below what runs (the tree says so; the count is never a scale-down).
    assert size(Demand("web", 2, **PINNED, fits=2)).replicas == 6


def test_a_planner_warns_below_the_sizing_and_only_on_a_measured_need_when_shrinking() -> None:
    pinned = size(Demand("web", 2, **PINNED, previous=Previous(6, "the manifest")))
    warning = shortfall(pinned, 3, 2, "replicas")
    assert warning is not None and "below what is known to be needed (6)" in warning and "the manifest" in warning
    enough = shortfall(pinned, 6, 2, "replicas")
    assert enough is not None and "hides the real demand" in enough and "the manifest" in enough
    assert shortfall(pinned, 1, 2, "replicas") is not None  # fewer pinned pods: worse
    blind = size(Demand("web", 3))
    assert shortfall(blind, 1, 3, "replicas") is None
    assert shortfall(blind, 4, 3, "replicas") is None  # nothing shows demand: no opinion
    measured = size(Demand("web", 6, measured=6, load=2.4, cpu_limit=0.5))  # needs 6
    assert shortfall(measured, 2, 6, "replicas") is not None  # restoring 2 would saturate again
    assert shortfall(measured, 6, 8, "replicas") is None


def test_previous_count_from_the_manifest_or_the_revision_before() -> None:
    web = deployment("web", replicas=2, revision=3)
    web["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
        {"kind": "Deployment", "spec": {"replicas": 5}}
    )
    uid = web["metadata"]["uid"]

    def rs(revision: int, desired: int) -> dict[str, object]:
        return {
            "metadata": {
                "name": f"web-{revision}",
                "ownerReferences": [{"uid": uid, "controller": True}],
                "annotations": {
                    "deployment.kubernetes.io/revision": str(revision),
                    "deployment.kubernetes.io/desired-replicas": str(desired),
                },
            }
        }

    found = previous_count(web, [rs(1, 9), rs(2, 7), rs(3, 2)])
    assert found is not None and found.replicas == 7 and "revision 2 ran with 7" in found.where
    only_manifest = previous_count(web, [rs(3, 2)])
    assert only_manifest is not None and only_manifest.replicas == 5 and "last-applied" in only_manifest.where
    web["metadata"]["annotations"].clear()
    assert previous_count(web, [rs(3, 2)]) is None


def test_replicas_that_fit_is_allocatable_minus_requests_per_node() -> None:
    # Two 4-core nodes; pods of web request 500m. node-1 holds 3 web pods and a 1-core other pod: 4000-1500-1000 =
    # 1500m free -> 3 more; node-2 is empty: 8. A cordoned node holds none.
    nodes = [node("node-1"), node("node-2"), node("node-3", unschedulable=True)]

    def requesting(name: str, owner: str, cpu: str, where: str) -> dict[str, object]:
        return with_resources(pod(name, deployment=owner, node=where), requests={"cpu": cpu, "memory": "64Mi"})

    web = [requesting(f"web-{i}", "web", "500m", "node-1") for i in range(3)]
    other = requesting("batch-0", "batch", "1", "node-1")
    spec = web[0]["spec"]
    assert isinstance(spec, dict)
    assert capacity.replicas_that_fit(nodes, [*web, other], spec, placed=3) == 3 + 3 + 8
    # The same figure after two more replicas are placed: it is arithmetic, not the answer to a question.
    more = [requesting(f"web-{i}", "web", "500m", "node-2") for i in (3, 4)]
    assert capacity.replicas_that_fit(nodes, [*web, *more, other], spec, placed=5) == 14


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
        ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),  # requests default to the limits
        ({"requests": {"cpu": "1", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}, "Burstable"),
        ({}, "BestEffort"),
    ],
)
def test_qos_class(resources: dict[str, object], expected: str) -> None:
    assert qos_class({"containers": [{"name": "app", "resources": resources}]}) == expected


def test_previous_count_from_a_scale_down_of_the_current_replicaset() -> None:
    web = deployment("web", replicas=2, revision=1)
    current = {
        "metadata": {
            "name": "web-abc",
            "ownerReferences": [{"uid": web["metadata"]["uid"], "controller": True}],
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        }
    }

    def event(message: str, when: str, reason: str = "ScalingReplicaSet") -> dict[str, object]:
        return {"reason": reason, "message": message, "lastTimestamp": when}

    events = [
        event("Scaled up replica set web-abc from 0 to 8", "2026-01-01T10:00:00Z"),
        event("Scaled down replica set web-abc from 8 to 6", "2026-01-01T10:05:00Z"),
        event("Scaled down replica set web-abc to 2 from 6", "2026-01-01T10:10:00Z"),  # the latest cut
        event("Scaled down replica set web-old from 9 to 0", "2026-01-01T10:20:00Z"),  # a rollout, not a cut
        event("Scaled down replica set web-abc from 50 to 2", "2026-01-01T10:30:00Z", reason="Forged"),
    ]
    found = previous_count(web, [current], events)
    assert found is not None and found.replicas == 6
    assert found.where == 'it was scaled down from 6: event "Scaled down replica set web-abc to 2 from 6"'
    assert previous_count(web, [current], events[:1]) is None


def scaling(message: str, when: str) -> dict[str, object]:
    return {"reason": "ScalingReplicaSet", "message": message, "lastTimestamp": when}


REAL_CUT = scaling("Scaled down replica set web-abc to 2 from 3", "2026-01-01T10:00:00Z")


@pytest.mark.parametrize(
    "forged_at",
    ["2026-01-01T10:00:05Z", "2026-01-01T09:59:55Z", "2026-01-01T10:00:00Z"],
    ids=["after", "before", "same-second"],
)
def test_a_forged_scale_event_that_breaks_the_chain_is_not_taken(forged_at: str) -> None:
    # Any workload with `events create` can add "from 40 to 2" beside the controller's "to 2 from 3": the two
    # disagree about what the ReplicaSet had, and whichever is dated first, the smaller claim stands, said so.
    web = deployment("web", replicas=2, revision=1)
    current = {
        "metadata": {
            "name": "web-abc",
            "generation": 2,
            "ownerReferences": [{"uid": web["metadata"]["uid"], "controller": True}],
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        }
    }
    forged = scaling("Scaled down replica set web-abc from 40 to 2", forged_at)
    found = previous_count(web, [current], [REAL_CUT, forged])
    assert found is not None and found.replicas == 3, found
    assert 'it was scaled down from 3: event "Scaled down replica set web-abc to 2 from 3"' in found.where
    assert "events disagree" in found.where and "from 40 to 2" in found.where, found.where
    # Alone, the real cut is taken without a doubt.
    alone = previous_count(web, [current], [REAL_CUT])
    assert alone is not None and alone.replicas == 3 and "disagree" not in alone.where


def test_a_forged_chain_longer_than_the_replicasets_generation_is_not_taken() -> None:
    # A consistent forged chain (2 -> 40 -> 2) after the real cut: three scales, while the ReplicaSet's generation
    # (bumped by every change of spec.replicas) shows one. None of the events is taken.
    web = deployment("web", replicas=2, revision=1)
    current = {
        "metadata": {
            "name": "web-abc",
            "generation": 2,
            "ownerReferences": [{"uid": web["metadata"]["uid"], "controller": True}],
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        }
    }
    events = [
        REAL_CUT,
        scaling("Scaled up replica set web-abc from 2 to 40", "2026-01-01T10:01:00Z"),
        scaling("Scaled down replica set web-abc from 40 to 2", "2026-01-01T10:02:00Z"),
    ]
    assert previous_count(web, [current], events) is None
    current["metadata"]["generation"] = 4  # had it really scaled three times, the chain is taken
    found = previous_count(web, [current], events)
    assert found is not None and found.replicas == 40 and "disagree" not in found.where


def test_the_recorded_count_is_preferred_to_an_event_that_disagrees() -> None:
    web = deployment("web", replicas=2, revision=1)
    web["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
        {"kind": "Deployment", "spec": {"replicas": 3}}
    )
    current = {
        "metadata": {
            "name": "web-abc",
            "ownerReferences": [{"uid": web["metadata"]["uid"], "controller": True}],
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        }
    }
    forged = scaling("Scaled down replica set web-abc from 40 to 2", "2026-01-01T10:00:00Z")
    found = previous_count(web, [current], [forged])
    assert found is not None and found.replicas == 3, found
    assert "last-applied" in found.where and '"Scaled down replica set web-abc from 40 to 2" claims 40' in found.where
