"""A rollout that changes no image, end to end: the team edits ConfigMap search-config in place and bumps the pod
template's checksum/config annotation (as Helm charts do); the new pods fail readiness and the rollout stalls at
maxUnavailable. Built with real kubectl.

rollout_history named no difference ("differs from current in 0 ways": only images, commands, resources, ports, env
and labels were compared), and check_rollback_safety called the rollback CLEAR although a rollback restores the
template, never the ConfigMap: the pods it creates read the CURRENT search-config.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env, ready
from support.plan_warnings import wholes

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

OLD_URL = "http://es-0.search:9200/products"
NEW_URL = "http://es-new.search:9200/products"


def manifests(others: int = 0) -> str:
    """`others`: optional ConfigMaps the pods also read (cfg-00..., none of them there), all sorting first."""
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "search-config", "namespace": NS},
        "data": {"INDEX_URL": OLD_URL, "TIMEOUT_MS": "800"},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "search",
            "namespace": NS,
            "annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: "4320"},
        },
        "spec": {
            "replicas": 4,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
            "selector": {"matchLabels": {"app": "search"}},
            "template": {
                "metadata": {"labels": {"app": "search"}, "annotations": {"checksum/config": "a1b2c3"}},
                "spec": {
                    "containers": [
                        {
                            "name": "search",
                            "image": "registry.example.com/shop/search:4.8.1",
                            "envFrom": [
                                *({"configMapRef": {"name": f"cfg-{n:02d}", "optional": True}} for n in range(others)),
                                {"configMapRef": {"name": "search-config"}},
                            ],
                            "env": [
                                {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "search-key", "key": "k"}}}
                            ],
                            "ports": [{"containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "search", "namespace": NS},
        "spec": {"selector": {"app": "search"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    # The Secret its env reads (the kubelet does not start a container whose secretKeyRef names a missing one).
    key = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "search-key", "namespace": NS},
        "data": {"k": "eA=="},
    }
    return yaml.safe_dump_all([config, key, deployment, service])


def stalled(env: Env) -> Callable[[], bool]:
    """Revision 2's surge pods are up and not ready; three of revision 1's still serve."""

    def check() -> bool:
        pods = env.pods("app=search")
        fresh = [p for p in pods if (p["metadata"].get("annotations") or {}).get("checksum/config") == "d4e5f6"]
        return len(fresh) == 2 and not any(ready(p) for p in fresh) and sum(ready(p) for p in pods) == 3

    return check


@pytest.fixture
def built(sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path) -> Any:
    sim = sim_factory("healthy")
    env, kubectl = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    kubectl.run("apply", "-f", "-", stdin=manifests())
    return env, kubectl


@pytest.fixture
def many_maps(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> Any:
    sim = sim_factory("healthy")
    env, kubectl = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    kubectl.run("apply", "-f", "-", stdin=manifests(others=20))
    return env, kubectl


async def build_incident(env: Env, kubectl: Kubectl) -> None:
    await env.until(lambda: sum(ready(p) for p in env.pods("app=search")) == 4 and env.rolled_out("search", 4))
    # The edit comes later than the creation (as days later on a real cluster): managedFields times are in whole
    # seconds, and the sim dates what a controller writes for a dated revision for 30 s of cluster time.
    env.sim.advance(31)
    # The change: the ConfigMap edited in place, then the checksum bump that rolls the pods (no image change).
    edited = kubectl.run(
        "create",
        "configmap",
        "search-config",
        "-n",
        NS,
        f"--from-literal=INDEX_URL={NEW_URL}",
        "--from-literal=TIMEOUT_MS=800",
        "--dry-run=client",
        "-o",
        "yaml",
    ).stdout
    kubectl.run("apply", "-f", "-", stdin=edited)
    bump = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"checksum/config": "d4e5f6", behaviors.BEHAVIOR: behaviors.NOT_READY}}
            }
        }
    }
    kubectl.run("patch", "deployment/search", "-n", NS, "-p", json.dumps(bump))
    await env.until(stalled(env))


async def test_rollout_history_names_a_checksum_only_rollout(built: Any) -> None:
    env, kubectl = built
    await build_incident(env, kubectl)
    async with Client(env.server("safe")) as client:
        history = await call(client, "rollout_history", namespace=NS, deployment="search", revision=1)
    differences = history["detail"]["differences_from_current"]
    assert "pod annotation checksum/config: d4e5f6 -> a1b2c3" in differences, differences
    assert "checksum/config: d4e5f6 -> a1b2c3" in history["summary"], history["summary"]
    assert "0 ways" not in history["summary"]
    # The images of both revisions are the same: the summary's rows alone could not tell them apart.
    images = {tuple(r["images"]) for r in history["revisions"]}
    assert len(images) == 1, history["revisions"]


async def test_a_rollback_says_it_cannot_restore_a_configmap_edited_in_place(built: Any) -> None:
    env, kubectl = built
    await build_incident(env, kubectl)
    async with Client(env.server("standard")) as client:
        safety = await call(client, "check_rollback_safety", namespace=NS, deployment="search")
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="search")
    assert safety["verdict"] == "CHECK_FIRST", safety["summary"]
    (config,) = [item for item in safety["items"] if item["check"] == "config"]
    assert config["status"] == "warning", config
    assert "CURRENT" in config["detail"] and "ConfigMap search-config" in config["detail"], config
    assert "restore its previous data first" in config["detail"], config
    # The Secret is named (a rollback does not restore it either); its data never appears, nor is it read.
    assert "Secret search-key" in config["detail"], config
    assert NEW_URL not in json.dumps(safety) and OLD_URL not in json.dumps(safety)
    assert any(w.startswith("config: ") and "search-config" in w for w in wholes(plan["warnings"])), wholes(
        plan["warnings"]
    )
    # The oracle: the rendered command, run as a human would, restores revision 1's template and leaves the
    # ConfigMap as it is now, which is what the warning says.
    kubectl.shell(plan["command"])
    await env.until(
        lambda: (
            env.get("deployments", "search")["spec"]["template"]["metadata"]["annotations"].get("checksum/config")
            == "a1b2c3"
        )
    )
    data = kubectl.json("get", "configmap", "search-config", "-n", NS)["data"]
    assert data["INDEX_URL"] == NEW_URL
    assert shlex.split(plan["command"])[:3] == ["kubectl", "rollout", "undo"], plan["command"]


async def test_the_assessment_names_what_the_rollout_changed_and_what_a_rollback_leaves(built: Any) -> None:
    """assess_namespace's ROLLBACK said only 'revision 2 (search:4.8.1; before: search:4.8.1)': now the change itself
    (the checksum bump) is evidence, and the reason says the rollback leaves the edited ConfigMap as it is."""
    env, kubectl = built
    await build_incident(env, kubectl)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
    decision = assessed["decision"]
    assert (decision["primary_action"], decision["target"]) == ("ROLLBACK", "deployment/search"), assessed["summary"]
    assert any("checksum/config: a1b2c3 -> d4e5f6" in e for e in decision["evidence"]), decision["evidence"]
    assert "not ConfigMap search-config" in decision["reason"] and "CURRENT" in decision["reason"], decision["reason"]
    changes = assessed["recent_changes"]
    assert any(c.startswith("ConfigMap search-config updated") for c in changes), changes


async def test_the_edited_configmap_is_found_past_the_sixteenth_the_pods_read(many_maps: Any) -> None:
    """The pods may read 21 ConfigMaps and the edited one sorts last: the reads stopped at the 16th without saying
    so, and neither the rollback check nor the assessment named the edit."""
    env, kubectl = many_maps
    await build_incident(env, kubectl)
    async with Client(env.server("safe")) as client:
        safety = await call(client, "check_rollback_safety", namespace=NS, deployment="search")
        assessed = await call(client, "assess_namespace", namespace=NS)
    (config,) = [item for item in safety["items"] if item["check"] == "config"]
    assert "CURRENT ConfigMap search-config" in config["detail"], config
    assert any(c.startswith("ConfigMap search-config updated") for c in assessed["recent_changes"]), assessed
