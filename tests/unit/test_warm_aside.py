"""The warm-up stays out of a tool call's way (server/lazy_tools.py, server/warm_steps.py): what a first call reads
is prepared before any tool is built, a step under way stops at its next import while a call runs, and goes on at
once when the call waits for something the step holds (the build turn, a module it is importing)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from incident_response.server import lazy_tools, warm_steps
from incident_response.server.config import Settings
from incident_response.server.lazy_tools import LIKELY_FIRST, LazyTools
from incident_response.server.warm_steps import Step

WAIT = 30  # seconds: a bound for a thread already on its way, never a delay the test relies on
READ_PATH = (
    "the tools' shared code",
    "the tools' dependencies",
    "masking",
    "the Kubernetes client's import",
    "the cluster's configuration",
    "the journal",
    "GET /version",
    "a made-up pod list",
)


class SeenWaiting(threading.Condition):
    """The LazyTools' turn condition, which says when a thread starts waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


class Call:
    method = "tools/call"


@pytest.fixture
def lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LazyTools:
    # Only the events below may end a step's standing aside: never the time limit (a loaded machine must not pass a
    # test whose waiting is broken, nor fail one that works).
    monkeypatch.setattr(lazy_tools, "ASIDE_LIMIT", 3600.0)
    tools = LazyTools(Settings(state_dir=tmp_path))
    tools._turn = SeenWaiting()
    return tools


def only(monkeypatch: pytest.MonkeyPatch, *given: Step) -> None:
    monkeypatch.setattr(warm_steps, "steps", lambda builder, build, names: list(given))


def warming(lazy: LazyTools) -> threading.Thread:
    # daemon: if the warm-up and a call ever waited for each other, the test fails (below) instead of hanging
    thread = threading.Thread(target=lazy.warm_up, name="warm-up", daemon=True)
    thread.start()
    return thread


def call(lazy: LazyTools, body: Callable[[], Any]) -> Any:
    """A tool call through the middleware (counted as running while `body` runs), in a thread of its own; it must end
    within WAIT."""
    got: list[Any] = []

    async def call_next(ctx: Any) -> Any:
        return body()

    thread = threading.Thread(target=lambda: got.append(anyio.run(lazy.middleware, Call(), call_next)), daemon=True)
    thread.start()
    thread.join(WAIT)
    assert got, "the call did not end: it and the warm-up wait for each other"
    return got[0]


def ended(thread: threading.Thread) -> bool:
    thread.join(WAIT)
    return not thread.is_alive()


