"""Load in verify_recovery's judgement: a not-Ready pod is failing from load, not starting, only on evidence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.builders import NOW, container_status, event, pod

from incident_response.tools.k8s.hpa_load import HpaLoad, Utilization
from incident_response.tools.k8s.podstatus import pod_row
from incident_response.tools.k8s.usage import PodUsage
from incident_response.tools.playbook.recovery_checks import PodFacts, pod_facts
from incident_response.tools.playbook.recovery_load import readiness_failures, under_load

WINDOW = timedelta(minutes=5)
LIMITS = {"limits": {"cpu": "500m"}, "requests": {"cpu": "250m"}}


def young(name: str) -> dict[str, Any]:
    return pod(name, containers=[container_status(ready=False)], age=timedelta(minutes=1), resources=LIMITS)


def facts(p: dict[str, Any]) -> PodFacts:
    return pod_facts(p, pod_row(p, NOW), NOW, WINDOW)


def usage(name: str, percent: int | None) -> PodUsage:
    cores = None if percent is None else 0.5 * percent / 100
    return PodUsage(
        name=name,
        cpu="-" if cores is None else f"{round(cores * 1000)}m",
        memory="64Mi",
        cpu_cores=cores,
        memory_bytes=64.0 * 2**20,
        cpu_request="250m",
        cpu_limit="500m",
        memory_request="-",
        memory_limit="-",
        cpu_percent_of_limit=percent,
        cpu_percent_of_request=None if percent is None else percent * 2,
        memory_percent_of_limit=None,
    )


PINNED = HpaLoad("web", "Deployment", "web", 2, 4, 4, 4, (Utilization("cpu", 140, 70),), limited=True)


def test_a_young_pod_at_its_limit_failing_its_probe_is_failing_from_load() -> None:
    [marked] = under_load([facts(young("web-1"))], [usage("web-1", 100)], {"web-1"})
    assert marked.failing == "not Ready under load: cpu 500m of limit 500m (100%), readiness probe failing"
    assert not marked.starting


def test_without_a_failed_probe_or_below_the_limit_it_is_still_starting() -> None:
    no_probe, low = under_load(
        [facts(young("web-1")), facts(young("web-2"))], [usage("web-1", 100), usage("web-2", 40)], {"web-2"}
    )
    assert no_probe.starting and low.starting  # a warming pod may spin at its limit, a failing probe alone is a start


def test_without_metrics_an_hpa_pinned_at_its_max_is_the_evidence_of_load() -> None:
    [marked] = under_load([facts(young("web-1"))], None, {"web-1"}, [PINNED])
    assert marked.failing == "not Ready under load: readiness probe failing while HPA web is pinned at its max"
    roomy = HpaLoad("web", "Deployment", "web", 2, 8, 4, 8, (Utilization("cpu", 140, 70),), limited=False)
    [still] = under_load([facts(young("web-1"))], None, {"web-1"}, [roomy])  # it may still add the pods it needs
    assert still.starting


def test_readiness_failures_are_the_windows_unhealthy_readiness_events_about_pods() -> None:
    events = [
        event("Unhealthy", "Readiness probe failed: context deadline exceeded", involved="web-1"),
        event("Unhealthy", "Liveness probe failed: HTTP 500", involved="web-2"),
        event("Unhealthy", "Readiness probe failed: timeout", involved="web-3", ago=timedelta(minutes=9)),
        event("BackOff", "Readiness probe failed: looks similar", involved="web-4"),
        event("Unhealthy", "Readiness probe failed: about the node", involved="node-1", kind="Node"),
    ]
    assert readiness_failures(events, NOW, WINDOW) == {"web-1"}
