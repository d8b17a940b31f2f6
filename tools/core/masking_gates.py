"""A cheap test in front of each of masking's ~60 rules that says when the rule cannot match a text, so the rule's
regex is not run on it (most texts an answer masks are short names and numbers: no rule can match them).

Each gate is derived from its rule's own regex (parsed with the standard library's regex parser), never written by
hand, so a rule added or changed later gets its gate with it:
- the shortest text the regex can match (a 40-character AWS key is not in an 18-character pod name);
- strings one of which every match contains: `eyJ` for a JWT, `=` or `:` for `key=value`, `://` for URL userinfo.

A gate only ever says "cannot match" when the regex cannot: anything the derivation does not understand (a
backreference, a negated class, a large class) adds no condition. Texts are compared case-insensitively only when
they are ASCII: that is where Python's IGNORECASE and str.lower() agree (IGNORECASE also matches `K` for `k`,
the Kelvin sign). tests/unit/test_masking_gates.py checks on a large varied corpus that masking with the gates
equals masking without them.

Layer: tools.core.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

try:  # the standard library's regex parser: private, so a Python without it leaves every gate open
    from re import _constants as C  # type: ignore[attr-defined]  # noqa: N812  (the parser's opcodes)
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    _parser = None

# Sets of exact strings larger than this stop being tracked (the gate only gets weaker, never wrong).
_MAX_STRINGS = 24


@dataclass(frozen=True)
class Clause:
    """Every match contains one of `strings` (lowercase, compared with the lowercased text, when `folded`)."""

    strings: frozenset[str]
    folded: bool

    def holds(self, text: str, lowered: str | None) -> bool:
        if self.folded:
            if lowered is None:  # not ASCII: IGNORECASE may match characters str.lower() does not relate
                return True
            text = lowered
        return any(s in text for s in self.strings)


@dataclass(frozen=True)
class Gate:
    """When a rule can match a text at all: not when the text is shorter than its shortest match, nor when a clause
    fails."""

    min_length: int
    clauses: tuple[Clause, ...]

    def open(self, text: str, lowered: str | None) -> bool:
        return len(text) >= self.min_length and all(c.holds(text, lowered) for c in self.clauses)


@dataclass
class _Found:
    """What a piece of a regex says about the text it matches: the exact strings it can match (None: unknown or too
    many) and clauses every match satisfies."""

    exact: set[str] | None
    folded: bool
    clauses: list[Clause]


ALWAYS_OPEN = Gate(0, ())


def gate(pattern: re.Pattern[str]) -> Gate:
    """The rule's gate; one that is always open where the parser is missing or fails (masking is then as slow as
    before, never weaker; tests/unit/test_masking_gates.py fails so that it is noticed)."""
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        low, _high = parsed.getwidth()
        found = _sequence(parsed, bool(pattern.flags & re.IGNORECASE))
    except Exception:  # noqa: BLE001  (a parser of another Python version: no gate rather than no masking)
        return ALWAYS_OPEN
    clauses = [*found.clauses, *_flushed(found.exact, found.folded)]
    # The most selective first: `all()` stops at the first clause that fails.
    clauses.sort(key=lambda c: min(len(s) for s in c.strings), reverse=True)
    return Gate(int(low), tuple(dict.fromkeys(clauses)))


def _flushed(exact: set[str] | None, folded: bool) -> list[Clause]:
    if exact is None or "" in exact:  # nothing known, or the piece may match the empty string: no condition
        return []
    return [Clause(frozenset(exact), folded)]


def _sequence(items: Iterable[tuple[Any, Any]], folded: bool) -> _Found:
    """Consecutive exact pieces concatenate (`a`, `[bc]` -> {ab, ac}); a piece that is not exact, or that would make
    too many strings, ends the run, whose strings become a clause."""
    run, run_folded, whole = {""}, folded, True
    clauses: list[Clause] = []
    for op, av in items:
        piece = _piece(op, av, folded)
        clauses += piece.clauses
        if piece.exact is None:
            clauses += _flushed(run, run_folded)
            run, run_folded, whole = {""}, folded, False
            continue
        if run == {""}:
            joined: set[str] | None = piece.exact
            run_folded = piece.folded
        elif piece.exact == {""}:
            continue
        else:
            joined = {a + b for a, b in product(run, piece.exact)} if piece.folded == run_folded else None
        if joined is not None and len(joined) <= _MAX_STRINGS:
            run = joined
            continue
        clauses += _flushed(run, run_folded)
        run, run_folded, whole = set(piece.exact), piece.folded, False
    if whole:
        return _Found(run, run_folded, clauses)
    return _Found(None, folded, [*clauses, *_flushed(run, run_folded)])


def _char(code: int, folded: bool) -> str | None:
    char = chr(code)
    if folded:
        # Under IGNORECASE a non-ASCII letter may match ASCII text (the Kelvin sign matches `k`): not tracked.
        return char.lower() if char.isascii() else None
    return char


def _piece(op: Any, av: Any, folded: bool) -> _Found:
    unknown = _Found(None, folded, [])
    if op is C.LITERAL:
        char = _char(av, folded)
        return _Found({char}, folded, []) if char is not None else unknown
    if op is C.IN:
        chars: set[str] = set()
        for item_op, item_av in av:
            if item_op is C.LITERAL:
                codes: Sequence[int] = [item_av]
            elif item_op is C.RANGE and item_av[1] - item_av[0] < _MAX_STRINGS:
                codes = range(item_av[0], item_av[1] + 1)
            else:  # NEGATE, CATEGORY, a large range
                return unknown
            for code in codes:
                char = _char(code, folded)
                if char is None:
                    return unknown
                chars.add(char)
        return _Found(chars, folded, []) if len(chars) <= _MAX_STRINGS else unknown
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):  # zero width: matches the empty string wherever it holds
        return _Found({""}, folded, [])
    if op is C.SUBPATTERN:
        _group, add_flags, del_flags, body = av
        ignorecase = (folded or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _sequence(body, ignorecase)
    if op is C.ATOMIC_GROUP:
        return _sequence(av, folded)
    if op is C.BRANCH:
        return _branch([_sequence(alternative, folded) for alternative in av[1]], folded)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, body = av
        inner = _sequence(body, folded)
        if low == 0:
            if high == 1 and inner.exact is not None:  # optional: the body's strings or nothing
                return _Found({*inner.exact, ""}, inner.folded, [])
            return unknown
        # Repeated at least once: every match holds the body's clauses, and its exact strings as one more.
        clauses = [*inner.clauses, *_flushed(inner.exact, inner.folded)]
        if low == high == 1:
            return _Found(inner.exact, inner.folded, inner.clauses)
        return _Found(None, folded, clauses)
    return unknown  # ANY, NOT_LITERAL, CATEGORY, GROUPREF, GROUPREF_EXISTS, ...


def _branch(alternatives: list[_Found], folded: bool) -> _Found:
    """One alternative matches: the union of their exact strings; a clause only when every alternative has one."""
    if all(a.exact is not None for a in alternatives) and len({a.folded for a in alternatives}) == 1:
        union = set().union(*(a.exact or set() for a in alternatives))
        if len(union) <= _MAX_STRINGS:
            return _Found(union, alternatives[0].folded, [])
    best: list[Clause] = []
    for a in alternatives:
        own = [*a.clauses, *_flushed(a.exact, a.folded)]
        if not own:
            return _Found(None, folded, [])
        best.append(max(own, key=lambda c: min(len(s) for s in c.strings)))
    if len({c.folded for c in best}) == 1:
        return _Found(None, folded, [Clause(frozenset().union(*(c.strings for c in best)), best[0].folded)])
    # Mixed: a case-sensitive string found in the text is found, lowercased, in the lowercased text.
    strings = frozenset(s.lower() for c in best for s in c.strings)
    return _Found(None, folded, [Clause(strings, True)])


class Gates:
    """The gates of a set of rules, checked together: which rules' shortest match fits in the text (a bisection of
    the rules sorted by it), and which of their key strings the text holds (one scan each of the text and of its
    lowercased form, for all the rules at once), then the other clauses of the few rules left."""

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        gates = sorted(((gate(p), p) for p in patterns), key=lambda entry: entry[0].min_length)
        self._lengths = [g.min_length for g, _ in gates]
        # The rules that fit in a text of each length bucket: the first n rules.
        self._fitting = [frozenset(p for _, p in gates[:n]) for n in range(len(gates) + 1)]
        self._clauseless = frozenset(p for g, p in gates if not g.clauses)
        self._folded_rules = frozenset(p for g, p in gates if g.clauses and g.clauses[0].folded)
        exact: dict[str, set[re.Pattern[str]]] = {}
        folded: dict[str, set[re.Pattern[str]]] = {}
        for g, p in gates:
            if g.clauses:
                best = g.clauses[0]
                for s in best.strings:
                    (folded if best.folded else exact).setdefault(s, set()).add(p)
        self._other_clauses = {p: g.clauses[1:] for g, p in gates if len(g.clauses) > 1}
        self._exact, self._exact_rules = _finder(exact)
        self._folded, self._folded_strings = _finder(folded)

    def open(self, text: str) -> frozenset[re.Pattern[str]]:
        """The rules that may match `text` (the others cannot)."""
        fitting = self._fitting[bisect.bisect_right(self._lengths, len(text))]
        if not fitting:
            return fitting
        kept = self._clauseless.union(*map(self._exact_rules.__getitem__, self._exact.findall(text)))
        if not text.isascii():  # IGNORECASE may relate characters str.lower() does not (the Kelvin sign and `k`)
            kept |= self._folded_rules
        else:
            kept = kept.union(*map(self._folded_strings.__getitem__, self._folded.findall(text.lower())))
        kept &= fitting
        if not kept:
            return kept
        lowered = text.lower() if text.isascii() else None
        return frozenset(p for p in kept if all(c.holds(text, lowered) for c in self._other_clauses.get(p, ())))


def _finder(rules_of: dict[str, set[re.Pattern[str]]]) -> tuple[re.Pattern[str], dict[str, frozenset[re.Pattern[str]]]]:
    """One regex that reports every string of `rules_of` the text holds, overlaps included (a lookahead at every
    position where one of them can start), and for each string it reports, the rules of that string and of the
    strings it starts with (at one position only the longest string is reported)."""
    strings = sorted(rules_of)
    if not strings:
        return re.compile("(?!)"), {}
    starts = "".join(sorted({re.escape(s[0]) for s in strings}))
    finder = re.compile(f"(?=[{starts}])(?=({_trie(strings)}))")
    closed = {s: frozenset(p for t in strings if s.startswith(t) for p in rules_of[t]) for s in strings}
    return finder, closed


def _trie(strings: Iterable[str]) -> str:
    """A regex matching exactly `strings`, the longest one where several start at the same place, with their common
    prefixes shared (`ab(?:c|d)`): the regex engine then tries a few characters per position, not every string."""
    root: dict[str, Any] = {}
    for s in strings:
        node = root
        for char in s:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)
