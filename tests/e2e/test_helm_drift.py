"""rollback_helm_release when the failing change was made outside helm (review-assist F25), end to end.

Built incident: the shop's cart is helm release cart (revisions 1-3, deployed 3 = cart 2.4.0). Someone hot-fixed it
by hand, `kubectl set image deployment/cart cart=...:2.3.2-hotfix`, and the hot-fix crash-loops. helm still records
revision 3 as deployed: `helm rollback cart` (helm's default, the revision before) would go to 2.3.1, past the
release that worked. The plan compares the live workload with the deployed revision's manifest and re-applies
revision 3 instead (`helm rollback cart 3`), saying why; its undo sets the hot-fix image back, which real kubectl
takes. Asked for revision 2 explicitly, it plans that, warning that it goes past the deployed release.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env
from support.plan_warnings import proses

from incident_response.server import budget
from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

REGISTRY = "registry.example.com/shop"
HOTFIX = f"{REGISTRY}/cart:2.3.2-hotfix"
RELEASED = f"{REGISTRY}/cart:2.4.0"


@pytest.fixture
def built(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> tuple[Env, Kubectl]:
    sim = sim_factory("healthy")
    env, kubectl = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    sim.cluster.images[HOTFIX] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}  # the hot-fix crash-loops
    kubectl.run("set", "image", "deployment/cart", f"cart={HOTFIX}", "-n", NS)
    # the re-apply is the default only once the hot-fix is seen failing (until then, which side is good is unknown)
    assert sim.cluster.run_until(lambda: any(restarted(p) for p in env.pods("app=cart") if image_of(p) == HOTFIX), 40)
    return env, kubectl


@pytest.fixture
def helm_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in helm (none is installed here): planning needs only that one is there to run."""
    folder = tmp_path / "bin"
    folder.mkdir()
    binary = folder / "helm"
    binary.write_text(f"#!{sys.executable}\nprint('Rollback was a success! Happy Helming!')\n", "utf-8")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("INCIDENT_RESPONSE_HELM", raising=False)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")


def helm_args(command: str) -> list[str]:
    argv = shlex.split(command)
    return argv[: argv.index("-n")]


async def test_a_hotfix_made_with_kubectl_is_rolled_back_by_reapplying_the_deployed_release(
    built: tuple[Env, Kubectl],
) -> None:
    env, kubectl = built
    async with Client(env.server("safe")) as client:
        result = await client.call_tool("rollback_helm_release", {"namespace": NS, "release": "cart"})
    text, structured = budget.result_bytes(result)
    assert (text + structured) / max(text, structured) <= budget.RESULT_OVERLAP_LIMIT, (text, structured)
    plan = result.structured_content
    assert plan is not None and helm_args(plan["command"]) == ["helm", "rollback", "cart", "3"], plan
    assert "; its pods on it fail (cart-" in proses(plan["warnings"])[0], proses(plan["warnings"])
    assert plan["summary"].startswith("Re-apply helm release cart's deployed revision 3"), plan["summary"]
    warning = proses(plan["warnings"])[0]  # the images are the diff's (below)
    assert warning.startswith("deployment cart's image was changed outside helm (by kubectl-set at "), warning
    assert "rolling back to 2 would go past it" in warning and "2.3.1" in warning, warning
    changes = {c["path"]: (c["before"], c["after"]) for c in plan["diff"]}
    assert changes["deployment/cart.spec.template.spec.containers[cart].image"] == (HOTFIX, RELEASED)
    assert changes["deployed_revision"] == (3, 4) and "app_version" not in changes
    # What helm's re-apply leaves (the release's image), then the plan's undo run by a human: the hot-fix is back.
    kubectl.run("set", "image", "deployment/cart", f"cart={RELEASED}", "-n", NS)
    kubectl.shell(plan["undo_command"])
    assert env.get("deployments", "cart")["spec"]["template"]["spec"]["containers"][0]["image"] == HOTFIX


async def test_an_explicit_revision_past_the_deployed_release_is_planned_with_a_warning(
    built: tuple[Env, Kubectl],
) -> None:
    env, _ = built
    async with Client(env.server("safe")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart", revision=2)
    assert helm_args(plan["command"]) == ["helm", "rollback", "cart", "2"], plan["command"]
    assert helm_args(plan["undo_command"]) == ["helm", "rollback", "cart", "3"], plan["undo_command"]
    warning = proses(plan["warnings"])[0]
    assert HOTFIX in warning and "goes past the deployed release" in warning and "revision=3" in warning, warning


@pytest.mark.usefixtures("helm_on_path")
async def test_the_reapply_is_stale_once_the_workload_changed_again(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
        assert plan["status"] == "pending" and helm_args(plan["command"])[-1] == "3"
        kubectl.run("set", "image", "deployment/cart", f"cart={RELEASED}", "-n", NS)  # a human fixed it meanwhile
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "stale", done


async def test_without_drift_the_default_stays_helms(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    async with Client(env.server("safe")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
    assert helm_args(plan["command"]) == ["helm", "rollback", "cart", "2"], plan["command"]
    assert not any("outside helm" in w for w in proses(plan["warnings"])), proses(plan["warnings"])


async def test_an_image_helm_itself_wrote_is_no_drift(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """An admission webhook rewrote the image helm sent (a registry mirror): the image differs from the manifest,
    but its field manager is helm's own. No change was made outside helm: the default stays helm's, revision 2."""
    sim = sim_factory("healthy")
    env, kubectl = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    mirrored = "mirror.internal/shop/cart:2.4.0"
    kubectl.run("set", "image", "deployment/cart", f"cart={mirrored}", "-n", NS, "--field-manager=helm")
    async with Client(env.server("safe")) as client:
        plan = await call(client, "rollback_helm_release", namespace=NS, release="cart")
    assert helm_args(plan["command"]) == ["helm", "rollback", "cart", "2"], plan["command"]
    assert not any("outside helm" in w for w in proses(plan["warnings"])), proses(plan["warnings"])


async def test_the_assessment_rolls_the_hotfix_back_and_says_helm_is_not_the_way(built: tuple[Env, Kubectl]) -> None:
    """assess_namespace rolls deployment cart back (to revision 3, 2.4.0); evaluate_decision's Helm caution no longer
    says to prefer rollback_helm_release 'if the bad change came from a helm upgrade': it says it did not."""
    env, _ = built
    await env.until(lambda: any(restarted(p) for p in env.pods("app=cart") if image_of(p) == HOTFIX), 40)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        walked = await call(client, "evaluate_decision", namespace=NS)
    assert assessed["decision"]["next_tool"] == "rollback_deployment", assessed["summary"]
    assert assessed["decision"]["next_arguments"]["deployment"] == "cart", assessed["summary"]
    assert walked["verdict"] == "PROCEED" and walked["next_tool"] == "rollback_deployment", walked["summary"]
    note = walked["cautions"][0]
    assert "its image was last set outside helm (by kubectl-set at " in note, walked["cautions"]
    assert "kubectl rollout undo brings back what helm deployed" in note, note


def image_of(pod: dict[str, Any]) -> str:
    return str(pod["spec"]["containers"][0]["image"])


def restarted(pod: dict[str, Any]) -> bool:
    return bool((pod["status"].get("containerStatuses") or [{}])[0].get("restartCount"))
