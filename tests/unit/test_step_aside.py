"""server/step_aside.py: the warm-up's yield points at its import statements, and what the import system says of who
waits for a module being imported."""

from __future__ import annotations

import builtins
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from incident_response.server import step_aside

WAIT = 30  # seconds: a bound for a thread already on its way, never a delay the test relies on


def until(check: Callable[[], bool]) -> bool:
    """A bounded wait for a condition no event reports (a thread blocked inside the import system)."""
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def test_only_the_registered_threads_import_statements_pause_and_the_hook_goes_away_after() -> None:
    original = builtins.__import__
    paused: list[str] = []
    others: list[int] = []

    def other_thread() -> None:
        import json  # noqa: F401

        others.append(threading.get_ident())

    with step_aside.at_imports(lambda: paused.append(threading.current_thread().name)):
        assert step_aside.installed()
        import json  # noqa: F401
        from os import path  # noqa: F401

        thread = threading.Thread(target=other_thread, name="other")
        thread.start()
        thread.join(WAIT)
        with pytest.raises(RuntimeError, match="already"):
            with step_aside.at_imports(lambda: None):
                pass
    assert paused == [threading.current_thread().name] * 2
    assert len(others) == 1  # the other thread imported without pausing
    assert builtins.__import__ is original and not step_aside.installed()


def test_two_threads_stepping_aside_at_once_restore_the_original_once_both_are_out() -> None:
    original = builtins.__import__
    inside, leave = threading.Event(), threading.Event()
    seen: list[str] = []

    def second() -> None:
        with step_aside.at_imports(lambda: seen.append("second")):
            inside.set()
            assert leave.wait(WAIT)
            import json  # noqa: F401

    thread = threading.Thread(target=second)
    with step_aside.at_imports(lambda: seen.append("first")):
        thread.start()
        assert inside.wait(WAIT)
    assert builtins.__import__ is not original  # the second thread is still inside
    leave.set()
    thread.join(WAIT)
    assert seen == ["second"]
    assert builtins.__import__ is original


def test_a_thread_waiting_for_a_module_another_imports_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The importer holds the module's lock while its body runs; a second importer of it waits for that lock, which
    `holds_a_module_lock_wanted` reads from the import system (the one wait the warm-up cannot be told of)."""
    events = SimpleNamespace(in_body=threading.Event(), finish=threading.Event())
    monkeypatch.setitem(sys.modules, "fl_test_events", events)  # type: ignore[arg-type]
    (tmp_path / "fl_slow_module.py").write_text(
        "import fl_test_events\nfl_test_events.in_body.set()\nassert fl_test_events.finish.wait(30)\nDONE = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fl_slow_module", raising=False)
    got: dict[str, object] = {}

    def importer() -> None:
        import fl_slow_module  # type: ignore[import-not-found]

        got["first"] = fl_slow_module.DONE

    def second() -> None:
        import fl_slow_module

        got["second"] = fl_slow_module.DONE

    first = threading.Thread(target=importer)
    first.start()
    assert events.in_body.wait(WAIT)
    assert first.ident is not None
    assert step_aside.holds_a_module_lock_wanted(first.ident) is False  # nobody waits for it yet
    waiter = threading.Thread(target=second)
    waiter.start()
    assert until(lambda: step_aside.holds_a_module_lock_wanted(first.ident or 0) is True)
    assert step_aside.holds_a_module_lock_wanted(threading.get_ident()) is False  # this thread holds none
    events.finish.set()
    first.join(WAIT)
    waiter.join(WAIT)
    assert got == {"first": True, "second": True}
    assert step_aside.holds_a_module_lock_wanted(first.ident) is False
