"""Which log lines blame a Service as the upstream of a failed call (tools/playbook/upstream_blame.py): its DNS
names with or without a port, never the word alone, never a line that reports no failure."""

from __future__ import annotations

import pytest

from incident_response.tools.playbook.upstream_blame import blaming_line, names_upstream


@pytest.mark.parametrize(
    "line",
    [
        "ERROR upstream api.shop.svc:8080 timed out after 30s (GET /v1/orders)",
        "error: dial tcp api.shop:8080: connection refused",
        "WARN call to api.shop.svc.cluster.local failed: deadline exceeded",
        "upstream http://api/v1/orders returned 503",
        "timeout calling api:8080",
    ],
)
def test_a_failed_call_to_the_service_by_a_dns_name_blames_it(line: str) -> None:
    assert names_upstream(line, "api", "shop")


@pytest.mark.parametrize(
    "line",
    [
        "ERROR api key rejected for GET /api/orders",  # the word, and a path
        "info upstream api.shop.svc:8080 answered in 12ms",  # no failure
        "ERROR upstream payments-api.shop.svc:8080 timed out",  # another Service
        "ERROR upstream api.other.svc:8080 timed out",  # api of another namespace
        "ERROR upstream apix.shop.svc:8080 timed out",
        "ERROR upstream cart.shop.svc:8080 timed out after 30s",
    ],
)
def test_near_misses_blame_nothing(line: str) -> None:
    assert not names_upstream(line, "api", "shop")


def test_the_newest_blaming_line_is_quoted_short() -> None:
    long = "ERROR upstream api.shop.svc:8080 timed out " + "x" * 300
    assert blaming_line(["ERROR upstream api.shop.svc:8080 refused", long, "ok"], ["api"], "shop") == long[:157] + "..."
    assert blaming_line(["GET /api/orders 200"], ["api"], "shop") is None
