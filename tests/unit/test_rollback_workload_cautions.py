"""rollback_workload's cautions for an OnDelete StatefulSet (review-assist6, play/ondelete.py): the plan said "one pod
at a time from the highest ordinal (kv-2 first): 3 pod start-ups" beside "updateStrategy is OnDelete: no pod changes
until each is deleted"; with OnDelete only the pods deleted restart (the plan deletes the stuck one)."""

from __future__ import annotations

from typing import Any

from incident_response.tools.mitigate.rollback_workload import cautions


def kv(strategy: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "kv"}, "spec": {"replicas": 3, "updateStrategy": strategy}}


def test_an_on_delete_statefulset_promises_no_rolling_restart() -> None:
    said = [w.said() for w in cautions("statefulset", kv({"type": "OnDelete"}), {}, ["kv-2"], [])]
    assert not any("pod start-ups" in line for line in said), said
    assert any("kv-2 never got Ready" in line for line in said), said


def test_a_rolling_statefulset_still_counts_its_start_ups() -> None:
    said = [w.said() for w in cautions("statefulset", kv({"type": "RollingUpdate"}), {}, [], [])]
    assert any("(kv-2 first): 3 pod start-ups" in line for line in said), said
