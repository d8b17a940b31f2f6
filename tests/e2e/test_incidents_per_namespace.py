"""Two teams paged at once on one server (`--namespace team-a --namespace team-b`): one open incident per namespace.

Played by review-assist (F17): team-a's api 1.1 crash-loops minutes after its deploy, team-b's worker has been
OOM-killed for three days (it needs 400Mi, its limit is 256Mi). With team-a's SEV2 open, declaring team-b's SEV3 was
refused ("end that one first"), so team-b's set_memory_limit was journaled under team-a's incident: team-a's handoff
listed it (action, temporary measure, hypothesis) and team-b's handoff carried team-a's title. Now each namespace
declares its own incident, every call and command goes to the incident of the namespace it acts in, each handoff
tells its own story, a second incident in the same namespace is refused, and all of it holds after a restart, in the
SQLite journal and in team mode's store on the Kubernetes API. Plans are approved as the human does (the approve
CLI's path), and the cluster is built and checked with real kubectl.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from support.kube_stores import install_crds, kube_store, store_namespace
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, make_env, refused
from support.texts import handoff_fields

from incident_response.server import approvals_command
from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import DB_NAME, Journal
from incident_response.tools.engine.pending import PendingEngine
from incident_response.tools.engine.store import Store
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio

A, B = "team-a", "team-b"
A_TITLE, B_TITLE = "api errors after 1.1", "worker OOM loop"
PREFIX = "sim.incident-response.dev/"
STORE_NS = "incident-response"


def manifests() -> str:
    def deployment(ns: str, name: str, replicas: int, image: str, minutes_ago: int, **extra: Any) -> dict[str, Any]:
        labels = {"app": name}
        container = {"name": name, "image": image, **extra.get("container", {})}
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": ns,
                "annotations": {f"{PREFIX}rolled-out-minutes-ago": str(minutes_ago)},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels, "annotations": extra.get("annotations", {})},
                    "spec": {"containers": [container]},
                },
            },
        }

    def service(ns: str, name: str) -> dict[str, Any]:
        spec = {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec}

    items = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": A}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": B}},
        deployment(
            A,
            "api",
            3,
            "registry.example.com/a/api:1.0",
            5000,
            container={"readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}},
        ),
        service(A, "api"),
        deployment(
            B,
            "worker",
            2,
            "registry.example.com/b/worker:3.2",
            3 * 24 * 60,
            container={"resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "256Mi"}}},
            annotations={f"{PREFIX}behavior": "oom", f"{PREFIX}memory-need": "400Mi"},
        ),
        service(B, "worker"),
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def broken(env: Env, k: Kubectl) -> None:
    """team-a: api 1.1 rolled out 10 minutes ago, crash-looping; team-b: worker OOM-killed since its deploy."""
    k.run("apply", "-f", "-", stdin=manifests())
    k.run("rollout", "status", "deployment/api", "-n", A, "--timeout=60s")
    k.run("annotate", "deployment/api", "-n", A, "--overwrite", f"{PREFIX}rolled-out-minutes-ago=10")
    # api 1.1 crash-loops through its image (the sim's catalogue): the release differs from 1.0 in the image alone.
    env.sim.cluster.images["registry.example.com/a/api:1.1"] = {f"{PREFIX}behavior": "crashloop"}
    template = {"spec": {"containers": [{"name": "api", "image": "registry.example.com/a/api:1.1"}]}}
    k.run("patch", "deployment/api", "-n", A, "-p", json.dumps({"spec": {"template": template}}))


def crash_looping(k: Kubectl) -> bool:
    return any(row["STATUS"] == "CrashLoopBackOff" for row in k.table("pods", "-n", A, "-l", "app=api"))


def oom_killed(k: Kubectl) -> bool:
    pods = k.json("get", "pods", "-n", B, "-l", "app=worker")["items"]
    return any(
        ((s.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled"
        for p in pods
        for s in (p.get("status") or {}).get("containerStatuses") or []
    )


def settled(k: Kubectl) -> bool:
    """Both rollouts done: api's 3 and worker's 2 pods, none terminating."""
    pods = [p for ns in (A, B) for p in k.json("get", "pods", "-n", ns)["items"]]
    return len(pods) == 5 and not any(p["metadata"].get("deletionTimestamp") for p in pods)


class Team:
    """The server under test on one store, restartable (a new server over the same journal), and the human's
    approval as `incident-response-mcp approve TOKEN` makes it."""

    def __init__(self, env: Env, store: str) -> None:
        self.env, self.store = env, store

    def settings(self) -> Settings:
        sim = self.env.sim
        assert sim.kubeconfig_path is not None
        source = ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context)
        extra: dict[str, Any] = {"store": "kubernetes", "store_namespace": STORE_NS} if self.store != "sqlite" else {}
        return Settings(mode="standard", namespaces=(A, B), state_dir=self.env.state, cluster=source, **extra)

    def server(self) -> MCPServer[Any]:
        return build_server(self.settings())

    def journal(self, *, approver: bool = False) -> Store:
        if self.store == "sqlite":
            return Journal(self.env.state)
        return kube_store(self.env.sim, STORE_NS, approver=approver)

    def approve(self, token: str) -> None:
        assert approvals_command.decide(PendingEngine(self.journal(approver=True)), token, approved=True).status == (
            "approved"
        )


async def confirmed(client: Client, team: Team, tool: str, **arguments: Any) -> dict[str, Any]:
    """Plan, the human approves out of band (standard mode), confirm: the path every standard-mode e2e test takes."""
    plan = await call(client, tool, **arguments)
    assert plan["status"] == "pending", plan
    waiting = await call(client, "confirm_command", token=plan["token"])
    assert waiting["status"] == "awaiting_approval", waiting
    team.approve(plan["token"])
    done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "succeeded", done
    return plan


@pytest.fixture(params=["sqlite", "kubernetes"])
def team(
    request: pytest.FixtureRequest,
    sim_factory: Callable[..., RunningSim],
    kubectl_for: Callable[[RunningSim], Kubectl],
    tmp_path: Path,
) -> Team:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    if request.param == "kubernetes":
        k = kubectl_for(env.sim)
        install_crds(k)
        store_namespace(k, STORE_NS)
    return Team(env, request.param)


async def test_two_teams_each_declare_mitigate_and_hand_off_their_own_incident(
    team: Team, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    env = team.env
    k = kubectl_for(env.sim)
    broken(env, k)
    await env.until(lambda: crash_looping(k) and oom_killed(k), 30)

    async with Client(team.server()) as client:
        a = (await call(client, "declare_incident", title=A_TITLE, severity="SEV2", namespace=A))["incident"]
        assessed_a = await call(client, "assess_namespace", namespace=A)
        # Team B is paged while A's incident is open: its own declaration works (it was refused before F17).
        declared_b = await call(client, "declare_incident", title=B_TITLE, severity="SEV3", namespace=B)
        b = declared_b["incident"]
        assert declared_b["outcome"] == "declared" and b["incident_id"] != a["incident_id"], declared_b["summary"]
        # A second incident in the same namespace is refused, naming the open one and how to end it.
        refusal = await refused(client, "declare_incident", title="api latency", severity="SEV3", namespace=A)
        assert a["incident_id"] in refusal and A_TITLE in refusal and "status='resolved'" in refusal, refusal
        await call(client, "top_nodes")
        assessed_b = await call(client, "assess_namespace", namespace=B)
        rollback = assessed_a["decision"]
        assert rollback["next_tool"] == "rollback_deployment", assessed_a["summary"]
        await confirmed(client, team, rollback["next_tool"], **rollback["next_arguments"])
        memory = assessed_b["decision"]
        assert memory["next_tool"] == "set_memory_limit", assessed_b["summary"]
        await confirmed(client, team, memory["next_tool"], **memory["next_arguments"])
        await call(client, "verify_recovery", namespace=A, deployment="api")
        await call(client, "verify_recovery", namespace=B, deployment="worker")

    journal = team.journal()
    by_tool = {row.tool: row.incident for row in journal.commands(states=["succeeded"])}
    assert by_tool == {"rollback_deployment": a["incident_id"], "set_memory_limit": b["incident_id"]}
    for incident, ns in ((a, A), (b, B)):
        verified = [e.detail or {} for e in journal.events(incident=incident["incident_id"]) if e.kind == "verified"]
        assert verified and {d.get("namespace") for d in verified} == {ns}, verified
    # A call in no namespace while both are open is evidence for each.
    for incident in (a, b):
        assert "top_nodes" in [c.tool for c in journal.tool_calls(incident=incident["incident_id"])]
    assert {c.arguments.get("namespace") for c in journal.tool_calls(incident=a["incident_id"])} <= {A, None}
    assert {c.arguments.get("namespace") for c in journal.tool_calls(incident=b["incident_id"])} <= {B, None}

    # A restart: a new server over the same journal.
    async with Client(team.server()) as client:
        handoff_a = await handoff_fields(client, namespace=A)
        handoff_b = await handoff_fields(client, namespace=B)
        measures = await call(client, "list_temporary_measures")
        wrong = await refused(client, "incident_handoff", namespace=A, incident_id=b["incident_id"])
        [listed] = measures["measures"]
        restore = await call(client, "restore_measure", measure_id=listed["measure_id"], restore_despite_condition=True)
        await call(client, "cancel_command", token=restore["token"])
        # A node plan goes to the incident whose namespace runs the most pods there (kubectl counts them).
        await env.until(lambda: settled(k), 60)  # no pod leaving: the count below is the one the plan reads
        node = k.json("get", "pods", "-n", B, "-l", "app=worker")["items"][0]["spec"]["nodeName"]
        on_node = k.json("get", "pods", "-A", "--field-selector", f"spec.nodeName={node}")["items"]
        cordon = await call(client, "cordon_node", node=node)
        await call(client, "cancel_command", token=cordon["token"])
        resolved = await call(client, "declare_incident", incident_id=a["incident_id"], status="resolved")
        after = await handoff_fields(client, namespace=B)
    count = {ns: sum(p["metadata"]["namespace"] == ns for p in on_node) for ns in (A, B)}
    expected = a if count[A] >= count[B] else b

    for handoff, own, other, tool in (
        (handoff_a, (a, A_TITLE, "SEV2"), (B_TITLE, "worker", "set_memory_limit"), "rollback_deployment"),
        (handoff_b, (b, B_TITLE, "SEV3"), (A_TITLE, "deployment/api", "rollback_deployment"), "set_memory_limit"),
    ):
        incident, title, severity = own
        assert handoff["incident"]["incident_id"] == incident["incident_id"], handoff["summary"]
        assert (handoff["incident"]["title"], handoff["incident"]["severity"]) == (title, severity)
        assert [x["tool"] for x in handoff["actions"]] == [tool], handoff["actions"]
        story = json.dumps({key: handoff[key] for key in ("document", "hypotheses", "current_state", "timeline")})
        for trace in other:
            assert trace not in story, (trace, handoff["document"])
    assert [m["tools"] for m in handoff_b["current_state"]["temporary_measures"]] == [["set_memory_limit"]]
    assert handoff_a["current_state"]["temporary_measures"] == []
    # team-b's OOM loop began three days ago, in its own incident's cluster facts (not team-a's deploy).
    assert handoff_b["started"] is not None and handoff_b["duration_minutes"] >= 24 * 60, handoff_b["started"]
    assert handoff_a["duration_minutes"] < 60, handoff_a["started"]
    [measure] = measures["measures"]
    assert measure["incident"] == b["incident_id"] and measure["target"]["name"] == "worker"
    assert team.journal().command(restore["token"]).incident == b["incident_id"]  # type: ignore[union-attr]
    assert team.journal().command(cordon["token"]).incident == expected["incident_id"], count  # type: ignore[union-attr]
    assert f"incident_handoff(namespace='{B}', incident_id='{b['incident_id']}')" in wrong, wrong
    # Resolving team-a's incident leaves team-b's open.
    assert resolved["incident"]["status"] == "resolved"
    assert after["incident"]["incident_id"] == b["incident_id"] and after["incident"]["status"] == "active"
    assert [i.id for i in team.journal().incidents(open_only=True)] == [b["incident_id"]]


async def test_a_journal_written_before_keeps_another_namespaces_work_out_of_the_handoff(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """Before F17, team-b's mitigation went to team-a's open incident. Such a journal still reads: team-a's handoff
    leaves team-b's action, measure and calls out, and team-b declares its own incident."""
    team = Team(make_env(sim_factory("healthy"), tmp_path / "state"), "sqlite")
    k = kubectl_for(team.env.sim)
    broken(team.env, k)
    await team.env.until(lambda: oom_killed(k), 30)
    async with Client(team.server()) as client:
        a = (await call(client, "declare_incident", title=A_TITLE, severity="SEV2", namespace=A))["incident"]
        plan = await confirmed(
            client, team, "set_memory_limit", namespace=B, deployment="worker", container="worker", limit="512Mi"
        )
        # Today team-b's plan goes to an untitled incident, never team-a's; team-a's handoff says where it went.
        told = (await handoff_fields(client, namespace=A))["open_questions"]
    # As the journal of the previous release holds it: team-b's command, events and calls under team-a's incident.
    with sqlite3.connect(team.env.state / DB_NAME) as db:
        [(moved,)] = db.execute("SELECT incident FROM commands WHERE token = ?", [plan["token"]]).fetchall()
        assert moved != a["incident_id"]
        assert any(f"Plans in {B} are recorded under the open incident {moved}" in q for q in told), told
        for table in ("commands", "events", "tool_calls"):
            db.execute(f"UPDATE {table} SET incident = ? WHERE incident = ?", [a["incident_id"], moved])
        db.execute("DELETE FROM incidents WHERE id = ?", [moved])
    async with Client(team.server()) as client:
        handoff_a = await handoff_fields(client, namespace=A)
        b = (await call(client, "declare_incident", title=B_TITLE, severity="SEV3", namespace=B))["incident"]
    assert handoff_a["incident"]["incident_id"] == a["incident_id"] and handoff_a["actions"] == []
    assert handoff_a["current_state"]["temporary_measures"] == []
    assert "worker" not in json.dumps(handoff_a), handoff_a["document"]
    assert b["incident_id"] != a["incident_id"] and b["namespace"] == B
