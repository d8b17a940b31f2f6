"""A plan goes stale when anything its effect depends on changes between planning and confirmation.

Each test plans through an MCP client, changes the simulated cluster the way an operator (or a controller) might
after the human approved, and confirms: the answer is `stale`, with what changed, and nothing is written. The last
tests change the cluster between the confirm-time check and the write itself, which only a precondition carried in
the write can catch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, ready, refused, serving

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal
from incident_response.tools.kube.client import ClusterSource, Kube

pytestmark = pytest.mark.anyio


@pytest.fixture
def start(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Callable[[str], Env]:
    def begin(scenario: str) -> Env:
        env = make_env(sim_factory(scenario), tmp_path / "state")
        if scenario == "canary":
            env.kube.delete("horizontalpodautoscalers", "web", NS)  # it would resize web-stable on its own clock
        return env

    return begin


async def stale(client: Client, plan: dict[str, Any]) -> dict[str, Any]:
    """Confirm a plan that must have gone stale; returns the answer."""
    assert plan["status"] == "pending", plan
    answer = await call(client, "confirm_command", token=plan["token"])
    assert answer["status"] == "stale", answer
    assert answer["changes"] and "nothing ran" in answer["message"], answer
    assert answer["steps"] == []
    return answer


def live_names(env: Env, selector: str) -> list[str]:
    return sorted(p["metadata"]["name"] for p in env.pods(selector) if not p["metadata"].get("deletionTimestamp"))


def bare_pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {"containers": [{"name": "api", "image": "registry.example.com/shop/api:3.3.0"}]},
    }


def roll_out(env: Env, deployment: str, stamp: str = "after-approval") -> None:
    """A new rollout: what `kubectl rollout restart` sends (a pod template annotation)."""
    body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
    env.kube.patch("deployments", deployment, body, NS, patch_type="strategic")


def scale(env: Env, deployment: str, replicas: int) -> None:
    env.kube.patch(
        "deployments", deployment, {"spec": {"replicas": replicas}}, NS, patch_type="merge", subresource="scale"
    )


def no_ready(env: Env, selector: str) -> Callable[[], bool]:
    return lambda: not [p for p in env.pods(selector) if ready(p) and not p["metadata"].get("deletionTimestamp")]


# --- the set of pods a selector matches ---------------------------------------------------------------------------


async def test_isolate_network_refuses_a_selector_matching_no_pod(start: Callable[[str], Env]) -> None:
    env = start("poison")
    async with Client(env.server("full")) as client:
        message = await refused(client, "isolate_network", namespace=NS, selector="app=api,version=nope")
        assert "no pod matches" in message and "app=api,version=nope" in message
        assert (await call(client, "list_pending_commands"))["commands"] == []
    assert Journal(env.state).commands() == []
    assert env.kube.list("networkpolicies", NS).items == []


async def test_isolate_network_is_stale_when_a_pod_gains_the_label(start: Callable[[str], Env]) -> None:
    env = start("poison")
    async with Client(env.server("full")) as client:
        plan = await call(client, "isolate_network", namespace=NS, selector="app=api,version=bad")
        env.kube.create("pods", bare_pod("api-newcomer", {"app": "api", "version": "bad"}), NS)
        answer = await stale(client, plan)
    assert "api-newcomer" in answer["message"]
    assert env.kube.list("networkpolicies", NS).items == []


async def test_isolate_network_is_stale_when_a_pod_leaves_the_selection(start: Callable[[str], Env]) -> None:
    env = start("poison")
    leaving = live_names(env, "app=api,version=bad")[0]
    async with Client(env.server("full")) as client:
        plan = await call(client, "isolate_network", namespace=NS, selector="app=api,version=bad")
        env.kube.patch("pods", leaving, {"metadata": {"labels": {"version": "debug"}}}, NS, patch_type="merge")
        answer = await stale(client, plan)
    assert leaving in answer["message"]
    assert env.kube.list("networkpolicies", NS).items == []


async def test_remove_pods_is_stale_when_a_pod_is_replaced_under_the_same_name(start: Callable[[str], Env]) -> None:
    env = start("poison")
    labels = {"app": "api", "version": "bad"}
    env.kube.create("pods", bare_pod("api-debug", labels), NS)
    async with Client(env.server("full")) as client:
        plan = await call(
            client, "remove_pods_from_service", namespace=NS, service="api", selector="app=api,version=bad"
        )
        assert "api-debug" in plan["summary"]
        before = env.get("pods", "api-debug")["metadata"]["uid"]
        env.kube.delete("pods", "api-debug", NS)
        await env.until(lambda: "api-debug" not in [p["metadata"]["name"] for p in env.pods()])
        env.kube.create("pods", bare_pod("api-debug", labels), NS)
        answer = await stale(client, plan)
    assert any(c["path"] == "/metadata/uid" and before in c["planned"] for c in answer["changes"]), answer["changes"]
    assert all(p["metadata"]["labels"].get("app") == "api" for p in env.pods("version=bad"))


# --- the endpoints a traffic change promised would remain ---------------------------------------------------------


async def test_patch_service_selector_is_stale_when_the_new_backend_is_scaled_to_zero(
    start: Callable[[str], Env],
) -> None:
    env = start("poison")
    async with Client(env.server("full")) as client:
        plan = await call(
            client, "patch_service_selector", namespace=NS, service="api", selector="app=api,version=stable"
        )
        scale(env, "api", 0)
        await env.until(no_ready(env, "app=api,version=stable"))
        answer = await stale(client, plan)
    assert "Ready" in answer["message"] or "ready" in answer["message"]
    assert env.get("services", "api")["spec"]["selector"] == {"app": "api"}


async def test_switch_ingress_backend_is_stale_when_the_new_backend_loses_its_endpoints(
    start: Callable[[str], Env],
) -> None:
    env = start("poison")
    stable = {
        "metadata": {"name": "api-stable", "namespace": NS},
        "spec": {"selector": {"app": "api", "version": "stable"}, "ports": [{"port": 8080}]},
    }
    env.kube.create("services", stable, NS)
    await env.until(lambda: len(serving(env, "api-stable")[0]) == 3)
    backend = env.get("ingresses", "shop")["spec"]["rules"][0]["http"]["paths"][1]["backend"]
    async with Client(env.server("full")) as client:
        plan = await call(client, "switch_ingress_backend", namespace=NS, ingress="shop", service="api-stable", path=1)
        scale(env, "api", 0)
        await env.until(no_ready(env, "app=api,version=stable"))
        await stale(client, plan)
    assert env.get("ingresses", "shop")["spec"]["rules"][0]["http"]["paths"][1]["backend"] == backend


async def test_switch_ingress_backend_is_stale_when_the_new_backend_selects_other_pods(
    start: Callable[[str], Env],
) -> None:
    env = start("poison")
    stable = {
        "metadata": {"name": "api-stable", "namespace": NS},
        "spec": {"selector": {"app": "api", "version": "stable"}, "ports": [{"port": 8080}]},
    }
    env.kube.create("services", stable, NS)
    await env.until(lambda: len(serving(env, "api-stable")[0]) == 3)
    async with Client(env.server("full")) as client:
        plan = await call(client, "switch_ingress_backend", namespace=NS, ingress="shop", service="api-stable", path=1)
        # Someone points the service at the bad pods after the human approved sending traffic to it.
        env.kube.patch("services", "api-stable", {"spec": {"selector": {"version": "bad"}}}, NS, patch_type="strategic")
        await stale(client, plan)


async def test_shift_traffic_is_stale_when_the_healthy_side_rolls_out(start: Callable[[str], Env]) -> None:
    env = start("canary")
    async with Client(env.server("full")) as client:
        plan = await call(
            client, "shift_traffic", namespace=NS, from_deployment="web-canary", to_deployment="web-stable", replicas=5
        )
        roll_out(env, "web-stable")
        answer = await stale(client, plan)
    assert "web-stable" in answer["message"]
    assert env.get("deployments", "web-stable")["spec"]["replicas"] == 4
    assert env.get("deployments", "web-canary")["spec"]["replicas"] == 1


# --- the pod template / revision ----------------------------------------------------------------------------------


async def test_scale_deployment_is_stale_after_a_new_rollout(start: Callable[[str], Env]) -> None:
    env = start("overload")
    async with Client(env.server("full")) as client:
        plan = await call(client, "scale_deployment", namespace=NS, deployment="api", replicas=5)
        roll_out(env, "api")
        answer = await stale(client, plan)
    assert "template" in answer["message"] or "generation" in answer["message"]
    assert env.get("deployments", "api")["spec"]["replicas"] == 3


async def test_override_hpa_is_stale_after_its_deployment_rolls_out(start: Callable[[str], Env]) -> None:
    env = start("overload")
    async with Client(env.server("full")) as client:
        plan = await call(client, "override_hpa", namespace=NS, hpa="web", min_replicas=8, max_replicas=10)
        roll_out(env, "web")
        answer = await stale(client, plan)
    assert "deployments/web" in answer["message"]
    spec = env.get("horizontalpodautoscalers", "web")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 6)


class ChangeBeforeWrite:
    """The cluster as the server sees it, except that `change` lands just before the first real write: after the
    confirm-time check, before the write. Only a precondition carried in the write itself can catch that."""

    def __init__(self, kube: Kube, change: Callable[[], None]) -> None:
        self._kube, self._change = kube, change
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kube, name)

    def patch(self, resource: str, name: str, body: Any, namespace: str | None = None, **options: Any) -> Any:
        if not options.get("dry_run") and not self.raced:
            self.raced = True
            self._change()
        return self._kube.patch(resource, name, body, namespace, **options)


def racing_server(env: Env, change: Callable[[], None]) -> tuple[Any, ChangeBeforeWrite]:
    assert env.sim.kubeconfig_path is not None
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    kube = ChangeBeforeWrite(env.kube, change)
    return build_server(Settings(mode="full", state_dir=env.state, cluster=source), kube=kube), kube


def template_of(env: Env, name: str) -> dict[str, Any]:
    return dict(env.get("deployments", name)["spec"]["template"])


RACES: list[tuple[str, str, dict[str, Any], Callable[[Env], None], Callable[[Env], bool]]] = [
    (
        "overload",
        "scale_deployment",
        {"namespace": NS, "deployment": "api", "replicas": 5},
        lambda env: roll_out(env, "api", "between-check-and-write"),
        lambda env: env.get("deployments", "api")["spec"]["replicas"] == 3,
    ),
    (
        "oom",
        "set_memory_limit",
        {"namespace": NS, "deployment": "payments", "container": "payments", "limit": "768Mi"},
        lambda env: roll_out(env, "payments", "between-check-and-write"),
        lambda env: template_of(env, "payments")["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi",
    ),
    (
        "overload",
        "override_hpa",
        {"namespace": NS, "hpa": "web", "min_replicas": 8, "max_replicas": 10},
        lambda env: env.kube.patch(
            "horizontalpodautoscalers", "web", {"spec": {"maxReplicas": 7}}, NS, patch_type="merge"
        ),
        lambda env: env.get("horizontalpodautoscalers", "web")["spec"]["maxReplicas"] == 7,
    ),
    (
        "poison",
        "patch_service_selector",
        {"namespace": NS, "service": "api", "selector": "app=api,version=stable"},
        lambda env: env.kube.patch(
            "services", "api", {"spec": {"selector": {"app": "api", "tier": "x"}}}, NS, patch_type="merge"
        ),
        lambda env: env.get("services", "api")["spec"]["selector"] == {"app": "api", "tier": "x"},
    ),
]


@pytest.mark.parametrize("scenario, tool, arguments, change, unchanged", RACES, ids=[r[1] for r in RACES])
async def test_a_change_between_the_check_and_the_write_is_refused_by_the_write(
    start: Callable[[str], Env],
    scenario: str,
    tool: str,
    arguments: dict[str, Any],
    change: Callable[[Env], None],
    unchanged: Callable[[Env], bool],
) -> None:
    env = start(scenario)
    server, kube = racing_server(env, lambda: change(env))
    async with Client(server) as client:
        plan = await call(client, tool, **arguments)
        answer = await call(client, "confirm_command", token=plan["token"])
    assert kube.raced
    assert answer["status"] == "stale", answer
    assert answer["changes"] and "nothing changed" in answer["message"], answer
    assert unchanged(env)  # the other change stands; ours was not applied over it


# --- more ways the cluster changes after approval -----------------------------------------------------------------


def hpa_for(deployment: str, low: int, high: int) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{deployment}-late", "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
            "minReplicas": low,
            "maxReplicas": high,
        },
    }


async def test_scale_deployment_is_stale_when_an_hpa_takes_the_deployment_over(start: Callable[[str], Env]) -> None:
    env = start("overload")
    async with Client(env.server("full")) as client:
        plan = await call(client, "scale_deployment", namespace=NS, deployment="api", replicas=5)
        env.kube.create("horizontalpodautoscalers", hpa_for("api", 2, 3), NS)  # it would take the scale back
        await stale(client, plan)
    assert env.get("deployments", "api")["spec"]["replicas"] != 5  # the HPA's to decide now, not our plan


async def test_shift_traffic_is_stale_when_an_hpa_caps_the_healthy_side(start: Callable[[str], Env]) -> None:
    env = start("canary")
    async with Client(env.server("full")) as client:
        plan = await call(
            client, "shift_traffic", namespace=NS, from_deployment="web-canary", to_deployment="web-stable", replicas=5
        )
        env.kube.create("horizontalpodautoscalers", hpa_for("web-stable", 2, 4), NS)
        await stale(client, plan)
    assert env.get("deployments", "web-canary")["spec"]["replicas"] == 1


async def test_override_hpa_is_stale_when_the_hpa_is_retargeted(start: Callable[[str], Env]) -> None:
    env = start("overload")
    async with Client(env.server("full")) as client:
        plan = await call(client, "override_hpa", namespace=NS, hpa="web", min_replicas=8, max_replicas=10)
        retarget = {"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}}}
        env.kube.patch("horizontalpodautoscalers", "web", retarget, NS, patch_type="merge")
        await stale(client, plan)
    assert env.get("horizontalpodautoscalers", "web")["spec"]["maxReplicas"] == 6


async def test_remove_pods_is_stale_when_the_remaining_endpoints_go(start: Callable[[str], Env]) -> None:
    env = start("poison")
    async with Client(env.server("full")) as client:
        plan = await call(
            client, "remove_pods_from_service", namespace=NS, service="api", selector="app=api,version=bad"
        )
        scale(env, "api", 0)
        await env.until(no_ready(env, "app=api,version=stable"))
        await stale(client, plan)
    assert all(p["metadata"]["labels"].get("app") == "api" for p in env.pods("version=bad"))


async def test_patch_service_selector_is_stale_when_another_pod_gains_the_new_labels(
    start: Callable[[str], Env],
) -> None:
    env = start("poison")
    async with Client(env.server("full")) as client:
        plan = await call(
            client, "patch_service_selector", namespace=NS, service="api", selector="app=api,version=stable"
        )
        # A pod nobody reviewed would receive the traffic.
        env.kube.create("pods", bare_pod("api-stranger", {"app": "api", "version": "stable"}), NS)
        answer = await stale(client, plan)
    assert "api-stranger" in answer["message"]
    assert env.get("services", "api")["spec"]["selector"] == {"app": "api"}


async def test_switch_ingress_backend_is_stale_when_the_backend_port_changes(start: Callable[[str], Env]) -> None:
    env = start("poison")
    stable = {
        "metadata": {"name": "api-stable", "namespace": NS},
        "spec": {"selector": {"app": "api", "version": "stable"}, "ports": [{"port": 8080}]},
    }
    env.kube.create("services", stable, NS)
    await env.until(lambda: len(serving(env, "api-stable")[0]) == 3)
    async with Client(env.server("full")) as client:
        plan = await call(client, "switch_ingress_backend", namespace=NS, ingress="shop", service="api-stable", path=1)
        env.kube.patch("services", "api-stable", {"spec": {"ports": [{"port": 9090}]}}, NS, patch_type="merge")
        await stale(client, plan)
