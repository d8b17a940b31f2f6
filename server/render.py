"""A tool result's text: the facts a human or a model reads at a glance (the summary, then lines and tables), not the
JSON again. The structured content carries every field for programs; issue 13 holds text plus structured content to
at most 1.35 times the larger of the two.

The text shows every field that has a value, except where a result model's `Hint` says which fields and which table
columns a reader needs (the rest are for programs: ids, fingerprints, raw timestamps, preconditions). A field whose
value the summary already states is not repeated, a truncation that cut nothing is not mentioned, and a table cell is
cut at CELL characters.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from incident_response.server.render_logs import render_lines

Rows = list[Any]
# A table of at least this many rows says a column with one value in every row once, above it.
SAME_ROWS = 3
# ...and the start and end all of a column's values share, when together at least this long.
SHARED_ENDS = 24
# A field holding a list of objects, rendered by a function of its rows and the summary (what is said already).
Special = Callable[[Rows, str], list[str]]
# Cells longer than this are cut (the structured content has them whole): a table stays readable at a glance.
CELL = 80


@dataclass(frozen=True)
class Hint:
    # The top-level fields the text shows, in order (None: all of them, in the model's order).
    fields: tuple[str, ...] | None = None
    # For a field holding a list of objects: the columns of its table (default: every column with a value).
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # For a field holding a list of objects: rendered by this function instead of as a table.
    special: Mapping[str, Special] = field(default_factory=dict)
    # Shorter names for fields in the text.
    labels: Mapping[str, str] = field(default_factory=dict)
    # A field left out when this other field has a value (a token says the plan is pending; without one, the next
    # step says why it is blocked).
    unless: Mapping[str, str] = field(default_factory=dict)
    # A field shown under another field's value as its label (a blocked plan's `blocked: why`), which then is not
    # shown on its own.
    titled: Mapping[str, str] = field(default_factory=dict)
    # A command field shown relative to another (an undo that is the command with one word changed says only that).
    relative: Mapping[str, str] = field(default_factory=dict)
    # Table columns said whole, never cut at CELL (what a human must see exactly: a pending command).
    whole: frozenset[str] = frozenset()


def render(model_name: str, data: Mapping[str, Any]) -> str:
    """The text of a result dumped as JSON-ready data (`summary` first)."""
    hint = HINTS.get(model_name, Hint())
    summary = str(data.get("summary") or "")
    lines = [summary] if summary else []
    shown = hint.fields if hint.fields is not None else [k for k in data if k != "summary"]
    for name in shown:
        value = data.get(name)
        if empty(value) or said(value, summary) or (isinstance(value, dict) and value.get("truncated") is False):
            continue
        if name in hint.unless and not empty(data.get(hint.unless[name])):
            continue
        if name in hint.titled.values() and not empty(data.get(title_of(hint, name))):
            continue
        if name in hint.titled and isinstance(value, str) and not empty(data.get(hint.titled[name])):
            lines.append(f"{data[hint.titled[name]]}: {value}")
            continue
        if name in hint.special and isinstance(value, list):
            if rendered := hint.special[name](value, summary):
                lines += [f"{hint.labels.get(name, name)}:", *rendered]
        elif name in hint.relative and isinstance(value, str):
            base = hint.relative[name]
            lines.append(f"{hint.labels.get(name, name)}: {relative(value, data.get(base), base)}")
        else:
            lines += render_field(hint.labels.get(name, name), value, hint.columns.get(name), summary, hint.whole)
    return "\n".join(lines)


def title_of(hint: Hint, name: str) -> str:
    """The field titled by `name`'s value."""
    return next(titled for titled, title in hint.titled.items() if title == name)


def empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def said(value: Any, summary: str) -> bool:
    """A scalar the summary already states."""
    return isinstance(value, str | int | float) and not isinstance(value, bool) and str(value) in summary


WORD = re.compile(r"([\w.-]+)")


