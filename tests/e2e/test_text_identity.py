"""Issue 13, "nothing the model needs only in one half": a result's text keeps each table row's identity (review-assist
F2). The text left out every column whose values all appeared, as substrings, in the summary: verify_recovery's
DEGRADED text printed `checks: passed / no / no / no / no / yes` (which check passed?), top_nodes printed rows of
numbers without node names, assess's problems table lost the component, and a short answer such as `no` was "said"
by any word containing it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, make_env

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


def text_of(result: object) -> str:
    return "\n".join(getattr(c, "text", "") for c in getattr(result, "content", []))


def rows_under(text: str, label: str) -> list[list[str]]:
    """The table under `label:` (header first), cells split; stops at the next `field:` line."""
    lines = text.split("\n")
    start = lines.index(f"{label}:") + 1
    table: list[list[str]] = []
    for line in lines[start:]:
        if line.endswith(":") and " | " not in line:
            break
        if line.startswith("every row: "):
            continue
        table.append(line.split(" | "))
    return table


async def test_every_table_row_keeps_its_name_in_the_text(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("bad-deploy"), tmp_path / "state")
    async with Client(env.server("safe")) as client:
        verified = await client.call_tool("verify_recovery", {"namespace": "shop", "deployment": "checkout"})
        nodes = await client.call_tool("top_nodes", {})
        assessed = await client.call_tool("assess_namespace", {"namespace": "shop"})

    checks = (verified.structured_content or {})["checks"]
    assert (verified.structured_content or {})["verdict"] == "DEGRADED", text_of(verified)
    table = rows_under(text_of(verified), "checks")
    assert table[0][0] == "name", text_of(verified)
    # Each check's name with its own answer: the model reading the text can tell which one failed.
    assert {tuple(row[:2]) for row in table[1:]} == {(c["name"], "yes" if c["passed"] else "no") for c in checks}

    names = [n["name"] for n in (nodes.structured_content or {})["nodes"]]
    node_table = rows_under(text_of(nodes), "nodes")
    assert [row[0] for row in node_table] == ["name", *names], text_of(nodes)

    problems = (assessed.structured_content or {})["problems"]
    problem_table = rows_under(text_of(assessed), "problems")
    column = problem_table[0].index("components")
    assert [row[column] for row in problem_table[1:]] == [", ".join(p["components"]) for p in problems]


def test_said_is_a_whole_word_of_four_characters_or_more() -> None:
    from incident_response.server.render import said, table

    summary = "api-bad pods fail; no load pressure; deployment checkout has 0 restarts"
    assert not said("api", summary) and not said("no", summary) and not said(0, summary)
    assert said("checkout", summary) and not said("check", summary)
    # An identity column stays even when the summary names every row; an answer column the summary says goes.
    rows = [{"name": "checkout", "status": "restarts"}, {"name": "api-bad", "status": "restarts"}]
    assert table(rows, ("name", "status"), summary) == ["name", "checkout", "api-bad"]


async def test_a_node_under_memory_pressure_is_at_risk_with_its_pods_named(built: tuple[Env, Kubectl]) -> None:
    """review-assist F29: node-1 reports MemoryPressure (built with real kubectl: the sim's kubelet reports it), nothing
    fails yet. assess said NONE and top_nodes' text said nothing of it."""
    env, kubectl = built
    kubectl.run("annotate", "node", "node-1", f"{behaviors.NODE_CONDITION}=MemoryPressure")

    def pressed() -> bool:
        conditions = env.kube.get("nodes", "node-1", None)["status"]["conditions"]
        return any(c["type"] == "MemoryPressure" and c["status"] == "True" for c in conditions)

    await env.until(pressed)
    there = sorted(p["metadata"]["name"] for p in env.pods() if p["spec"].get("nodeName") == "node-1")
    assert there
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace="shop")
        nodes = await client.call_tool("top_nodes", {})
        first = assessed["problems"][0]
        plan = await call(client, first["next_tool"], **first["next_arguments"])
        evaluated = await call(client, "evaluate_decision", namespace="shop")

    assert (first["impact"], first["action"], first["next_tool"]) == ("at_risk", "ISOLATE", "cordon_node"), first
    assert first["next_arguments"] == {"node": "node-1"} and "MemoryPressure" in first["detail"], first
    assert all(pod in " ".join(assessed["decision"]["evidence"]) for pod in there), assessed["decision"]
    assert assessed["decision"]["next_tool"] == "cordon_node", assessed["summary"]
    # evaluate_decision agrees (it said TRY_INSTEAD SCALE: the node tree judges a failing node, this one is Ready).
    assert (evaluated["verdict"], evaluated["next_tool"], evaluated["next_arguments"]) == (
        "PROCEED",
        "cordon_node",
        {"node": "node-1"},
    ), evaluated["summary"]
    table = rows_under(text_of(nodes), "nodes")
    assert "pressure" in table[0] and "cpu_requests_percent" in table[0], text_of(nodes)
    (row,) = [r for r in table if r[0] == "node-1"]
    assert row[table[0].index("pressure")] == "MemoryPressure", text_of(nodes)
    # The oracle: kubectl runs the planned cordon; node-1 takes no new pods.
    kubectl.shell(plan["command"])
    assert env.kube.get("nodes", "node-1", None)["spec"].get("unschedulable") is True
