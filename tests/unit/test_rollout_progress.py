"""rollout_status's progress notifications: they only move forward, and progress is what the message counts."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.tools.assess.rollouts import ProgressReporter, rollout_steps
from incident_response.tools.k8s.workloads import rollout_progress

pytestmark = pytest.mark.anyio


def deploy(desired: int, replicas: int, updated: int, available: int, generation: int = 2) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": desired},
        "status": {
            "observedGeneration": 2,
            "replicas": replicas,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "readyReplicas": available,
        },
    }


def test_a_stuck_rollout_counts_the_updated_pod_not_the_old_available_ones() -> None:
    # bad-deploy: one new pod crash-loops while the three old ones serve. availableReplicas (3) counts the old ones.
    steps = rollout_steps(rollout_progress(deploy(desired=3, replicas=4, updated=1, available=3)))
    assert steps == (1, 9, "1/3 updated, 0/3 updated and available, 0/3 old replicas gone")


def test_a_finished_rollout_is_all_steps_done() -> None:
    state = rollout_progress(deploy(desired=3, replicas=3, updated=3, available=3))
    assert state.done
    assert rollout_steps(state) == (9, 9, "3/3 updated, 3/3 updated and available, 3/3 old replicas gone")


def test_counts_of_a_spec_not_yet_observed_are_not_progress() -> None:
    assert rollout_steps(rollout_progress(deploy(desired=3, replicas=3, updated=3, available=3, generation=3))) is None


async def test_a_step_back_sends_nothing_and_progress_only_increases() -> None:
    sent: list[tuple[float, float | None, str | None]] = []

    async def send(progress: float, total: float | None, message: str | None) -> None:
        sent.append((progress, total, message))

    reporter = ProgressReporter(send)
    for replicas, updated, available in [(4, 1, 3), (4, 2, 3), (4, 2, 2), (4, 1, 3), (4, 3, 3), (3, 3, 3)]:
        await reporter.report(rollout_progress(deploy(3, replicas, updated, available)))
    assert [p for p, _, _ in sent] == [1, 4, 7, 9]  # (4, 2, 2) and (4, 1, 3) stepped back: not sent
    assert {total for _, total, _ in sent} == {9}
