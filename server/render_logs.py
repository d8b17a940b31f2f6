"""The text of get_logs' lines: every distinct line once, compactly; the structured content keeps every line whole.

`kubectl logs --timestamps` lines start with an RFC 3339 UTC time. The text says the date once (again when it
changes) and each line's time of day; lines written at the same instant as the line before (a stack trace, a
multi-line message) are indented under it without their time. A run of repeats (one line, or a block of up to
MAX_PERIOD events, e.g. an error and its retry, or a whole trace) shows once, followed by how many times it came in
all and when the last came. An event of several lines seen earlier (the same trace again, between other lines) says
so in one line. Nothing else is left out: a log of all-distinct lines costs about what the lines do.

Column 0 is the server's: a date, a line's time, or a fold's note in parentheses. What the log says always follows
its time or is indented (a line written with the one before, a line without a time), so a log line cannot pass for a
fold's count or a time it was not written at.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# 2026-12-05T01:18:49.311774015Z (the kubelet's RFC 3339 with nanoseconds, UTC), then one space.
STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z ")
# The longest block (in events) whose consecutive repeats are folded.
MAX_PERIOD = 8


@dataclass(frozen=True)
class Event:
    """A line and the lines written at the same instant right after it (their messages, without the time)."""

    date: str | None
    time: str | None
    messages: tuple[str, ...]


def events(lines: Sequence[str]) -> list[Event]:
    out: list[Event] = []
    for line in lines:
        found = STAMP.match(line)
        date, time, message = (found[1], found[2], line[found.end() :]) if found else (None, None, line)
        last = out[-1] if out else None
        if found and last is not None and (last.date, last.time) == (date, time):
            out[-1] = Event(date, time, (*last.messages, message))
        else:
            out.append(Event(date, time, (message,)))
    return out


def repeats(items: Sequence[Event], start: int) -> tuple[int, int]:
    """(period, times): the shortest block starting at `start` that the next events repeat, and how many times the
    block comes in a row (1: no repeat)."""
    for period in range(1, MAX_PERIOD + 1):
        block = [e.messages for e in items[start : start + period]]
        if len(block) < period:
            break
        times = 1
        while [e.messages for e in items[start + times * period : start + (times + 1) * period]] == block:
            times += 1
        if times > 1:
            return period, times
    return 1, 1


def render_lines(lines: Sequence[str]) -> list[str]:
    items = events(lines)
    out: list[str] = []
    date: str | None = None
    seen: dict[tuple[str, ...], str] = {}  # a multi-line event's messages -> when it first came

    def show(event: Event) -> None:
        nonlocal date
        if event.date is not None and event.date != date:
            date = event.date
            out.append(f"{date}, UTC:")
        head, *rest = event.messages
        out.append(f"{event.time} {head}" if event.time is not None else f"  {head}")
        out.extend(f"  {message}" for message in rest)

    i = 0
    while i < len(items):
        period, times = repeats(items, i)
        event = items[i]
        if times == 1 and len(event.messages) > 1 and event.messages in seen:
            out.append(f"({event.time}: the {len(event.messages)} lines at {seen[event.messages]} again)")
            i += 1
            continue
        for shown in items[i : i + period]:
            show(shown)
            if len(shown.messages) > 1:
                seen.setdefault(shown.messages, str(shown.time))
        if times > 1:
            last = items[i + times * period - 1]
            what = "" if period == 1 and len(event.messages) == 1 else f"the {period_lines(items, i, period)} above "
            when = last.time if last.date == date else f"{last.date}T{last.time}"
            out.append(f"({what}x{times} in all, the last at {when})")
        i += period * times
    return out


def period_lines(items: Sequence[Event], start: int, period: int) -> str:
    count = sum(len(e.messages) for e in items[start : start + period])
    return f"{count} lines" if count > 1 else "line"