def test_what_a_first_call_reads_is_prepared_before_any_tool_is_built(
    lazy: LazyTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    monkeypatch.setattr(LazyTools, "_warm", lambda self, step: order.append(step.what))
    lazy.warm_up()
    assert tuple(order[: len(READ_PATH)]) == READ_PATH
    tools = [what.removeprefix("tool ") for what in order if what.startswith("tool ")]
    assert tools[: len(LIKELY_FIRST)] == list(LIKELY_FIRST)
    assert sorted(tools) == sorted(lazy.names)
    # Each tool's module is imported (outside the build turn) just before the tool is built.
    for name in lazy.names:
        assert order.index(f"{name}'s module") + 1 == order.index(f"tool {name}")


def test_a_step_stops_at_its_next_import_while_a_call_runs(lazy: LazyTools, monkeypatch: pytest.MonkeyPatch) -> None:
    turn = lazy._turn
    assert isinstance(turn, SeenWaiting)
    in_step, call_running = threading.Event(), threading.Event()
    trail: list[str] = []

    def step() -> None:
        in_step.set()
        assert call_running.wait(WAIT)
        import json  # noqa: F401  (where the step stands aside)

        trail.append("the step's next line")

    def body() -> str:
        call_running.set()
        assert turn.waiting.wait(WAIT)  # the warm-up waits for this call's end
        trail.append("the call's end")
        return "result"

    only(monkeypatch, Step("test", step, aside=True, turn=False))
    thread = warming(lazy)
    assert in_step.wait(WAIT)
    assert call(lazy, body) == "result"
    assert ended(thread)
    assert trail == ["the call's end", "the step's next line"]


def test_a_step_that_may_not_stand_aside_does_not(lazy: LazyTools, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connecting holds Deps' lock and the read a pooled connection: such steps run whole."""
    in_step, call_running, step_done = threading.Event(), threading.Event(), threading.Event()

    def step() -> None:
        in_step.set()
        assert call_running.wait(WAIT)
        import json  # noqa: F401

        step_done.set()

    def body() -> bool:
        call_running.set()
        return step_done.wait(WAIT)  # the step ends while the call runs

    only(monkeypatch, Step("test", step, aside=False, turn=True))
    thread = warming(lazy)
    assert in_step.wait(WAIT)
    assert call(lazy, body) is True
    assert ended(thread)


def test_a_step_stands_aside_no_longer_than_its_limit(lazy: LazyTools, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ASIDE_LIMIT (here none at all) the step finishes alongside the call: a wait the step cannot see (some
    library's lock it holds) costs a call that long at most."""
    monkeypatch.setattr(lazy_tools, "ASIDE_LIMIT", 0.0)
    in_step, call_running, step_done = threading.Event(), threading.Event(), threading.Event()

    def step() -> None:
        in_step.set()
        assert call_running.wait(WAIT)
        import json  # noqa: F401

        step_done.set()

    def body() -> bool:
        call_running.set()
        return step_done.wait(WAIT)

    only(monkeypatch, Step("test", step, aside=True, turn=False))
    thread = warming(lazy)
    assert in_step.wait(WAIT)
    assert call(lazy, body) is True
    assert ended(thread)


def test_a_step_holding_the_build_turn_goes_on_when_a_call_waits_for_it(
    lazy: LazyTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call whose tool is not built yet waits for the build turn the step holds: the step must not wait for that
    call (each would wait for the other), it finishes, and the call builds its tool."""
    turn = lazy._turn
    assert isinstance(turn, SeenWaiting)
    in_step, call_running = threading.Event(), threading.Event()
    trail: list[str] = []

    def step() -> None:
        in_step.set()
        assert call_running.wait(WAIT)
        assert turn.waiting.wait(WAIT)  # the call waits for the turn
        import json  # noqa: F401

        trail.append("the step's end")

    def body() -> str:
        call_running.set()
        tool = lazy.tool("list_pods")
        trail.append("the call's tool")
        return tool.name

    only(monkeypatch, Step("test", step, aside=True, turn=True))
    thread = warming(lazy)
    assert in_step.wait(WAIT)
    assert call(lazy, body) == "list_pods"
    assert ended(thread)
    assert trail == ["the step's end", "the call's tool"]


def test_a_step_goes_on_when_a_call_waits_for_a_module_it_is_importing(
    lazy: LazyTools, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The step stands aside inside a module's import; the call then imports that module and waits for its lock.
    The import system tells no one: the step sees it (step_aside.holds_a_module_lock_wanted) and finishes the
    module, and the call gets it whole."""
    events = SimpleNamespace(in_body=threading.Event(), call_running=threading.Event())
    monkeypatch.setitem(sys.modules, "fl_warm_events", events)  # type: ignore[arg-type]
    (tmp_path / "fl_warm_module.py").write_text(
        "import fl_warm_events\n"
        "fl_warm_events.in_body.set()\n"
        "assert fl_warm_events.call_running.wait(30)\n"
        "import json  # the step stands aside here, holding this module's lock\n"
        "WHOLE = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fl_warm_module", raising=False)

    def step() -> None:
        import fl_warm_module  # type: ignore[import-not-found]  # noqa: F401

    def body() -> bool:
        events.call_running.set()
        import fl_warm_module

        return bool(fl_warm_module.WHOLE)

    only(monkeypatch, Step("test", step, aside=True, turn=False))
    thread = warming(lazy)
    assert events.in_body.wait(WAIT)
    assert call(lazy, body) is True
    assert ended(thread)
    assert not thread.is_alive()


def test_no_step_starts_while_a_call_runs(lazy: LazyTools, monkeypatch: pytest.MonkeyPatch) -> None:
    turn = lazy._turn
    assert isinstance(turn, SeenWaiting)
    in_first, call_running = threading.Event(), threading.Event()
    trail: list[str] = []

    def first() -> None:
        in_first.set()
        assert call_running.wait(WAIT)
        trail.append("first")

    def body() -> str:
        call_running.set()
        assert turn.waiting.wait(WAIT)  # the warm-up, done with its first step, waits to start the next
        trail.append("the call")
        return "result"

    only(
        monkeypatch,
        Step("first", first, aside=False, turn=False),
        Step("second", lambda: trail.append("second"), aside=False, turn=False),
    )
    thread = warming(lazy)
    assert in_first.wait(WAIT)
    assert call(lazy, body) == "result"
    assert ended(thread)
    assert trail == ["first", "the call", "second"]


def test_a_failing_step_is_logged_and_the_next_one_runs(
    lazy: LazyTools, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("broken on purpose")

    only(
        monkeypatch,
        Step("a broken step", broken, aside=True, turn=False),
        Step("the next", lambda: ran.append("next"), aside=True, turn=True),
    )
    with caplog.at_level(logging.ERROR, logger="incident_response.server"):
        lazy.warm_up()
    assert ran == ["next"]
    assert [r.getMessage() for r in caplog.records] == ["warming up (a broken step) failed"]
