"""Tools are built one at a time, on first use or by the warm-up: a first call waits for at most the one tool the
warm-up is building, two first calls of one tool build it once, and the order of building changes no tool."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from incident_response.server import catalog, registration
from incident_response.server.config import Settings
from incident_response.server.lazy_tools import LIKELY_FIRST, LazyTools

WAIT = 30  # seconds: a bound for a thread that is already on its way, never a delay the test relies on


class SeenWaiting(threading.Condition):
    """The LazyTools' turn condition, which says when a thread starts waiting for its turn."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def recording(monkeypatch: pytest.MonkeyPatch, hold: Callable[[str], None] = lambda name: None) -> list[str]:
    """Every Builder.build, in order (`hold` runs first, in the building thread, while it has its turn)."""
    order: list[str] = []
    original = registration.Builder.build

    def build(self: registration.Builder, name: str) -> Any:
        hold(name)
        order.append(name)
        return original(self, name)

    monkeypatch.setattr(registration.Builder, "build", build)
    return order


@pytest.mark.parametrize("seed", [0, 1])
def test_any_order_of_building_gives_the_listed_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Tools returning the same model share the schema derived by whichever is built first: built in a shuffled
    order, with nothing derived before in this process, every tool is still what tools/list says."""
    monkeypatch.setattr(registration, "DERIVED", {})
    lazy = LazyTools(Settings(state_dir=tmp_path))
    names = list(lazy.names)
    random.Random(seed).shuffle(names)
    built = {name: lazy.tool(name) for name in names}
    for listed in lazy.listing:
        tool = built[listed.name]
        real = (tool.title, tool.description, tool.parameters, tool.output_schema, tool.annotations)
        assert (listed.title, listed.description, listed.input_schema, listed.output_schema, listed.annotations) == real
    assert lazy.built().tools == built  # built once: the same objects


def test_two_first_calls_of_one_tool_build_it_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lazy = LazyTools(Settings(state_dir=tmp_path))
    turn = SeenWaiting()
    lazy._turn = turn

    def hold(name: str) -> None:  # the first build goes on only once the second call waits for its turn
        assert turn.waiting.wait(WAIT)

    order = recording(monkeypatch, hold)
    got: list[Any] = []
    calls = [threading.Thread(target=lambda: got.append(lazy.tool("list_pods"))) for _ in range(2)]
    for call in calls:
        call.start()
    for call in calls:
        call.join(WAIT)
    assert order == ["list_pods"]
    assert len(got) == 2 and got[0] is got[1]


def test_a_call_during_the_warm_up_waits_for_one_tool_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm-up is building its first tool when a call arrives for a tool it would build last: the call's tool is
    built next, and the call has it while the warm-up still has ~35 tools to go."""
    lazy = LazyTools(Settings(state_dir=tmp_path))
    turn = SeenWaiting()
    lazy._turn = turn
    called = "rollback_deployment"
    assert called not in LIKELY_FIRST and set(LIKELY_FIRST) <= set(lazy.names)
    warm_up_building, call_done = threading.Event(), threading.Event()
    seen_when_called: list[str] = []

    def hold(name: str) -> None:
        if name == LIKELY_FIRST[0]:  # the warm-up's first tool: finished only once the call waits for its turn
            warm_up_building.set()
            assert turn.waiting.wait(WAIT)
        elif name != called:  # the warm-up's next tools: only after the call returned
            assert call_done.wait(WAIT)

    order = recording(monkeypatch, hold)
    warming = threading.Thread(target=lazy.warm_up)
    warming.start()

    def call() -> None:
        lazy.tool(called)
        seen_when_called.extend(order)
        call_done.set()

    caller = threading.Thread(target=call)
    assert warm_up_building.wait(WAIT)
    caller.start()
    caller.join(WAIT)
    warming.join(WAIT)
    assert seen_when_called == [LIKELY_FIRST[0], called]
    assert sorted(order) == sorted(lazy.names)  # the warm-up built every other tool, each once
    assert order[: len(LIKELY_FIRST) + 1] == [LIKELY_FIRST[0], called, *LIKELY_FIRST[1:]]


def test_a_tool_whose_build_failed_is_built_by_the_next_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed build publishes nothing and leaves no thread waiting: the next call builds the tool (a broken catalog
    entry fails by name, every time, as before)."""
    import dataclasses

    lazy = LazyTools(Settings(state_dir=tmp_path))
    good = catalog.CATALOG["list_pods"]
    monkeypatch.setitem(catalog.CATALOG, "list_pods", dataclasses.replace(good, module="tools.assess.events"))
    with pytest.raises(LookupError, match="tool list_pods"):
        lazy.tool("list_pods")
    monkeypatch.setitem(catalog.CATALOG, "list_pods", good)
    assert lazy.tool("list_pods").name == "list_pods"
    with pytest.raises(KeyError, match="not one of this server's tools"):
        LazyTools(Settings(state_dir=tmp_path, toolsets=("mitigate",))).tool("list_pods")


def test_the_warm_up_builds_nothing_while_a_call_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A call in flight does not share the interpreter with the warm-up: the tool the warm-up was building when the
    call came is finished, the next one waits for the call's end."""
    import anyio

    lazy = LazyTools(Settings(state_dir=tmp_path))
    turn = SeenWaiting()
    lazy._turn = turn
    warm_up_building, call_started = threading.Event(), threading.Event()
    built_during_call: list[str] = []

    def hold(name: str) -> None:
        if name == LIKELY_FIRST[0]:
            warm_up_building.set()
            assert call_started.wait(WAIT)

    order = recording(monkeypatch, hold)

    async def call_next(ctx: Any) -> Any:
        call_started.set()
        assert turn.waiting.wait(WAIT)  # the warm-up, done with its first tool, waits for its next turn
        built_during_call.extend(order)
        return "result"

    class Call:
        method = "tools/call"

    warming = threading.Thread(target=lazy.warm_up)
    warming.start()
    assert warm_up_building.wait(WAIT)
    assert anyio.run(lazy.middleware, Call(), call_next) == "result"
    warming.join(WAIT)
    assert built_during_call == [LIKELY_FIRST[0]]
    assert sorted(order) == sorted(lazy.names)
