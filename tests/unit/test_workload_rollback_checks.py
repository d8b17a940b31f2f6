"""The StatefulSet and DaemonSet pre-rollback checks on plain dicts: partitions, OnDelete, node coverage, claims."""

from __future__ import annotations

from typing import Any

from incident_response.tools.mitigate.workload_memory import how
from incident_response.tools.playbook.workload_rollback_checks import (
    daemonset_state_item,
    statefulset_claims_item,
    update_strategy_item,
)

GOOD, BAD = "sessions-5f4d", "sessions-6c7b"


def revision(name: str, number: int) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"controller-revision-hash": name}}, "revision": number}


def sts(replicas: int = 3, partition: int = 0, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "sessions", "uid": "u1"},
        "spec": {
            "replicas": replicas,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
            **spec,
        },
        "status": {"currentRevision": GOOD, "updateRevision": BAD, "readyReplicas": replicas},
    }


def pod(name: str, at: str, ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {"controller-revision-hash": at},
            "ownerReferences": [{"uid": "u1", "controller": True}],
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]},
    }


def test_a_partition_that_keeps_bad_pods_below_it_is_a_warning_one_that_does_not_is_ok() -> None:
    pods = [pod("sessions-0", BAD), pod("sessions-1", GOOD), pod("sessions-2", BAD)]
    held = update_strategy_item("statefulset", sts(partition=1), revision(GOOD, 1), pods)
    assert held.status == "warning" and "partition is 1" in held.detail
    assert "sessions-0 run another revision than 1" in held.detail and held.questions
    pods[0] = pod("sessions-0", GOOD)
    fine = update_strategy_item("statefulset", sts(partition=1), revision(GOOD, 1), pods)
    assert fine.status == "ok" and "every pod below it already runs revision 1" in fine.detail


def test_a_pod_that_never_got_ready_is_named_as_holding_the_ordered_rollback() -> None:
    pods = [pod("sessions-0", GOOD), pod("sessions-1", GOOD), pod("sessions-2", BAD, ready=False)]
    item = update_strategy_item("statefulset", sts(), revision(GOOD, 1), pods)
    assert item.status == "ok"
    assert "from the highest ordinal (sessions-2 first)" in item.detail
    assert "sessions-2 never got Ready" in item.detail
    parallel = update_strategy_item("statefulset", sts(podManagementPolicy="Parallel"), revision(GOOD, 1), pods)
    assert "at once (podManagementPolicy Parallel)" in parallel.detail and "never got Ready" not in parallel.detail


def test_ondelete_lists_the_pods_to_delete_highest_ordinal_first() -> None:
    pods = [pod("sessions-0", GOOD), pod("sessions-1", BAD), pod("sessions-10", BAD)]
    item = update_strategy_item("statefulset", sts(updateStrategy={"type": "OnDelete"}), revision(GOOD, 1), pods)
    assert item.status == "warning" and "OnDelete" in item.detail
    assert item.evidence == ["pod/sessions-10 is not at revision 1", "pod/sessions-1 is not at revision 1"]


def daemonset(**status: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "db-proxy", "uid": "u2"},
        "spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2, "maxSurge": 0}}},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0} | status,
    }


def test_a_daemonset_says_how_many_nodes_go_without_it_and_when_coverage_is_incomplete() -> None:
    target = {"metadata": {"name": "db-proxy-1", "labels": {"controller-revision-hash": "h1"}}, "revision": 1}
    full = update_strategy_item("daemonset", daemonset(), target, [])
    assert full.status == "ok" and "(up to 2 at once)" in full.detail and "coverage" not in full.detail
    partial = update_strategy_item("daemonset", daemonset(currentNumberScheduled=2), target, [])
    assert "Node coverage is incomplete (2 of 3 nodes run it" in partial.detail
    surge = daemonset()
    surge["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": 1}
    assert "no node goes without it" in update_strategy_item("daemonset", surge, target, []).detail


def test_every_ordinals_claim_stays_with_the_newer_revisions_data() -> None:
    item = statefulset_claims_item(sts(), set(), 2, 1)
    assert item.status == "warning"
    assert "data-sessions-0, data-sessions-1, data-sessions-2 are not rolled back" in item.detail
    assert "returns to revision 1's code on the data revision 2 wrote" in item.detail
    no_claims = sts()
    del no_claims["spec"]["volumeClaimTemplates"]
    assert statefulset_claims_item(no_claims, set(), 2, 1).status == "ok"


def test_a_daemonsets_writable_host_path_is_state_a_rollback_leaves_behind() -> None:
    ds = daemonset()
    ds["spec"]["template"] = {
        "spec": {
            "volumes": [
                {"name": "positions", "hostPath": {"path": "/var/lib/shipper"}},
                {"name": "logs", "hostPath": {"path": "/var/log"}},
            ],
            "containers": [
                {
                    "name": "shipper",
                    "volumeMounts": [
                        {"name": "positions", "mountPath": "/state"},
                        {"name": "logs", "mountPath": "/var/log", "readOnly": True},
                    ],
                }
            ],
        }
    }
    item = daemonset_state_item(ds, set(), 2, 1)
    assert item.status == "warning" and "positions (/var/lib/shipper)" in item.detail
    assert "/var/log" not in item.detail  # read-only: nothing written there
    ds["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["readOnly"] = True
    assert daemonset_state_item(ds, set(), 2, 1).status == "ok"


def test_a_memory_plan_on_a_partitioned_statefulset_says_who_keeps_the_old_limit() -> None:
    assert "partition 2: pods below that ordinal keep the old limit" in how("statefulset", sts(partition=2), [])
    assert "one at a time from the highest ordinal" in how("statefulset", sts(), [])
    assert "never got Ready" in how("statefulset", sts(), ["sessions-0"])
