"""LabelIndex finds what a scan of every object with the same selector finds, in the same order."""

from __future__ import annotations

import pytest
from support.builders import pod

from incident_response.tools.k8s import labels
from incident_response.tools.k8s.label_index import LabelIndex

PODS = [
    pod(
        f"p{i}",
        labels={"app": f"svc-{i % 7}", "tier": "web" if i % 2 else "db", **({"canary": "1"} if i % 5 == 0 else {})},
    )
    for i in range(100)
]


@pytest.mark.parametrize(
    "selector",
    [
        labels.from_map({"app": "svc-3"}),
        labels.from_map({"app": "svc-3", "tier": "web"}),
        labels.from_map({"app": "svc-3", "canary": "1"}),
        labels.from_map({"app": "nobody"}),
        labels.parse("app in (svc-1,svc-2),tier!=db"),
        labels.parse("canary"),
        labels.from_map({}),
    ],
)
def test_the_index_matches_what_a_scan_matches(selector: labels.Selector) -> None:
    scanned = [p for p in PODS if labels.matches(selector, labels.labels_of(p))]
    assert LabelIndex(PODS).matching(selector) == scanned
