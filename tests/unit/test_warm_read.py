"""The warm-up's dry run of a read (server/warm_read.py): one harmless request, a made-up pod list through the real
read path, and a failure of either only logged."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest

from incident_response.server import warm_read
from incident_response.tools.core.errors import IncidentError
from incident_response.tools.engine.deps import Deps


class CountingKube:
    """Records every method the warm-up calls on the cluster."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if self.fail is not None:
                raise self.fail
            return {"major": "1", "minor": "31", "gitVersion": "v1.31.0"}

        return call


class StubDeps:
    def __init__(self, kube: CountingKube | None) -> None:
        self._kube = kube

    @property
    def kube(self) -> CountingKube:
        if self._kube is None:
            raise IncidentError("no cluster configured: pass --kubeconfig")
        return self._kube


def test_the_only_request_is_get_version() -> None:
    kube = CountingKube()
    warm_read.warm_read(cast(Deps, StubDeps(kube)))
    assert kube.calls == ["version"]


@pytest.mark.parametrize(
    "kube",
    [
        None,
        CountingKube(IncidentError("connection refused")),
        CountingKube(OSError(111)),
        CountingKube(ValueError("bad body")),
    ],
)
def test_a_failed_read_is_only_logged(kube: CountingKube | None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="incident_response.server"):
        warm_read.warm_read(cast(Deps, StubDeps(kube)))
    assert any("/version" in r.getMessage() or "no cluster" in r.getMessage() for r in caplog.records)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)  # the pod list dry run itself worked


def test_the_made_up_list_goes_through_list_pods_path() -> None:
    """Rows, STATUS from the Table, the owner, the last termination, rendering and masking all run (a change that
    breaks the dry run fails here, not only in a log line)."""
    result = warm_read.made_up_pod_list()
    structured = result.structured_content
    assert structured is not None
    assert [p["status"] for p in structured["pods"]] == ["CrashLoopBackOff", "Running", "Running"]
    assert structured["pods"][0]["last_termination"]["reason"] == "OOMKilled"
    assert structured["pods"][0]["owner"] == "deployment/warm-up"
    text = result.content[0].text  # type: ignore[union-attr]
    assert "3 pods in warm-up; 1 with problems (1 CrashLoopBackOff)" in text
    assert "every row: age 5m" in text  # the three-row table path (what every row shares said once)
