"""Least privilege, tested: the server runs as deploy/'s ServiceAccount and every tool works with what deploy/
grants, and nothing more is granted than the tools use.

Each group below starts a simulated cluster (HTTPS, RBAC enforced), applies deploy/ with real kubectl, mints the
ServiceAccount's token with `kubectl create token` and drives the tools through an MCP client with a server whose
kubeconfig carries only that token (team mode: the store on the Kubernetes API). The cluster records every
authorization decision about the ServiceAccount. A denied call fails the group (deploy/ lacks what a tool calls);
a rule of deploy/'s ClusterRoles that no recorded call used fails the coverage test (deploy/ grants what no tool
uses). Every tool of the catalogue must be called by some group, so a new tool cannot slip past.

Helm's records are Secrets, and listing them reads every Secret: that grant is the opt-in component
deploy/components/helm, so the Helm tools are called twice, refused (403 naming the opt-in) under deploy/ as
shipped and working under deploy/ with the component, whose rule the coverage test checks too.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import Client
from support import deploy_identity
from support.kubectl_runner import Kubectl
from support.mitigation_env import make_env
from support.texts import text_only

from incident_response.server.app import build_server
from incident_response.server.catalog import CATALOG
from incident_response.server.config import Settings
from incident_response.sim import rbac_defaults
from incident_response.sim.authz import Decision
from incident_response.sim.rbac import rule_matches
from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVER_NS = "incident-response"
SA = "incident-response-mcp"
USER = f"system:serviceaccount:{SERVER_NS}:{SA}"
NS = "shop"
# The ClusterRoles that grant the server what it does on the cluster; each of their rules must be used.
CLUSTER_ROLES = ("incident-response-mcp-read", "incident-response-mcp-mitigate", "incident-response-mcp-helm")
HELM_COMPONENT = DEPLOY / "components" / "helm"
STORE_ROLE = "incident-response-mcp-store"


@dataclass
class Session:
    sim: RunningSim
    client: Client
    called: set[str] = field(default_factory=set)

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        self.called.add(tool)
        result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, (tool, result.content)
        structured: dict[str, Any] | None = result.structured_content
        assert structured is not None or text_only(tool), tool
        return structured or {}

    async def refused(self, tool: str, **arguments: Any) -> str:
        """A call the server answers with an error (the text the model reads)."""
        self.called.add(tool)
        result = await self.client.call_tool(tool, arguments)
        assert result.is_error, (tool, result.structured_content)
        return " ".join(getattr(c, "text", "") for c in result.content)

    async def run(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Plan a mitigation and confirm it (full mode: the plan was shown; no approval step)."""
        plan = await self.call(tool, **arguments)
        assert plan["status"] == "pending", (tool, plan)
        done = await self.call("confirm_command", token=plan["token"])
        assert done["status"] == "succeeded", (tool, done)
        return done

    def admin(self, *args: str) -> None:
        """A change made by the cluster's admin (the scenario's setup, not a tool)."""
        assert self.sim.kubeconfig_path is not None
        Kubectl(self.sim.kubeconfig_path, self.sim.kubeconfig_path.parent / "admin-cache").run(*args)


async def bad_deploy(s: Session) -> None:
    info = await s.call("server_info", namespace=NS)
    # server_info's own account of the identity agrees with deploy/: every mitigation but Helm's confirm
    refused = sorted(p["mitigation"] for p in info["permissions"] if not p["allowed"])
    assert refused == ["rollback_helm_release"], info["permissions"]
    await s.call("assess_namespace", namespace=NS)
    await s.call("list_pods", namespace=NS)
    await s.call("rollout_history", namespace=NS, deployment="checkout")
    await s.call("rollout_status", namespace=NS, deployment="checkout", timeout_seconds=1)
    await s.call("top_pods", namespace=NS)
    await s.call("top_nodes")
    await s.call("list_hpas", namespace=NS)
    await s.call("get_endpoints", namespace=NS, service="checkout")
    await s.call("list_events", namespace=NS)
    await s.call("get_logs", namespace=NS, pod_or_deployment="checkout", tail_lines=5)
    await s.call("check_rollback_safety", namespace=NS, deployment="checkout")
    await s.call("evaluate_decision", namespace=NS, deployment="checkout")
    await s.call("declare_incident", namespace=NS, title="checkout crash-loops", severity="SEV2")
    await s.run("rollback_deployment", namespace=NS, deployment="checkout")
    await s.call("verify_recovery", namespace=NS, deployment="checkout")
    await s.run("pause_rollout", namespace=NS, deployment="checkout")
    paused = await s.call("list_temporary_measures")
    pause = next(m for m in paused["measures"] if m["tool"] == "pause_rollout")
    await s.run("restore_measure", measure_id=pause["measure_id"])
    await s.call("list_pending_commands")
    await s.call("list_temporary_measures")
    await s.call("incident_handoff", namespace=NS)


