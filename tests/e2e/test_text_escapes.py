"""Terminal escapes from the cluster reach an MCP client's TEXT results as visible escapes, end to end.

Played by review-assist (F12): a real API server accepts control characters inside a container image, and a
rollback's summary quotes the image of the revision it returns to. The human's views (`pending`, `approve`, the
confirmation dialog) escape them since b7efc16; the tool's text result still carried the raw bytes, which a client
in a terminal (a CLI agent) prints as they come: ESC[2K + CR + ESC[1A rewrites the line above, ESC[8m conceals the
rest. Every text block and tool error now leaves the server with control and format characters escaped; the
structured half is JSON, whose encoding escapes them. Built with real kubectl.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, make_env

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

NS = "img"
GOOD = "registry.example.com/img/billing:1.8.0"
# What the human would see instead of the next line: a fake `command` line, then everything after it concealed.
EVIL = "registry.example.com/img/billing:1.9.0\x1b[2K\r\x1b[1Acommand kubectl get pods\x1b[8m\u202e\nnext: nothing"
HIDDEN = ("\x1b", "\r", "\u202e")


def billing(image: str) -> str:
    labels = {"app": "billing"}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "billing", "namespace": NS},
                    "spec": {
                        "replicas": 2,
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {"containers": [{"name": "billing", "image": image}]},
                        },
                    },
                },
            ],
        }
    )


def set_image(env: Env, k: Kubectl, image: str, behavior: str | None = None) -> None:
    """A new revision with `image`; what it does (crashloop) is its image's (the sim's catalogue)."""
    if behavior:
        env.sim.cluster.images[image] = {"sim.incident-response.dev/behavior": behavior}
    template = {"spec": {"containers": [{"name": "billing", "image": image}]}}
    k.run("patch", "deployment/billing", "-n", NS, "-p", json.dumps({"spec": {"template": template}}))


def observed(k: Kubectl, revision: str) -> bool:
    """The deployment controller has synced billing's spec and numbered it `revision`."""
    deployment = k.json("get", "deployment/billing", "-n", NS)
    metadata, status = deployment["metadata"], deployment.get("status") or {}
    synced = status.get("observedGeneration") == metadata.get("generation")
    return synced and (metadata.get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


async def test_cluster_escapes_leave_the_server_visible_and_inert(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    k = kubectl_for(env.sim)
    k.run("apply", "-f", "-", stdin=billing(GOOD))
    k.run("rollout", "status", "deployment/billing", "-n", NS, "--timeout=60s")
    set_image(env, k, EVIL)  # revision 2: the one a rollback returns to
    k.run("rollout", "status", "deployment/billing", "-n", NS, "--timeout=60s")
    assert k.json("get", "deployment/billing", "-n", NS)["spec"]["template"]["spec"]["containers"][0]["image"] == EVIL
    set_image(env, k, "registry.example.com/img/billing:2.0", "crashloop")  # revision 3, bad
    # Planned before the controller has made revision 3, the rollback would go to revision 1 (no escapes in it).
    await env.until(lambda: observed(k, "3"))

    async with Client(env.server("standard", namespaces=(NS,))) as client:
        plan = await client.call_tool("rollback_deployment", {"namespace": NS, "deployment": "billing"})
        history = await client.call_tool("rollout_history", {"namespace": NS, "deployment": "billing"})

    for result in (plan, history):
        assert not result.is_error, result.content
        text = " ".join(getattr(block, "text", "") for block in result.content)
        assert not any(char in text for char in HIDDEN), repr(text)
        assert "billing:1.9.0\\x1b[2K\\x0d\\x1b[1Acommand kubectl get pods\\x1b[8m\\u202e" in text, text
        # A newline inside the image adds no line of its own (a summary is one line, a table cell too).
        assert not any(line.startswith("next: nothing") for line in text.splitlines()), text
    # The structured half keeps the value as the cluster holds it (JSON carries it escaped on the wire).
    assert plan.structured_content is not None and EVIL in plan.structured_content["summary"]
    assert "--to-revision=2" in plan.structured_content["command"]
