"""rollback_helm_release at its boundary: the argv, environment and context handed to the helm binary.

No helm binary is installed on our machines (and helm would need chart repositories besides), so a fake `helm`
placed first on PATH records what it was given; the planning side runs against the simulated cluster's `cart`
release (three revisions in helm's Secret format, revision 3 deployed).
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, approve_as_cli, call, make_env, refused
from support.plan_warnings import proses

from incident_response.sim.scenarios.helm import release_secret
from incident_response.sim.serve import RunningSim
from incident_response.tools.core import errors
from incident_response.tools.engine.journal import Journal
from incident_response.tools.k8s.helm_releases import HelmRevision
from incident_response.tools.mitigate.helm_rollback import pick_revision

pytestmark = pytest.mark.anyio

FAKE_HELM = """#!{python}
import json, os, sys
with open({log!r}, "a", encoding="utf-8") as f:
    f.write(json.dumps({{"argv": sys.argv, "env": dict(os.environ)}}) + "\\n")
print({output!r}, file=sys.stdout if {code} == 0 else sys.stderr)
sys.exit({code})
"""


@dataclass
class FakeHelm:
    binary: Path
    log: Path

    def runs(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]


def install_helm(folder: Path, monkeypatch: pytest.MonkeyPatch, *, code: int = 0) -> FakeHelm:
    folder.mkdir(parents=True, exist_ok=True)
    log, binary = folder / "runs.jsonl", folder / "helm"
    output = "Rollback was a success! Happy Helming!" if code == 0 else "Error: release cart failed: boom"
    binary.write_text(FAKE_HELM.format(python=sys.executable, log=str(log), output=output, code=code), "utf-8")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return FakeHelm(binary, log)


@pytest.fixture(autouse=True)
def no_helm_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    # The runner must ignore variables that would point helm at another cluster; set one to prove it.
    monkeypatch.delenv("INCIDENT_RESPONSE_HELM", raising=False)
    monkeypatch.setenv("HELM_KUBETOKEN", "from-the-parent-shell")
    monkeypatch.setenv("KUBECONFIG", "/somewhere/else")


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def expected_argv(env: Env, revision: int) -> list[str]:
    kubeconfig = str(env.server_kubeconfig or env.sim.kubeconfig_path)  # the server's own (support/deploy_identity)
    return ["helm", "rollback", "cart", str(revision), "-n", NS, "--kubeconfig", kubeconfig, "--kube-context", "sim"]


# --- choosing the revision (pure) ---------------------------------------------------------------------------------


def rows(*statuses: str) -> dict[int, HelmRevision]:
    return {
        n: HelmRevision(revision=n, status=s, chart=f"cart-1.4.{n}", app_version=None, updated=None, description=None)
        for n, s in enumerate(statuses, start=1)
    }


@pytest.mark.parametrize(
    "history, revision, deployed, target",
    [
        (("superseded", "superseded", "deployed"), None, 3, 2),
        (("superseded", "superseded", "deployed"), 1, 3, 1),
        # A failed upgrade: helm's default target is latest - 1, which here is the deployed one.
        (("superseded", "deployed", "failed"), 1, 2, 1),
    ],
)
def test_pick_revision_follows_helm(history: tuple[str, ...], revision: int | None, deployed: int, target: int) -> None:
    found, chosen = pick_revision("cart", rows(*history), revision)
    assert (found.revision, chosen) == (deployed, target)


@pytest.mark.parametrize(
    "history, revision, message",
    [
        (("superseded", "superseded", "deployed"), 7, "has no revision 7"),
        (("superseded", "superseded", "deployed"), 3, "is the deployed revision"),
        (("superseded", "deployed", "failed"), None, "is the deployed revision"),
        (("superseded", "deployed", "pending-upgrade"), 1, "operation in progress"),
        (("superseded", "failed"), 1, "no deployed revision"),
    ],
)
def test_pick_revision_refusals(history: tuple[str, ...], revision: int | None, message: str) -> None:
    with pytest.raises(errors.InvalidArgument, match=message):
        pick_revision("cart", rows(*history), revision)


# --- through an MCP client against the sim --------------------------------------------------------------------------


async def test_full_mode_runs_helm_with_the_exact_argv_env_and_context(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helm = install_helm(tmp_path / "bin", monkeypatch)
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
        assert plan["status"] == "pending" and plan["token"]
        assert shlex.split(plan["command"]) == expected_argv(env, 2) and plan["steps"] == [plan["command"]]
        assert shlex.split(plan["undo_command"]) == expected_argv(env, 3)
        assert plan["target"] == {"kind": "HelmRelease", "namespace": NS, "name": "cart", "uid": None}
        assert plan["risk"] == "mutation"
        assert {c["path"]: (c["before"], c["after"]) for c in plan["diff"]} == {
            "deployed_revision": (3, 4),
            "chart": ("cart-1.4.2", "cart-1.4.1"),
            "app_version": ("2.4.0", "2.3.1"),
        }
        assert "release metadata only" in proses(plan["warnings"])[0] and "unseen" in proses(plan["warnings"])[0]
        assert "image" not in json.dumps(plan)  # values and manifests never leave the server
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "succeeded", done
    assert done["steps"][0]["detail"] == "Rollback was a success! Happy Helming!"
    [run] = helm.runs()
    assert run["argv"] == [str(helm.binary), *expected_argv(env, 2)[1:]]
    assert run["env"]["KUBECONFIG"] == str(env.server_kubeconfig or env.sim.kubeconfig_path)
    assert "HELM_KUBETOKEN" not in run["env"] and run["env"]["PATH"] == os.environ["PATH"]


async def test_standard_mode_runs_helm_only_after_cli_approval(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helm = install_helm(tmp_path / "bin", monkeypatch)
    async with Client(env.server("standard")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart", revision=1)
        assert shlex.split(plan["command"]) == expected_argv(env, 1)
        waiting = await call(client, "confirm_command", token=plan["token"])
        assert waiting["status"] == "awaiting_approval" and helm.runs() == []
        assert approve_as_cli(env, plan["token"]) == "approved"
        done = await call(client, "confirm_command", token=plan["token"])
        assert done["status"] == "succeeded" and done["approval_channel"] == "cli"
        again = await call(client, "confirm_command", token=plan["token"])
    assert again["status"] == "used"
    assert [r["argv"][1:] for r in helm.runs()] == [expected_argv(env, 1)[1:]]


async def test_without_a_helm_binary_the_plan_is_blocked(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
        assert plan["status"] == "blocked" and plan["token"] is None
        assert (
            "`helm` is not on the server's PATH" in plan["next_step"] and "INCIDENT_RESPONSE_HELM" in plan["next_step"]
        )
        assert shlex.split(plan["command"]) == expected_argv(env, 2)  # still shown: a human may run it
        monkeypatch.setenv("INCIDENT_RESPONSE_HELM", str(tmp_path / "nope" / "helm"))
        named = await call(client, "rollback_helm_release", namespace=NS, release="cart")
        assert named["status"] == "blocked" and "is not an executable file" in named["next_step"]
    blocked = [e for e in Journal(env.state).events() if e.kind == "blocked"]
    assert len(blocked) == 2 and blocked[0].detail and "not on the server's PATH" in blocked[0].detail["reason"]


async def test_helm_gone_at_confirm_fails_and_runs_nothing(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helm = install_helm(tmp_path / "bin", monkeypatch)
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
        helm.binary.unlink()
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "failed" and "not on the server's PATH" in done["steps"][0]["detail"]
    assert helm.runs() == []


async def test_helm_exiting_non_zero_is_reported_unknown_with_its_error(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_helm(tmp_path / "bin", monkeypatch, code=1)
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
        done = await call(client, "confirm_command", token=plan["token"])
    # helm may have recorded a failed revision before giving up: the honest outcome is unknown, not "nothing changed".
    assert done["status"] == "unknown"
    assert "exited with status 1: Error: release cart failed: boom" in done["steps"][0]["detail"]
    assert "helm_history" in done["steps"][0]["detail"]


async def test_a_helm_upgrade_between_plan_and_confirm_makes_the_plan_stale(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helm = install_helm(tmp_path / "bin", monkeypatch)
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
        # What `helm upgrade` leaves behind: revision 3 superseded, a new revision 4 deployed.
        env.kube.patch(
            "secrets",
            "sh.helm.release.v1.cart.v3",
            {"metadata": {"labels": {"status": "superseded"}}},
            NS,
            patch_type="merge",
        )
        upgrade = release_secret(
            name="cart",
            namespace=NS,
            revision=4,
            status="deployed",
            chart="cart",
            chart_version="1.4.3",
            app_version="2.4.1",
            first_deployed="",
            last_deployed="",
            description="Upgrade complete",
            values={},
            manifest="",
        )
        env.kube.create("secrets", upgrade, NS)
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "stale" and helm.runs() == []
    assert any("cart.v4" in json.dumps(c["now"]) for c in done["changes"])


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"release": "cart", "revision": 9}, "has no revision 9"),
        ({"release": "cart", "revision": 3}, "is the deployed revision"),
        ({"release": "nope"}, "no helm release 'nope'"),
    ],
)
async def test_unknown_or_current_revisions_are_refused(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: dict[str, Any], message: str
) -> None:
    install_helm(tmp_path / "bin", monkeypatch)
    async with Client(env.server("full")) as client:
        assert message in await refused(client, "rollback_helm_release", namespace=NS, **arguments)


async def test_safe_mode_blocks_even_with_helm_available(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helm = install_helm(tmp_path / "bin", monkeypatch)
    async with Client(env.server("safe")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert plan["status"] == "blocked" and plan["token"] is None and plan["next_step"].startswith("Safe mode")
    assert helm.runs() == []
    annotations = tools["rollback_helm_release"].annotations
    assert annotations is not None and annotations.read_only_hint is True