async def helm_refused(s: Session) -> None:
    """deploy/ as shipped: no Secret listing, so the Helm tools say 403 and which opt-in grants it."""
    for tool in ("helm_history", "rollback_helm_release"):
        text = await s.refused(tool, namespace=NS, release="cart")
        assert "forbidden" in text and "deploy/components/helm" in text and "every Secret" in text, (tool, text)


async def helm(s: Session) -> None:
    """deploy/ with the opt-in component deploy/components/helm."""
    await s.call("helm_history", namespace=NS, release="cart")
    # Helm's rollback runs the helm binary (not in the image; it would need the chart's own permissions):
    # only its plan's reads are the server's.
    await s.call("rollback_helm_release", namespace=NS, release="cart")


async def overload(s: Session) -> None:
    s.admin("create", "quota", "roomy", "-n", NS, "--hard=pods=1000")  # the scale's check reads LimitRanges too
    await s.run("scale_deployment", namespace=NS, deployment="api", replicas=5)
    await s.run("override_hpa", namespace=NS, hpa="web", min_replicas=8, max_replicas=10)


async def oom(s: Session) -> None:
    plan = await s.call("set_memory_limit", namespace=NS, deployment="payments", container="payments", limit="1Gi")
    await s.call("cancel_command", token=plan["token"])
    await s.run("set_memory_limit", namespace=NS, deployment="payments", container="payments", limit="768Mi")


async def poison(s: Session) -> None:
    await s.run("isolate_network", namespace=NS, selector="app=api,version=bad")
    measures = await s.call("list_temporary_measures")
    isolation = next(m for m in measures["measures"] if "isolat" in json.dumps(m).lower())
    # the bad pods are still there, so restoring needs saying so
    await s.run("restore_measure", measure_id=isolation["measure_id"], restore_despite_condition=True)
    await s.run("remove_pods_from_service", namespace=NS, service="api", selector="app=api,version=bad")
    await s.run("patch_service_selector", namespace=NS, service="api", selector="app=api,version=stable")
    await s.run("switch_ingress_backend", namespace=NS, ingress="shop", service="checkout", path=1)


async def canary(s: Session) -> None:
    s.admin("delete", "hpa", "web", "-n", NS)  # it would resize web-stable between plan and confirm (stale)
    await s.run("rollback_canary", namespace=NS, app="web")


async def canary_shift(s: Session) -> None:
    s.admin("delete", "hpa", "web", "-n", NS)
    await s.run("shift_traffic", namespace=NS, from_deployment="web-canary", to_deployment="web-stable", replicas=1)


async def node_failure(s: Session) -> None:
    pods = s.sim.store.values(PODS)
    victim = sorted(
        p["metadata"]["name"]
        for p in pods
        if p["metadata"].get("namespace") == NS and p["spec"].get("nodeName") == "node-2"
    )[0]
    await s.run("delete_pod", namespace=NS, pod=victim)
    await s.run("cordon_node", node="node-2")
    await s.run("drain_node", node="node-2")
    s.admin("cordon", "node-3")
    await s.run("uncordon_node", node="node-3")


async def bad_statefulset(s: Session) -> None:
    await s.call("rollout_history", namespace=NS, deployment="sessions", kind="statefulset")
    await s.call("check_rollback_safety", namespace=NS, deployment="sessions", kind="statefulset")
    await s.run("rollback_workload", namespace=NS, kind="statefulset", workload="sessions", to_revision=1)


async def bad_daemonset(s: Session) -> None:
    await s.run("rollback_workload", namespace=NS, kind="daemonset", workload="db-proxy", to_revision=1)


@dataclass(frozen=True)
class Group:
    scenario: str
    steps: Callable[[Session], Awaitable[None]]
    helm: bool = False  # deploy/ with the opt-in component deploy/components/helm
    denied: frozenset[str] = frozenset()  # the calls the cluster must deny (and no others)


