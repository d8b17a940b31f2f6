"""A plan's text: its undo said against its command, its diff without what the summary states, its warnings brief.

An undo that is the command with one word changed says just that (`undo: the command with 512Mi -> 256Mi`); a diff
row whose before and after the summary states is not repeated, nor a created or deleted object the summary names,
and the same change to several objects is one line (`pod/{a,b}.metadata.labels.app: checkout -> -`). A warning is
said as `check: brief`: its detail (the evidence) is the structured content's.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import os
import re
from typing import Any

from incident_response.server.render_cells import cell, empty

Rows = list[Any]
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
        change = one_word_changed(text, value) or two_words_swapped(text, value)
        if change is not None and len(name) + len(change) + 30 < len(value):
            return f"{name} with {change}"
    return value


def two_words_swapped(base: str, value: str) -> str | None:
    """`a and b swapped` when `value` is `base` with every `a` written `b` and every `b` written `a`, and nothing else
    changed (a JSON-patch undo: test the new backend, put the old one back)."""
    mine, theirs = WORD.split(value), WORD.split(base)
    if len(mine) != len(theirs):
        return None
    changed = {i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b}
    if not changed or any(i % 2 == 0 for i in changed):
        return None  # nothing, or a separator, changed
    first = min(changed)
    old, new = theirs[first], mine[first]
    swap = {old: new, new: old}
    if any(
        (i in changed) != (word in swap) or (i in changed and mine[i] != swap[word])
        for i, word in enumerate(theirs)
        if i % 2
    ):
        return None
    return f"{old} and {new} swapped"


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
        path = path.removeprefix("metadata.")  # the object's own annotations and labels: `annotations.X`
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


def warning(item: Any) -> str:
    """A plan's warning as its text says it: `check: brief` (the structured content also has the detail:
    tools/core/plan_warnings.py); a string as it is."""
    if not isinstance(item, dict):
        return str(item)
    brief = str(item.get("brief") or "")
    return f"{item['check']}: {brief}" if item.get("check") else brief