def relative(value: str, base: Any, base_name: str) -> str:
    """`value` said as `base` (or one of its `&&` steps) with one word changed (`the command with 2 -> 3`), when the
    base has that word once and saying so is much shorter; else `value` whole."""
    if not isinstance(base, str):
        return value
    steps = base.split(" && ")
    bases = [(base, f"the {base_name}")]
    if len(steps) > 1:
        bases += [(step, f"step {i} of the {base_name}") for i, step in enumerate(steps, 1)]
    for text, name in bases:
        if (change := one_word_changed(text, value)) is not None and len(name) + len(change) + 30 < len(value):
            return f"{name} with {change}"
    return value


def one_word_changed(base: str, value: str) -> str | None:
    """`old -> new` (with its `--flag=`) when `value` is `base` with one word, unique in base, changed."""
    mine, theirs = WORD.split(value), WORD.split(base)
    if len(mine) != len(theirs):
        return None
    changed = [i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b]
    if len(changed) != 1 or changed[0] % 2 == 0 or theirs.count(theirs[changed[0]]) != 1:
        return None  # a separator changed, or more than one word, or the word is not unique in the base
    i = changed[0]
    if i >= 3 and theirs[i - 1] == "=" and theirs[i - 2].startswith("-"):
        return f"{theirs[i - 2]}={theirs[i]} -> {mine[i]}"  # --to-revision=1 -> 2
    if i >= 3 and len(theirs[i]) < 3:  # a short word says which with the word before it: `cart 2 -> cart 3`
        lead = theirs[i - 2] + theirs[i - 1]
        return f"{lead}{theirs[i]} -> {lead}{mine[i]}"
    return f"{theirs[i]} -> {mine[i]}"


def render_field(
    name: str, value: Any, columns: Sequence[str] | None, summary: str = "", whole: frozenset[str] = frozenset()
) -> list[str]:
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return [f"{name}:", *table(value, columns, summary, whole)]
    if isinstance(value, str) and "\n" in value:
        return [f"{name}:", value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value) and len(", ".join(value)) > CELL:
        if len(value) == 1 and name.endswith("s"):
            return [f"{name[:-1]}: {value[0]}"]  # one warning, on one line
        return [f"{name}:", *(f"- {item}" for item in value)]  # whole: warnings and questions are not cut
    if isinstance(value, str):
        return [f"{name}: {value}"]
    if isinstance(value, list) and len(value) == 1 and name.endswith("s"):
        return [f"{name[:-1]}: {cell(value[0])}"]
    return [f"{name}: {cell(value)}"]


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None,
    summary: str = "",
    whole: frozenset[str] = frozenset(),
) -> list[str]:
    """Header, then one line per row, cells separated by ' | '; columns empty in every row, or whose every value the
    summary states, are left out. Cells are cut at CELL characters, except in the `whole` columns (what the model
    must read: an event's message)."""
    keys = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
    keys = [k for k in keys if any(not empty(row.get(k)) for row in rows)]
    keys = [k for k in keys if not all(said(row.get(k), summary) for row in rows)] or keys[:1]

    def cut(text: str, k: str) -> str:
        return text if k in whole else cut_cell(text)

    if len(rows) < SAME_ROWS:
        return [" | ".join(keys), *(" | ".join(cut(flat(row.get(k)), k) for k in keys) for row in rows)]
    # What every row has in a column is said once, above the table: a whole value, or the start and end all the
    # values share (`Readiness probe failed: Get "http://10.244.…:8080/healthz": …`, the rows then the middle).
    said_once: list[str] = []
    shown: dict[str, list[str]] = {}
    middles: set[str] = set()  # columns whose cells are the part between a shared start and end
    for k in keys:
        values = [flat(row.get(k)) for row in rows]
        start, end = shared_ends(values)
        if len(set(values)) == 1 and len(keys) > 1:
            said_once.append(f"{k} {cut(values[0], k)}")
        elif len(start) + len(end) >= SHARED_ENDS and all(" " in v for v in values):  # prose, not names to copy
            said_once.append(f"{k} {start}…{end}")
            shown[k] = [cut(v[len(start) : len(v) - len(end)] or "-", k) for v in values]
            middles.add(k)
        else:
            shown[k] = [cut(v, k) for v in values]
    if not shown:  # every row alike: the table is their one value per column
        return [" | ".join(keys), " | ".join(cut(flat(rows[0].get(k)), k) for k in keys) + f" (x{len(rows)})"]
    head = ["every row: " + ", ".join(said_once)] if said_once else []
    columns_shown = [k for k in keys if k in shown]
    return [
        *head,
        " | ".join(f"{k} …" if k in middles else k for k in columns_shown),
        *(" | ".join(shown[k][i] for k in columns_shown) for i in range(len(rows))),
    ]