GROUPS: dict[str, Group] = {
    "bad-deploy": Group("bad-deploy", bad_deploy),
    "helm-refused": Group("bad-deploy", helm_refused, denied=frozenset({f"list secrets.core in {NS}"})),
    "helm": Group("bad-deploy", helm, helm=True),
    "overload": Group("overload", overload),
    "oom": Group("oom", oom),
    "poison": Group("poison", poison),
    "canary": Group("canary", canary),
    "canary-shift": Group("canary", canary_shift),
    "node-failure": Group("node-failure", node_failure),
    "bad-statefulset": Group("bad-statefulset", bad_statefulset),
    "bad-daemonset": Group("bad-daemonset", bad_daemonset),
}


def with_helm(folder: Path) -> Path:
    """A kustomization outside deploy/ (kustomize forbids a base that contains its overlay) that is deploy/ plus
    the Helm component, as the component's own comment tells an operator to write it."""
    folder.mkdir(parents=True, exist_ok=True)
    base = os.path.relpath(DEPLOY, folder)  # kustomize refuses absolute paths
    text = f"resources:\n- {base}\ncomponents:\n- {base}/components/helm\n"
    (folder / "kustomization.yaml").write_text(text, encoding="utf-8")
    return folder


@dataclass
class Recorded:
    decisions: list[Decision]
    called: set[str]


@contextlib.contextmanager
def deployed(scenario: str, folder: Path, *, helm: bool = False) -> Iterator[tuple[RunningSim, Path]]:
    """A cluster with deploy/ applied (`helm`: with the Helm component), and a kubeconfig that authenticates as the
    server's ServiceAccount."""
    with run_sim(scenario, kubeconfig_path=folder / "admin.kubeconfig", tls=True) as sim:
        assert sim.kubeconfig_path is not None
        admin = Kubectl(sim.kubeconfig_path, folder / "cache")
        admin.run("apply", "-k", str(with_helm(folder / "overlay") if helm else DEPLOY))
        token = admin.run("create", "token", SA, "-n", SERVER_NS, "--duration=24h").stdout.strip()
        yield sim, sim.write_kubeconfig(folder / "server.kubeconfig", token)


class Recorder:
    """Runs each group once per module (on first ask) and keeps what it recorded."""

    def __init__(self, folder: Callable[[str], Path]) -> None:
        self.folder = folder
        self.done: dict[str, Recorded] = {}

    async def get(self, name: str) -> Recorded:
        if name not in self.done:
            self.done[name] = await self._run(name)
        return self.done[name]

    async def _run(self, name: str) -> Recorded:
        group = GROUPS[name]
        folder = self.folder(name)
        with deployed(group.scenario, folder, helm=group.helm) as (sim, kubeconfig):
            settings = Settings(
                mode="full",
                state_dir=folder / "state",
                cluster=ClusterSource(kubeconfig=kubeconfig, context=sim.context),
                store="kubernetes",
                store_namespace=SERVER_NS,
            )
            with sim.authz.recording() as decisions:
                async with Client(build_server(settings)) as client:
                    session = Session(sim, client)
                    await group.steps(session)
            # an access review's answer ("may I?", server_info asks) is not a call that needed the permission
            return Recorded([d for d in decisions if d.user == USER and not d.review], session.called)


@pytest.fixture(scope="module")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> Recorder:
    return Recorder(lambda label: tmp_path_factory.mktemp(label))


def _describe(d: Decision) -> str:
    a = d.attrs
    where = f" in {a.namespace}" if a.namespace else ""
    return f"{a.verb} {a.full_resource}.{a.group or 'core'}{' ' + a.name if a.name else ''}{where}"


@pytest.mark.parametrize("group", list(GROUPS))
async def test_every_call_of_the_tools_is_allowed_by_deploy(recorder: Recorder, group: str) -> None:
    recorded = await recorder.get(group)
    denied = {_describe(d) for d in recorded.decisions if not d.allowed}
    expected = GROUPS[group].denied
    assert denied >= expected, f"the cluster allowed what deploy/ must not grant: {sorted(expected - denied)}"
    assert denied <= expected, f"deploy/ does not grant the server's ServiceAccount what the tools call: {denied}"
    assert recorded.decisions  # the server did act as the ServiceAccount


@dataclass(frozen=True)
class Rule:
    role: str
    index: int
    body: dict[str, Any]
    namespace: str = ""  # a Role's: applies to requests in that namespace only

    def applies(self, d: Decision) -> bool:
        return (not self.namespace or d.attrs.namespace == self.namespace) and rule_matches(self.body, d.attrs)


