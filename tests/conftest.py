"""Shared fixtures: the anyio backend, simulated clusters (per test or per module) and a kubectl bound to them."""

# ruff: noqa: E402  (the imports follow the bytecode setting on purpose)

from __future__ import annotations

import sys

# Bytecode caches are written even where PYTHONDONTWRITEBYTECODE is set (it is on the machines this suite is timed on):
# otherwise every xdist worker compiles and assertion-rewrites every test module again (~8 s of CPU each for the whole
# suite) and every server or CLI the tests start as a process compiles the package again. Set before the imports below.
sys.dont_write_bytecode = False

import gc
import os
import tempfile

# Temporary directories (tmp_path: state dirs with their SQLite journals, kubeconfigs, kubectl caches) on tmpfs where
# the machine has one: the journal commits with an fsync, ~20 ms on this machine's disk and ~1 ms on tmpfs, and every
# tool call journals. Only where it has room (containers often mount a 64 MiB /dev/shm; a run writes tens of MiB and
# pytest keeps the last three runs). Set before pytest first asks for its base directory.
TMPFS, TMPFS_FREE_BYTES = "/dev/shm", 1 << 30


def _tmpfs_has_room() -> bool:
    try:
        stats = os.statvfs(TMPFS)
    except OSError:
        return False
    return os.access(TMPFS, os.W_OK | os.X_OK) and stats.f_bavail * stats.f_frsize >= TMPFS_FREE_BYTES


if _tmpfs_has_room():
    tempfile.tempdir = TMPFS

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from mcp.client.session import ClientSession
from support.kubectl_runner import Kubectl
from support.schedule import longest_first
from support.sims import SharedSims, SimFactory, sharing, starting

from incident_response.sim.serve import RunningSim


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` runs two workers per core: an end-to-end test spends about half its time waiting on a simulated
    cluster, a server process or kubectl (the e2e tier used 188 s of CPU in 183 s on two workers), so a second worker
    per core fills that wait. Measured on two cores at load 2-3: the whole suite in 3:17 on four workers, 4:42 on
    two."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 2 * cores


def pytest_configure(config: pytest.Config) -> None:
    """xdist's `--dist loadfile` hands out files in collection order, not reordered by test count (see below)."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (tests/support/schedule.py): with files handed out in this order, the run ends on
    short files instead of one worker finishing a long one alone. Each file's tests keep their order."""
    items[:] = longest_first(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The test process's cyclic collector, once the modules are imported and the tests collected: what exists now
    (the SDK, pydantic's models, the package, the test modules: ~200,000 objects) lives until the process ends, so it
    is frozen out of the collector's passes, and young collections start every 10,000 allocations, not 700 (the
    tests build JSON by the thousand: nearly all freed by reference counting, none of it cycles worth chasing that
    often). Measured on test_mitigations + test_decision_agreement + test_confirmation: 2.6 -> 1.0 s of collector
    CPU (12 full passes of ~0.17 s -> 4 small ones). Only this process: servers the tests start keep the defaults."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


# Property tests (tests/unit/test_masking_properties.py): a normal run tries 50 examples per property (~0.5 s a
# property), the same ones every run (derandomize: examples seeded from the test's source), so a landing cannot turn
# main red on a newly drawn example (test_masking_is_idempotent did, on an unrelated landing). Searching is the deep
# profile's job: `pytest --hypothesis-profile deep` draws 2000 new ones each run and replays failures kept in
# .hypothesis/; a failure it finds becomes an explicit @example of the property.
# No deadline and no too_slow health check: both time examples, which a loaded machine turns into a flake (a plan
# warnings property failed that way under load); how fast is for bench/, not for a property test.
settings.register_profile(
    "normal", max_examples=50, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("normal")


# The MCP client checks every tool result against the tool's output schema with a validator it compiles once per
# session and tool (check_schema against the metaschema, then the validator: ~30 ms each). The suite opens a client
# session in nearly every test, so the same schemas were compiled thousands of times. Compiled validators are shared
# across sessions here, by the schema's exact JSON: every result is still validated, against the same schema.
_VALIDATORS: dict[str, Any] = {}
_compile_validator = ClientSession._output_schema_validator


def _shared_validator(self: ClientSession, name: str, output_schema: dict[str, Any]) -> Any:
    key = json.dumps(output_schema, sort_keys=True)
    if (validator := _VALIDATORS.get(key)) is None:
        validator = _VALIDATORS[key] = _compile_validator(self, name, output_schema)
    self._tool_output_validators[name] = validator
    return validator


ClientSession._output_schema_validator = _shared_validator  # type: ignore[method-assign]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim_factory(tmp_path: Path) -> Iterator[SimFactory]:
    """Start simulated clusters for a test that changes them; all stop after the test."""
    with starting(lambda label: tmp_path / label) as start:
        yield start


@pytest.fixture(scope="module")
def shared_sims(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedSims]:
    """One cluster per scenario for a module's tests that only read it (or write only objects they create)."""
    with sharing(lambda label: tmp_path_factory.mktemp(label)) as get:
        yield get


@pytest.fixture
def kubectl_for(tmp_path: Path) -> Callable[[RunningSim], Kubectl]:
    def bind(sim: RunningSim) -> Kubectl:
        assert sim.kubeconfig_path is not None
        return Kubectl(sim.kubeconfig_path, tmp_path / f"kubectl-cache-{sim.port}")

    return bind
