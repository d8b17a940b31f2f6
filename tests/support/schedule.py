"""The order test files run in: the longest first, so that under `-n auto --dist loadfile` no long file starts last
and leaves one worker running it alone while the others are done.

xdist hands out whole files in collection order (tests/conftest.py turns off its own reordering, which puts the
files with the most tests first: the cheap parametrized unit files, leaving single slow end-to-end tests for the
end). A file's length is its measured wall time where it is known to be long (FILE_SECONDS), else its test count
times its tier's typical test, up to the shortest listed. A stale entry costs only balance, never a result;
tests/unit/test_schedule.py fails on an entry whose file is gone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

# Wall seconds of one test, by tier: the medians of a whole-suite run (2026-12-05 10:14-10:34 UTC, `-n 2 --dist
# loadfile` under `nice -n 10` at load average ~8, so slower than a quiet machine throughout: only the order matters).
PER_TEST_SECONDS = {"tests/e2e/": 1.43, "tests/sim/": 1.1, "tests/unit/": 0.003}
DEFAULT_PER_TEST_SECONDS = 1.0
# Every file of that run that took LISTED_FROM seconds or more is in FILE_SECONDS; the others took less, so a file
# not listed is estimated from its test count, up to that.
LISTED_FROM = 10.0

# Wall seconds per file in that run (the sum of its tests' wall: PYTEST_CPU_LOG, bench/pytest_cpu.py --schedule).
# test_result_budget sweeps every scenario; test_no_simulator_keys reads its sweep (tests/support/sweeps.py), so it is
# not listed.
FILE_SECONDS: dict[str, float] = {
    "tests/e2e/test_result_budget.py": 100,
    "tests/e2e/test_server_http.py": 74,
    "tests/e2e/test_reads_past_old_caps.py": 74,
    "tests/sim/test_conformance_mitigations.py": 66,
    "tests/sim/test_deploy.py": 48,
    "tests/unit/test_masking_gates.py": 48,
    "tests/e2e/test_incidents_per_namespace.py": 47,
    "tests/sim/test_scale.py": 44,
    "tests/sim/test_rbac.py": 43,
    "tests/e2e/test_evaluate_decision.py": 43,
    "tests/e2e/test_team_mode.py": 42,
    "tests/e2e/test_mitigations_equivalence.py": 42,
    "tests/e2e/test_bounded_output.py": 40,
    "tests/e2e/test_approve_cli_process.py": 39,
    "tests/e2e/test_team_auth.py": 39,
    "tests/e2e/test_http_principals.py": 39,
    "tests/e2e/test_rollback_workload.py": 38,
    "tests/sim/test_server_cannot_become_an_approver.py": 35,
    "tests/e2e/test_confirmation.py": 35,
    "tests/e2e/test_sizing.py": 34,
    "tests/e2e/test_team_store.py": 34,
    "tests/e2e/test_decision_agreement.py": 34,
    "tests/e2e/test_forward_only.py": 33,
    "tests/e2e/test_mitigations.py": 30,
    "tests/e2e/test_workload_capacity.py": 29,
    "tests/e2e/test_least_privilege.py": 29,
    "tests/sim/test_statefulsets_daemonsets.py": 28,
    "tests/sim/test_store_contract.py": 26,
    "tests/sim/test_multi_attach.py": 25,
    "tests/sim/test_conformance.py": 25,
    "tests/sim/test_sim_command.py": 25,
    "tests/sim/test_server_side_apply.py": 22,
    "tests/e2e/test_oom_readings.py": 22,
    "tests/e2e/test_server.py": 21,
    "tests/sim/test_protobuf.py": 20,
    "tests/e2e/test_restore_honesty.py": 20,
    "tests/e2e/test_verify_workload_recovery.py": 19,
    "tests/sim/test_kube_store.py": 19,
    "tests/sim/test_crds.py": 18,
    "tests/sim/test_python_client.py": 18,
    "tests/e2e/test_recent_changes.py": 17,
    "tests/sim/test_daemonsets.py": 16,
    "tests/e2e/test_http_rate_limit.py": 16,
    "tests/e2e/test_unreachable_node.py": 15,
    "tests/sim/test_sim_time.py": 15,
    "tests/e2e/test_stale_plans.py": 14,
    "tests/e2e/test_secrets_corpus.py": 14,
    "tests/e2e/test_helm_drift.py": 14,
    "tests/e2e/test_config_rollouts.py": 14,
    "tests/e2e/test_plan_binding_views.py": 13,
    "tests/sim/test_hpa_load.py": 13,
    "tests/e2e/test_verify_recovery.py": 13,
    "tests/e2e/test_helm_drift_fix.py": 12,
    "tests/e2e/test_rollback_equivalence.py": 11,
    "tests/e2e/test_handoff.py": 11,
    "tests/e2e/test_red_herring.py": 11,
    "tests/e2e/test_incident.py": 11,
    "tests/e2e/test_approval_channels.py": 11,
    "tests/e2e/test_recovery_honesty.py": 10,
    "tests/e2e/test_demo.py": 10,
    "tests/e2e/test_rollback_shared_config.py": 10,
    "tests/e2e/test_oom_shapes.py": 10,
    "tests/unit/test_masking_properties.py": 10,
    "tests/e2e/test_helm_rollback.py": 10,
    "tests/e2e/test_team_self_approval.py": 10,
}


class Item(Protocol):
    @property
    def nodeid(self) -> str: ...


T = TypeVar("T", bound=Item)


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def estimate(path: str, tests: int) -> float:
    """Seconds a file is expected to take."""
    if path in FILE_SECONDS:
        return FILE_SECONDS[path]
    per_test = next((s for tier, s in PER_TEST_SECONDS.items() if path.startswith(tier)), DEFAULT_PER_TEST_SECONDS)
    return min(tests * per_test, LISTED_FROM)


def longest_first(items: Sequence[T]) -> list[T]:
    """The items grouped by file, the longest file first (ties: collection order); a file's own order is kept."""
    files: dict[str, list[T]] = {}
    for item in items:
        files.setdefault(file_of(item.nodeid), []).append(item)
    ranked = sorted(files.items(), key=lambda kv: -estimate(kv[0], len(kv[1])))  # stable: ties keep their order
    return [item for _, grouped in ranked for item in grouped]