def _server_rules(kustomization: Path = DEPLOY) -> list[Rule]:
    """Every rule the server's ServiceAccount holds: `kustomization`'s bindings of it, and what every authenticated
    identity gets (the cluster's default system:basic-user, system:discovery, system:public-info-viewer)."""
    out = subprocess.run(["kubectl", "kustomize", str(kustomization)], capture_output=True, text=True, check=True)
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    cluster_roles = {
        r["metadata"]["name"]: r
        for r in [*rbac_defaults.cluster_roles(), *docs]
        if r.get("kind", "ClusterRole") == "ClusterRole"
    }
    roles = {r["metadata"]["name"]: r for r in docs if r["kind"] == "Role"}
    rules: list[Rule] = []
    for binding in docs:
        if binding["kind"] not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        if not any(s.get("kind") == "ServiceAccount" and s.get("name") == SA for s in binding["subjects"]):
            continue
        ref = binding["roleRef"]
        role = cluster_roles[ref["name"]] if ref["kind"] == "ClusterRole" else roles[ref["name"]]
        namespace = binding["metadata"].get("namespace", "") if binding["kind"] == "RoleBinding" else ""
        rules += [Rule(ref["name"], i, body, namespace) for i, body in enumerate(role["rules"])]
    for name in ("system:basic-user", "system:discovery", "system:public-info-viewer"):
        rules += [Rule(name, i, body) for i, body in enumerate(cluster_roles[name]["rules"])]
    return rules


def _unneeded(rules: list[Rule], decisions: list[Decision], checked: Callable[[Rule], bool]) -> list[str]:
    """Each verb on each resource a checked rule grants that no recorded call needed: no call it covers would be
    denied without it (another rule of the ServiceAccount's does not cover that call too)."""
    allowed = [d for d in decisions if d.allowed]
    found = []
    for rule in filter(checked, rules):
        others = [r for r in rules if r != rule]
        for group in rule.body.get("apiGroups", []):
            for resource in rule.body.get("resources", []):
                for verb in rule.body.get("verbs", []):
                    narrow = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                    if rule.body.get("resourceNames"):
                        narrow["resourceNames"] = rule.body["resourceNames"]
                    part = Rule(rule.role, rule.index, narrow, rule.namespace)
                    if not any(part.applies(d) and not any(o.applies(d) for o in others) for d in allowed):
                        found.append(f"{rule.role}: {verb} {resource} ({group or 'core'})")
    return found


async def test_deploy_grants_nothing_the_tools_do_not_use(recorder: Recorder, tmp_path: Path) -> None:
    """Checked over deploy/ with the Helm component (its rule must be used too), and the store Role's Secret rules
    (the seal key's get and patch)."""
    decisions: list[Decision] = []
    called: set[str] = set()
    for group in GROUPS:
        recorded = await recorder.get(group)
        decisions += recorded.decisions
        called |= recorded.called
    assert set(CATALOG) <= called, f"tools no group calls (add them above): {sorted(set(CATALOG) - called)}"

    def checked(rule: Rule) -> bool:
        return rule.role in CLUSTER_ROLES or (rule.role == STORE_ROLE and "secrets" in rule.body.get("resources", []))

    unused = _unneeded(_server_rules(with_helm(tmp_path / "overlay")), decisions, checked)
    assert not unused, f"deploy/ grants what no tool needs: {unused}"


def test_deploy_as_shipped_grants_no_secret_listing() -> None:
    """The split: the Helm role is bound only by the opt-in component, and nothing else of deploy/ lists Secrets."""
    roles = {r.role for r in _server_rules()}
    assert "incident-response-mcp-read" in roles and "incident-response-mcp-helm" not in roles, roles
    lists = [r for r in _server_rules() if "secrets" in r.body.get("resources", []) and "list" in r.body["verbs"]]
    assert not lists, lists


async def test_the_e2e_identity_mode_serves_as_deploys_account(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """INCIDENT_RESPONSE_E2E_IDENTITY=deploy (support/deploy_identity.py) runs Env's servers as the ServiceAccount."""
    monkeypatch.setenv(deploy_identity.ENV, "deploy")
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    async with Client(env.server("full")) as client:
        info = await client.call_tool("server_info", {"namespace": NS})
    assert info.structured_content is not None
    assert info.structured_content["acting_as"] == USER
    assert env.kube.whoami() == "sim-admin"  # the test's own reads and setup stay the admin's
