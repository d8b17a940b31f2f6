"""rollback_helm_release when the change made outside helm was the fix, end to end.

Built incident: the shop's cart is helm release cart (deployed revision 3 = cart 2.4.0), and 2.4.0 crash-loops (its
pods were replaced and fail: BackOff). Someone fixed it by hand, `kubectl set image deployment/cart
cart=...:2.3.2-hotfix`, and the hot-fix runs healthy. helm still records revision 3 as deployed. The drift default
re-applied revision 3 (`helm rollback cart 3`): the bad release, undoing the fix. Now the planner reads which side is
healthy (the live pods on the hot-fix; the release's pods before it) and picks no revision by default: it says what
it found and asks for an explicit one; an explicit revision that undoes the healthy fix is planned with a warning
saying so. While the hot-fix is not settled yet (no pod on it), which side is good is not known: no default either.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, ready, refused
from support.plan_warnings import proses
from support.result_rule import budgeted

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio

REGISTRY = "registry.example.com/shop"
HOTFIX = f"{REGISTRY}/cart:2.3.2-hotfix"
RELEASED = f"{REGISTRY}/cart:2.4.0"


def image_of(pod: dict[str, Any]) -> str:
    return str(pod["spec"]["containers"][0]["image"])


def helm_args(command: str) -> list[str]:
    argv = shlex.split(command)
    return argv[: argv.index("-n")]


async def bad_release(built: tuple[Env, Kubectl]) -> tuple[Env, Kubectl]:
    """cart's deployed release (2.4.0) crash-loops once its pods are replaced, with BackOff events on them."""
    env, kubectl = built
    sim = env.sim
    sim.cluster.images[RELEASED] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    kubectl.run("delete", "pods", "-l", "app=cart", "-n", NS, "--wait=false")

    def backing_off() -> bool:
        warnings = env.kube.list("events", NS, field_selector="type=Warning").items
        return any(
            e.get("reason") == "BackOff" and str(e["involvedObject"].get("name", "")).startswith("cart-")
            for e in warnings
        )

    await env.until(backing_off, 60)
    return env, kubectl


async def test_a_healthy_fix_made_outside_helm_is_not_undone_by_default(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = await bad_release(built)
    kubectl.run("set", "image", "deployment/cart", f"cart={HOTFIX}", "-n", NS)

    def fixed() -> bool:
        pods = [p for p in env.pods("app=cart") if not p["metadata"].get("deletionTimestamp")]
        return env.observed("cart") and len(pods) == 2 and all(image_of(p) == HOTFIX and ready(p) for p in pods)

    await env.until(fixed, 60)

    async with Client(env.server("safe")) as client:
        text = await refused(client, "rollback_helm_release", namespace=NS, release="cart")
        assert text.startswith(
            f"will not pick a revision of helm release cart by default: deployment cart runs {HOTFIX} in container "
            f"cart, not the deployed release's {RELEASED}: changed outside helm (by kubectl-set at "
        ), text
        assert (
            f"deployment cart's 2 pods on {HOTFIX} are all Ready, none failing: the change made outside helm looks "
            "like the fix, and re-applying revision 3 would undo it" in text
        ), text
        assert f"its pods on the release's {RELEASED} failed before the change (BackOff x" in text, text
        assert "revision=3 re-applies the release (undoing that change), revision=2 (chart cart-" in text, text
        assert "app 2.3.1) goes back further" in text, text

        # The human chose: re-apply revision 3 anyway. Planned, saying what it undoes.
        again = await budgeted(client, "rollback_helm_release", namespace=NS, release="cart", revision=3)
        assert helm_args(again["command"]) == ["helm", "rollback", "cart", "3"], again["command"]
        assert proses(again["warnings"])[0] == (
            "This undoes a change made outside helm whose pods all run Ready; the release's pods failed before it: "
            "approve only if the human chose to undo it"
        ), proses(again["warnings"])
        changes = {c["path"]: (c["before"], c["after"]) for c in again["diff"]}
        assert changes["deployment/cart.spec.template.spec.containers[cart].image"] == (HOTFIX, RELEASED)
        older = await budgeted(client, "rollback_helm_release", namespace=NS, release="cart", revision=2)
        assert proses(older["warnings"])[0].startswith(
            "This undoes a change made outside helm whose pods all run Ready"
        ), older

    # the re-apply's undo, run by a human with real kubectl, puts the fix back
    kubectl.run("set", "image", "deployment/cart", f"cart={RELEASED}", "-n", NS)
    kubectl.shell(again["undo_command"])
    assert env.get("deployments", "cart")["spec"]["template"]["spec"]["containers"][0]["image"] == HOTFIX


async def test_no_default_while_the_change_has_not_settled(built: tuple[Env, Kubectl]) -> None:
    """The change was just made: no pod runs it yet, so which side is healthy is not known."""
    env, kubectl = await bad_release(built)
    async with env.held():
        kubectl.run("set", "image", "deployment/cart", f"cart={HOTFIX}", "-n", NS)
        async with Client(env.server("safe")) as client:
            text = await refused(client, "rollback_helm_release", namespace=NS, release="cart")
    assert f"deployment cart has 0 of 2 pods Ready on {HOTFIX} so far, none failing yet" in text, text
    assert "which side is healthy is not known yet (check rollout_status, then plan again)" in text, text
    assert f"its pods on the release's {RELEASED} failed before the change" in text, text


async def test_a_healthy_change_outside_helm_is_not_called_the_fix_when_the_release_never_failed(
    built: tuple[Env, Kubectl],
) -> None:
    """cart's release runs fine; someone sets an image by hand (an unreviewed change that also runs Ready). Nothing
    shows the release failed, so the refusal does not call the change 'the fix' (review-landed7: it did)."""
    env, kubectl = built
    by_hand = f"{REGISTRY}/cart:2.4.0-debug"
    kubectl.run("set", "image", "deployment/cart", f"cart={by_hand}", "-n", NS)

    def settled() -> bool:
        pods = [p for p in env.pods("app=cart") if not p["metadata"].get("deletionTimestamp")]
        return env.observed("cart") and len(pods) == 2 and all(image_of(p) == by_hand and ready(p) for p in pods)

    await env.until(settled, 60)
    async with Client(env.server("safe")) as client:
        text = await refused(client, "rollback_helm_release", namespace=NS, release="cart")
    assert "looks like the fix" not in text, text
    assert (
        "are all Ready, none failing, and nothing shows the release failed before it: a fix or a change nobody "
        "reviewed (ask who made it), and re-applying revision 3 would undo it" in text
    ), text