def shared_ends(values: Sequence[str]) -> tuple[str, str]:
    """The start and the end every value shares, each ending (starting) at a word's edge; none for equal values."""
    if len(set(values)) <= 1:
        return "", ""
    start = os.path.commonprefix(list(values))
    start = start[: max((i + 1 for i, c in enumerate(start) if not c.isalnum()), default=0)]
    rest = [v[len(start) :] for v in values]
    end = os.path.commonprefix([v[::-1] for v in rest])[::-1]
    end = end[min((i for i, c in enumerate(end) if not c.isalnum()), default=len(end)) :]
    return start, end


def cell(value: Any) -> str:
    """A value on one line: lists comma-separated, objects as key=value, nothing as '-'; cut at CELL characters."""
    return cut_cell(flat(value))


def flat(value: Any) -> str:
    """A value on one line, whole."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if empty(value):
        return "-"
    if isinstance(value, list):
        text = ", ".join(cell(item) for item in value)
    elif isinstance(value, dict):
        text = " ".join(f"{k}={cell(v)}" for k, v in value.items() if not empty(v))
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("\n", " ")


def cut_cell(text: str) -> str:
    """`text` cut at CELL characters, between words."""
    if len(text) <= CELL:
        return text
    # Cut between words: a cut word could read as a token (and be masked as one) where the whole one does not.
    # Nor end on a key's colon: `credentials: …` reads as a masked value.
    head = text[: CELL - 2].rsplit(" ", 1)[0] if " " in text[: CELL - 2] else text[: CELL - 2]
    while head.endswith((":", "=")) and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head + " …"


def events(rows: Rows, summary: str = "") -> list[str]:
    """Warnings in a table; the other events as reason x count (a rollout's usual story)."""
    warnings = [row for row in rows if row.get("type") == "Warning"]
    columns = ("reason", "object", "count", "last_seen", "message")
    lines = table(warnings, columns, whole=frozenset({"message"})) if warnings else []  # the why, whole
    counts: dict[str, int] = {}
    for row in rows:
        if row.get("type") != "Warning":
            reason = str(row.get("reason"))
            counts[reason] = counts.get(reason, 0) + int(row.get("count") or 1)
    if counts:
        lines.append("other events: " + ", ".join(f"{reason} x{count}" for reason, count in counts.items()))
    return lines


def diff(rows: Rows, summary: str = "") -> list[str]:
    """`path: before -> after`; an object created shows as created (the command shows it), and an after sharing a
    long start with its before shows only where it differs. A change whose before and after the summary both states
    (`256Mi -> 512Mi`) is not repeated, and the same change to several objects is one line
    (`pod/{a,b}.metadata.labels.app: checkout -> -`)."""
    changes: list[tuple[str, str]] = []
    words = {word.rstrip(".") for word in WORD.findall(summary)}
    for row in rows:
        before, after = row.get("before"), row.get("after")
        if all(stated(v, summary, words) for v in (before, after)):
            continue
        named = str(row.get("path")).rpartition("/")[2] in words
        if (empty(before) and isinstance(after, dict) or after == "deleted") and named:
            continue  # the summary names the object it creates or deletes
        if empty(before) and isinstance(after, dict):
            change = "created"
        else:
            old, new = cell(before), cell(after)
            shared = len(os.path.commonprefix([old, new]))
            change = f"{old} -> {'…' + new[shared:] if shared >= 16 else new}"
        path = str(row.get("path")).removeprefix("spec.template.spec.")  # a workload's pod template
        changes.append((path.replace("spec.template.metadata.", "template ", 1), change))
    return grouped(changes)


def grouped(changes: list[tuple[str, str]]) -> list[str]:
    """`kind/NAME.rest: change` lines; those with the same kind, rest and change as one, the names in braces."""
    lines: list[tuple[str, str, str, list[str]]] = []  # head, tail, change, names
    at: dict[tuple[str, str, str], int] = {}
    for path, change in changes:
        kind, slash, rest = path.partition("/")
        name, dot, tail = rest.partition(".")
        if not (slash and name):  # no object name to group by: a line of its own
            lines.append((path, "", change, [""]))
        elif (key := (kind + slash, dot + tail, change)) in at:
            lines[at[key]][3].append(name)
        else:
            at[key] = len(lines)
            lines.append((*key, [name]))
    return [
        f"{head}{'{' + ','.join(names) + '}' if len(names) > 1 else names[0]}{tail}: {change}"
        for head, tail, change, names in lines
    ]


def stated(value: Any, summary: str, words: set[str]) -> bool:
    """A scalar the summary states: as a word of its own (`3`, `512Mi`), or a longer value anywhere in it."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return False
    return str(value) in words or (len(str(value)) >= 6 and str(value) in summary)


def names(column: str) -> Special:
    """One line: that column of every row."""

    def render_names(rows: Rows, summary: str = "") -> list[str]:
        return [", ".join(cell(row.get(column)) for row in rows)]

    return render_names


# A pending plan's next step is the same recipe every time: the server's instructions carry it, with the approve
# command. A blocked plan's says why it is blocked.
PLAN_FIELDS = ("status", "token", "command", "undo_command", "diff", "warnings", "next_step")

HINTS: dict[str, Hint] = {
    "Assessment": Hint(
        ("problems", "problem_pods", "recent_rollouts", "hpas_at_max", "not_readable"),
        {"problems": ("rank", "impact", "detail", "next_tool"), "problem_pods": ("name", "status", "restarts", "age"),
         "recent_rollouts": ("deployment", "revision", "minutes_ago", "images"),
         "hpas_at_max": ("name", "current_replicas", "max_replicas")},
    ),
    "PodList": Hint(("pods", "truncation"), {"pods": ("name", "ready", "status", "restarts", "age")}),
    "RolloutHistory": Hint(("revisions", "detail"), {"revisions": ("revision", "images", "current")}),
    "RolloutStatus": Hint(("state", "failing_pods"), {"failing_pods": ("name", "status", "restarts")}),
    "TopPods": Hint(
        ("pods", "truncation"),
        {"pods": ("name", "cpu", "memory", "cpu_percent_of_limit", "memory_percent_of_limit")},
    ),
    "TopNodes": Hint(("nodes",), {"nodes": ("name", "ready", "cpu_percent", "memory_percent", "pods")}),
    "HpaList": Hint(("hpas",), {"hpas": ("name", "current_replicas", "max_replicas", "at_max")}),
    "ServiceEndpoints": Hint(("ready", "not_ready"), special={"ready": names("pod"), "not_ready": names("pod")}),
    "EventList": Hint(("events", "truncation"), special={"events": events}),
    "PodLogs": Hint(("lines",), special={"lines": lambda lines, _: render_lines([str(line) for line in lines])}),
    "HelmHistory": Hint(("revisions",), {"revisions": ("revision", "status", "chart")}),
    "RollbackSafety": Hint(("items", "questions_for_human", "next_step"), {"items": ("check", "status")}),
    "DecisionEvaluation": Hint(("steps", "question", "answer_with", "cautions"), {"steps": ("question", "answer")}),
    "RecoveryReport": Hint(("checks", "recheck_at"), {"checks": ("name", "passed")}),
    "Handoff": Hint(("document",)),
    "ServerInfo": Hint(("permissions",), {"permissions": ("mitigation", "allowed")}),
    "Proposal": Hint(
        PLAN_FIELDS,
        special={"diff": diff},
        labels={"undo_command": "undo", "next_step": "next"},
        unless={"status": "token", "next_step": "token"},
        titled={"next_step": "status"},
        relative={"undo_command": "command"},
    ),
    "MeasureList": Hint(("measures",), {"measures": ("measure_id", "restore_command")}),
    "CommandResult": Hint(
        ("status", "message", "applied_steps", "failed_step", "undo_applied", "changes"),
        {"changes": ("path", "planned", "now")},
    ),
    "PendingList": Hint(("commands",), {"commands": ("token", "state", "command")}, whole=frozenset({"command"})),
    "Declaration": Hint(("outcome", "warnings")),
}  # fmt: skip
