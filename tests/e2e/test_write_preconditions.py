"""Writes to pods act only on the pods that were approved, with the check inside the write (issue 9): a drain's
Evictions carry the pod's uid as a precondition, and remove_pods_from_service's label patches carry the pod's uid, so
a pod recreated under the same name between the confirm-time check and the write (a StatefulSet's pods are) is
refused by the API server, not changed unseen."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, call, make_env

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim
from incident_response.tools.kube.client import ClusterSource, RealKube

pytestmark = pytest.mark.anyio


class ReplacingKube:
    """The real seam; just before the first write to a pod (an eviction or a patch), that pod is replaced by a new one
    of the same name on the same node (what a StatefulSet controller does), as if between the check and the write."""

    def __init__(self, kube: RealKube, sim: RunningSim) -> None:
        self.kube, self.sim = kube, sim
        self.context = kube.context
        self.replaced: dict[str, str] = {}  # name -> the new pod's uid

    def replace_first(self, name: str, namespace: str, dry_run: bool) -> None:
        if self.replaced or dry_run:
            return
        old = self.sim.store.remove(PODS, namespace, name)
        kept = ("name", "namespace", "labels")
        fresh = {"metadata": {k: old["metadata"][k] for k in kept if k in old["metadata"]}}
        fresh["spec"] = copy.deepcopy(old["spec"])
        self.replaced[name] = self.sim.store.create(PODS, fresh)["metadata"]["uid"]

    def evict(self, name: str, namespace: str, **options: Any) -> None:
        self.replace_first(name, namespace, bool(options.get("dry_run")))
        self.kube.evict(name, namespace, **options)

    def patch(self, resource: str, name: str, body: Any, namespace: str | None = None, **options: Any) -> Any:
        if resource == "pods" and namespace is not None:
            self.replace_first(name, namespace, bool(options.get("dry_run")))
        return self.kube.patch(resource, name, body, namespace, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kube, name)


def live_on(kube: RealKube, node: str) -> dict[str, dict[str, Any]]:
    pods = kube.list("pods", None).items
    return {
        p["metadata"]["name"]: p
        for p in pods
        if p["spec"].get("nodeName") == node and not p["metadata"].get("deletionTimestamp")
    }


async def test_a_pod_recreated_under_its_name_after_the_check_is_not_evicted(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("node-failure"), tmp_path / "state")
    assert env.sim.kubeconfig_path is not None
    kube = ReplacingKube(env.kube, env.sim)
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    async with Client(build_server(Settings(mode="full", state_dir=env.state, cluster=source), kube=kube)) as client:
        plan = await call(client, "drain_node", node="node-2")
        done = await call(client, "confirm_command", token=plan["token"])
    [(name, uid)] = kube.replaced.items()
    # The cordon applied, the eviction of the replaced pod was refused: partial, naming what applied and the undo.
    assert done["status"] == "partial", done
    assert [s["status"] for s in done["steps"]][:2] == ["succeeded", "failed"], done["steps"]
    assert f'pods "{name}"' in done["steps"][1]["detail"], done["steps"][1]
    assert live_on(env.kube, "node-2")[name]["metadata"]["uid"] == uid  # the new pod runs on, not evicted
    assert env.get("nodes", "node-2", None)["spec"]["unschedulable"] is True


async def test_a_pod_recreated_under_its_name_after_the_check_keeps_its_label(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("poison"), tmp_path / "state")
    assert env.sim.kubeconfig_path is not None
    kube = ReplacingKube(env.kube, env.sim)
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    async with Client(build_server(Settings(mode="full", state_dir=env.state, cluster=source), kube=kube)) as client:
        plan = await call(
            client, "remove_pods_from_service", namespace=NS, service="api", selector="app=api,version=bad"
        )
        done = await call(client, "confirm_command", token=plan["token"])
    [(name, uid)] = kube.replaced.items()
    # The first pod's patch was refused by the API server: the plan is stale and nothing changed.
    assert done["status"] == "stale" and "the write refused it and nothing changed" in done["message"], done
    now = env.get("pods", name)
    assert now["metadata"]["uid"] == uid and now["metadata"]["labels"].get("app") == "api"
    assert all(p["metadata"]["labels"].get("app") == "api" for p in env.pods("version=bad"))


def test_real_kubectl_sends_the_rendered_eviction_and_the_api_server_holds_its_precondition(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    """The step's command line, as a human would run it, carries the same precondition (real kubectl as oracle)."""
    sim = sim_factory("node-failure")
    env = make_env(sim, tmp_path / "state")
    [(name, pod)] = list(live_on(env.kube, "node-2").items())[:1]
    namespace = pod["metadata"]["namespace"]
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
        "deleteOptions": {"preconditions": {"uid": "not-" + pod["metadata"]["uid"]}},
    }
    assert sim.kubeconfig_path is not None
    refused = subprocess.run(
        ["kubectl", "--kubeconfig", str(sim.kubeconfig_path), "--context", sim.context, "create", "--raw",
         f"/api/v1/namespaces/{namespace}/pods/{name}/eviction", "-f", "-"],
        input=json.dumps(body), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0 and "the object has been modified" in refused.stderr, refused.stderr
    assert name in live_on(env.kube, "node-2")
    body["deleteOptions"] = {"preconditions": {"uid": pod["metadata"]["uid"]}}
    evicted = subprocess.run(
        ["kubectl", "--kubeconfig", str(sim.kubeconfig_path), "--context", sim.context, "create", "--raw",
         f"/api/v1/namespaces/{namespace}/pods/{name}/eviction", "-f", "-"],
        input=json.dumps(body), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert evicted.returncode == 0, evicted.stderr
    assert name not in live_on(env.kube, "node-2")


async def test_a_pod_scheduled_on_the_node_after_the_plan_makes_the_drain_stale(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("node-failure"), tmp_path / "state")
    async with Client(env.server("full")) as client:
        plan = await call(client, "drain_node", node="node-2")
        # After the plan (and its approval), a pod lands on the node: nobody saw it in the plan.
        some = next(iter(live_on(env.kube, "node-2").values()))
        late = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "late-arrival", "namespace": some["metadata"]["namespace"]},
            "spec": {**copy.deepcopy(some["spec"]), "nodeName": "node-2"},
        }
        env.kube.create("pods", late, some["metadata"]["namespace"])
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "stale" and "spec.nodeName=node-2" in done["message"], done
    assert not env.get("nodes", "node-2", None)["spec"].get("unschedulable")  # nothing ran: not even the cordon
    assert "late-arrival" in live_on(env.kube, "node-2")
