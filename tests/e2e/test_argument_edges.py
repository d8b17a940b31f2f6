"""Arguments that make no sense are refused before anything is planned, with a message naming the argument.

Each call goes through an MCP client to the server over a simulated cluster where the same call with a sane value
plans fine, so a refusal here is the argument's, not the cluster's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env

from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal

pytestmark = pytest.mark.anyio

HUGE = 10**30

# (tool, arguments, the argument the message must name)
POISON_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "switch_ingress_backend",
        {"namespace": NS, "ingress": "shop", "service": "checkout", "path": 1, "port": "x;id"},
        "port",
    ),
    (
        "switch_ingress_backend",
        {"namespace": NS, "ingress": "shop", "service": "checkout", "path": 1, "port": -1},
        "port",
    ),
    (
        "switch_ingress_backend",
        {"namespace": NS, "ingress": "shop", "service": "checkout", "path": 1, "port": HUGE},
        "port",
    ),
    (
        "switch_ingress_backend",
        {"namespace": NS, "ingress": "shop", "service": "checkout", "path": 1, "port": True},
        "port",
    ),
    ("switch_ingress_backend", {"namespace": NS, "ingress": "shop", "service": "checkout", "path": True}, "path"),
    ("remove_pods_from_service", {"namespace": NS, "service": "api", "selector": "app=api,version=bad,,"}, "selector"),
    ("remove_pods_from_service", {"namespace": NS, "service": "api", "selector": "app=api,,version=bad"}, "selector"),
    ("isolate_network", {"namespace": NS, "selector": "app=api,version=bad\n"}, "selector"),
    (
        "remove_pods_from_service",
        {"namespace": NS, "service": "api", "selector": "app=api,version=bad", "allow_no_endpoints": 1},
        "allow_no_endpoints",
    ),
]

OVERLOAD_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("scale_deployment", {"namespace": NS, "deployment": "api", "replicas": True}, "replicas"),
    ("scale_deployment", {"namespace": NS, "deployment": "api", "replicas": HUGE, "allow_large": True}, "replicas"),
    ("scale_deployment", {"namespace": NS, "deployment": "api", "replicas": 4.5}, "replicas"),
    ("scale_deployment", {"namespace": NS, "deployment": "api", "replicas": 4, "allow_large": "yes"}, "allow_large"),
    ("override_hpa", {"namespace": NS, "hpa": "web", "min_replicas": True, "max_replicas": 8}, "min_replicas"),
    ("override_hpa", {"namespace": NS, "hpa": "web", "min_replicas": 8, "max_replicas": HUGE}, "max_replicas"),
    # beyond the server's ceiling (100 by default) without allow_large
    ("override_hpa", {"namespace": NS, "hpa": "web", "min_replicas": 8, "max_replicas": 500}, "max_replicas"),
    ("rollback_deployment", {"namespace": NS, "deployment": "api", "to_revision": True}, "to_revision"),
]

OOM_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "set_memory_limit",
        {"namespace": NS, "deployment": "payments", "container": "payments", "limit": "768Mi\n"},
        "limit",
    ),
    (
        "set_memory_limit",
        {"namespace": NS, "deployment": "payments", "container": "payments", "limit": "-768Mi"},
        "limit",
    ),
]

CANARY_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "shift_traffic",
        {"namespace": NS, "from_deployment": "web-canary", "to_deployment": "web-stable", "replicas": 5000},
        "replicas",
    ),
    ("rollback_canary", {"namespace": NS, "app": "web", "stable_replicas": True}, "stable_replicas"),
    ("rollback_canary", {"namespace": NS, "app": "web", "stable_replicas": 5000}, "stable_replicas"),
]

SANE: dict[str, tuple[str, dict[str, Any]]] = {
    "poison": ("switch_ingress_backend", {"namespace": NS, "ingress": "shop", "service": "checkout", "path": 1}),
    "overload": ("override_hpa", {"namespace": NS, "hpa": "web", "min_replicas": 8, "max_replicas": 10}),
    "oom": ("set_memory_limit", {"namespace": NS, "deployment": "payments", "container": "payments", "limit": "768Mi"}),
    "canary": (
        "shift_traffic",
        {"namespace": NS, "from_deployment": "web-canary", "to_deployment": "web-stable", "replicas": 5},
    ),
}


@pytest.fixture
def start(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Callable[[str], Env]:
    def begin(scenario: str) -> Env:
        env = make_env(sim_factory(scenario), tmp_path / "state")
        if scenario == "canary":
            env.kube.delete("horizontalpodautoscalers", "web", NS)  # its max would refuse the shift on its own
        return env

    return begin


async def accepted_or_unnamed(client: Client, tool: str, arguments: dict[str, Any], argument: str) -> str | None:
    """None when the call is refused with a message naming `argument`; else what happened instead."""
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    if not result.is_error:
        return f"{tool} {arguments}: accepted ({(result.structured_content or {}).get('status')})"
    return None if argument in text else f"{tool} {arguments}: refused without naming {argument}: {text[:300]}"


@pytest.mark.parametrize(
    "scenario, cases",
    [("poison", POISON_CASES), ("overload", OVERLOAD_CASES), ("oom", OOM_CASES), ("canary", CANARY_CASES)],
    ids=["poison", "overload", "oom", "canary"],
)
async def test_nonsense_arguments_are_refused_naming_the_argument(
    start: Callable[[str], Env], scenario: str, cases: list[tuple[str, dict[str, Any], str]]
) -> None:
    env = start(scenario)
    async with Client(env.server("full")) as client:
        wrong = [await accepted_or_unnamed(client, tool, arguments, argument) for tool, arguments, argument in cases]
        assert [w for w in wrong if w] == []
        assert (await call(client, "list_pending_commands"))["commands"] == []
        assert Journal(env.state).commands() == []
        # The same tool with sane values plans: the refusals above were the arguments'.
        tool, arguments = SANE[scenario]
        assert (await call(client, tool, **arguments))["status"] == "pending"


async def test_a_megabyte_token_is_refused_without_being_echoed_or_journaled(start: Callable[[str], Env]) -> None:
    env = start("poison")
    token = "A" * 1_000_000
    async with Client(env.server("standard")) as client:
        for tool in ("confirm_command", "cancel_command"):
            result = await client.call_tool(tool, {"token": token})
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert result.is_error and "token" in text, text[:300]
            assert "A" * 64 not in text and len(text) < 2000, text[:300]
        odd = await client.call_tool("confirm_command", {"token": "abc;rm -rf /"})
        assert odd.is_error and "token" in " ".join(getattr(c, "text", "") for c in odd.content)
        # Other free-text arguments of the planners are bounded the same way.
        for tool, arguments, argument in [
            (
                "remove_pods_from_service",
                {"namespace": NS, "service": "api", "selector": "app=api,version=bad", "label": token},
                "label",
            ),
            ("isolate_network", {"namespace": NS, "selector": "app=api,version=bad", "name": token}, "name"),
        ]:
            result = await client.call_tool(tool, arguments)
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert result.is_error and argument in text, text[:300]
            assert "A" * 64 not in text and len(text) < 2000, text[:300]
    journal = Journal(env.state)
    assert all(len(repr(call.arguments)) < 1000 for call in journal.tool_calls())
    assert all(len(repr(event.detail)) < 1000 for event in journal.events())
