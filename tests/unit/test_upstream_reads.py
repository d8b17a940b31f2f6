"""The log read behind a dependency's rollback is bounded (tools/assess/upstream_reads.py): two of the caller's
Ready pods at most, newest first, only the lines written since the rollout, and none when the SCALE is not beside
another deployment's fresh rollout."""

from __future__ import annotations

from typing import Any

from incident_response.tools.assess.upstream_reads import upstream_errors
from incident_response.tools.playbook.decision import Facts, RecentRollout

LINE = "ERROR upstream api.shop.svc:8080 timed out after 30s"


class Logs:
    """Answers every pod's log with LINE and records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int | None]] = []

    def logs(self, name: str, namespace: str, *, since_seconds: int | None = None, **_: Any) -> str:
        self.asked.append((name, since_seconds))
        return f"{LINE}\n"

    def get(self, resource: str, name: str, namespace: str) -> dict[str, Any]:
        return {"spec": {"containers": [{"name": "app"}]}}


def pod(name: str, app: str, created: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": app}, "creationTimestamp": created},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


PODS = [pod(f"web-{i}", "web", f"2026-12-05T10:0{i}:00Z") for i in range(5)] + [pod("api-0", "api", "2026-12-05")]
COMPONENTS = {p["metadata"]["name"]: p["metadata"]["labels"]["app"] for p in PODS}
SERVICES = [{"metadata": {"name": "api"}, "spec": {"selector": {"app": "api"}}}]
API = RecentRollout(
    deployment="api",
    revision=3,
    minutes_ago=4,
    images=["api:3.4.0"],
    previous_images=["api:3.3.0"],
    failing_pods=0,
    unavailable_replicas=0,
)


def facts(rollouts: list[RecentRollout]) -> Facts:
    return Facts(namespace="shop", saturated_hpas=[("web", "deployment/web", "6/6")], recent_rollouts=rollouts)


def test_two_newest_caller_pods_are_read_since_the_rollout() -> None:
    kube = Logs()
    found = upstream_errors(kube, facts([API]), SERVICES, PODS, COMPONENTS)  # type: ignore[arg-type]
    assert found == {"api": f"web-4: {LINE}"}
    assert kube.asked == [("web-4", 300)]  # the first pod named it: one read; 4 minutes + a minute's slack


def test_no_other_rollout_no_read() -> None:
    kube = Logs()
    assert upstream_errors(kube, facts([]), SERVICES, PODS, COMPONENTS) == {}  # type: ignore[arg-type]
    web = API.model_copy(update={"deployment": "web"})
    assert upstream_errors(kube, facts([API, web]), SERVICES, PODS, COMPONENTS) == {}  # type: ignore[arg-type]
    assert kube.asked == []


def test_a_service_named_api_selecting_other_pods_is_not_the_dependencys() -> None:
    kube = Logs()
    shared = [{"metadata": {"name": "api"}, "spec": {"selector": {"app": "web"}}}]
    assert upstream_errors(kube, facts([API]), shared, PODS, COMPONENTS) == {}  # type: ignore[arg-type]
    assert kube.asked == []
