"""Label selectors as the kube-apiserver parses and evaluates them (k8s.io/apimachinery/pkg/labels: the requirement
model, lexer, parser, error texts), and the constructors from a LabelSelector spec and from a Service-style map
(sim/selectors.py says which empty selector means what).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from .selector_validation import SelectorError, invalid, label_value_errors, qualified_name_errors

# ---------------------------------------------------------------------------------------------------------------
# Label selector model


class Operator(StrEnum):
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_SET_OPS = (Operator.IN, Operator.NOT_IN)
_EXACT_OPS = (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS)
_UNARY_OPS = (Operator.EXISTS, Operator.DOES_NOT_EXIST)
_NUMERIC_OPS = (Operator.GREATER_THAN, Operator.LESS_THAN)


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector; build it with ``new_requirement`` to get the API server's validation."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        op = self.operator
        if op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN):
            return present and value in self.values
        if op in (Operator.NOT_EQUALS, Operator.NOT_IN):
            return not present or value not in self.values
        if op is Operator.EXISTS:
            return present
        if op is Operator.DOES_NOT_EXIST:
            return not present
        return present and _compare_int(value, int(self.values[0]), op)

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.EXISTS:
            return self.key
        if op is Operator.DOES_NOT_EXIST:
            return "!" + self.key
        if op in _SET_OPS:
            return f"{self.key} {op.value} ({','.join(self.values)})"
        symbol = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, op.value)
        return f"{self.key}{symbol}{self.values[0]}"


def _compare_int(value: str, bound: int, op: Operator) -> bool:
    # Gt/Lt only match labels whose value is an integer, as in labels.Requirement.Matches.
    try:
        number = int(value)
    except ValueError:
        return False
    return number > bound if op is Operator.GREATER_THAN else number < bound


def new_requirement(key: str, operator: Operator, values: Iterable[str] = ()) -> Requirement:
    """Validate like labels.NewRequirement; set operators keep their values sorted and de-duplicated."""
    vals = list(values)
    if errs := qualified_name_errors(key):
        raise SelectorError(invalid("key", key, "; ".join(errs)))
    _check_value_count(operator, vals)
    for i, value in enumerate(vals):
        if errs := label_value_errors(value):
            raise SelectorError(invalid(f"values[{i}][{key}]", value, "; ".join(errs)))
    if operator in _SET_OPS:
        vals = sorted(set(vals))
    return Requirement(key, operator, tuple(vals))


def _check_value_count(operator: Operator, vals: list[str]) -> None:
    if operator in _SET_OPS and not vals:
        raise SelectorError("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty")
    if operator in _EXACT_OPS and len(vals) != 1:
        raise SelectorError(f"values: Invalid value: {vals}: exact-match compatibility requires one single value")
    if operator in _UNARY_OPS and vals:
        raise SelectorError(f"values: Invalid value: {vals}: values set must be empty for exists and does not exist")
    if operator in _NUMERIC_OPS:
        if len(vals) != 1:
            raise SelectorError("values: Invalid value: for 'Gt', 'Lt' operators, exactly one value is required")
        if not re.fullmatch(r"[+-]?[0-9]+", vals[0]):
            raise SelectorError(
                f"values[0]: Invalid value: \"{vals[0]}\": for 'Gt', 'Lt' operators, the value must be an integer"
            )


@dataclass(frozen=True)
class LabelSelector:
    """AND of requirements. ``matches_none`` is the labels.Nothing() selector (it prints as "", like upstream)."""

    requirements: tuple[Requirement, ...] = ()
    matches_none: bool = False

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(matches_none=True)

    @property
    def is_everything(self) -> bool:
        return not self.matches_none and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.matches_none:
            return False
        present = labels or {}
        return all(r.matches(present) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _sorted_selector(requirements: Iterable[Requirement]) -> LabelSelector:
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


# ---------------------------------------------------------------------------------------------------------------
# Label selector lexer and parser (labels/selector.go)


class _Tok(Enum):
    ERROR = "error"
    EOS = "end of string"
    CLOSED_PAR = ")"
    COMMA = ","
    DOES_NOT_EXIST = "!"
    DOUBLE_EQUALS = "=="
    EQUALS = "="
    GREATER_THAN = ">"
    IDENTIFIER = "identifier"
    IN = "in"
    LESS_THAN = "<"
    NOT_EQUALS = "!="
    NOT_IN = "notin"
    OPEN_PAR = "("


_SYMBOLS = {t.value: t for t in _Tok if t.value in {")", ",", "!", "==", "=", ">", "<", "!=", "("}}
_KEYWORDS = {"in": _Tok.IN, "notin": _Tok.NOT_IN}
_SPECIAL_CHARS = frozenset("=!(),><")
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"
_OPERATOR_OF = {
    _Tok.IN: Operator.IN,
    _Tok.NOT_IN: Operator.NOT_IN,
    _Tok.EQUALS: Operator.EQUALS,
    _Tok.DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
    _Tok.NOT_EQUALS: Operator.NOT_EQUALS,
    _Tok.GREATER_THAN: Operator.GREATER_THAN,
    _Tok.LESS_THAN: Operator.LESS_THAN,
}


def _lex(text: str) -> list[tuple[_Tok, str]]:
    items: list[tuple[_Tok, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _SPECIAL_CHARS:
            tok, lit, i = _scan_symbol(text, i)
            items.append((tok, lit))
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL_CHARS:
                i += 1
            word = text[start:i]
            items.append((_KEYWORDS.get(word, _Tok.IDENTIFIER), word))
    items.append((_Tok.EOS, ""))
    return items


def _scan_symbol(text: str, i: int) -> tuple[_Tok, str, int]:
    # Longest run of special characters that is still a known symbol, like Lexer.scanSpecialSymbol.
    buffer = ""
    best: tuple[_Tok, str, int] | None = None
    while i < len(text) and text[i] in _SPECIAL_CHARS:
        buffer += text[i]
        i += 1
        if buffer in _SYMBOLS:
            best = (_SYMBOLS[buffer], buffer, i)
        elif best is not None:
            break
    if best is None:
        return _Tok.ERROR, f"error expected: keyword found '{buffer}'", i
    return best


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def lookahead(self, values: bool = True) -> tuple[_Tok, str]:
        tok, lit = self.items[self.pos]
        # In a value (or key) position the keywords are plain identifiers.
        if values and tok in (_Tok.IN, _Tok.NOT_IN):
            tok = _Tok.IDENTIFIER
        return tok, lit

    def consume(self, values: bool = True) -> tuple[_Tok, str]:
        item = self.lookahead(values)
        if self.pos < len(self.items) - 1:
            self.pos += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead()
            if tok is _Tok.EOS:
                return requirements
            if tok not in (_Tok.IDENTIFIER, _Tok.DOES_NOT_EXIST):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.parse_requirement())
            except SelectorError as exc:
                raise SelectorError(f"unable to parse requirement: {exc}") from None
            tok, lit = self.consume()
            if tok is _Tok.EOS:
                return requirements
            if tok is not _Tok.COMMA:
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            nxt, nlit = self.lookahead()
            if nxt not in (_Tok.IDENTIFIER, _Tok.DOES_NOT_EXIST):
                raise SelectorError(f"found '{nlit}', expected: identifier after ','")

    def parse_requirement(self) -> Requirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator is not None:
            return new_requirement(key, operator)
        operator = self.parse_operator()
        values = self.parse_values() if operator in _SET_OPS else self.parse_exact_value()
        return new_requirement(key, operator, values)

    def parse_key_and_infer_operator(self) -> tuple[str, Operator | None]:
        operator: Operator | None = None
        tok, lit = self.consume()
        if tok is _Tok.DOES_NOT_EXIST:
            operator = Operator.DOES_NOT_EXIST
            tok, lit = self.consume()
        if tok is not _Tok.IDENTIFIER:
            raise SelectorError(f"found '{lit}', expected: identifier")
        if errs := qualified_name_errors(lit):
            raise SelectorError(invalid("<nil>", lit, "; ".join(errs)))
        if operator is None and self.lookahead()[0] in (_Tok.EOS, _Tok.COMMA):
            operator = Operator.EXISTS
        return lit, operator

    def parse_operator(self) -> Operator:
        tok, lit = self.consume(values=False)
        if tok not in _OPERATOR_OF:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        return _OPERATOR_OF[tok]

    def parse_values(self) -> list[str]:
        tok, lit = self.consume()
        if tok is not _Tok.OPEN_PAR:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead()
        if tok is _Tok.CLOSED_PAR:
            self.consume()
            return [""]
        if tok not in (_Tok.IDENTIFIER, _Tok.COMMA):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values = self.parse_identifiers_list()
        tok, _ = self.consume()
        if tok is not _Tok.CLOSED_PAR:
            raise SelectorError(f"found '{lit}', expected: ')'")
        return values

    def parse_identifiers_list(self) -> list[str]:
        # Empty slots between commas are empty-string values, as upstream: "a in (,x)" is {"", "x"}.
        values: list[str] = []
        while True:
            tok, lit = self.consume()
            if tok is _Tok.IDENTIFIER:
                values.append(lit)
                nxt, nlit = self.lookahead()
                if nxt is _Tok.COMMA:
                    continue
                if nxt is _Tok.CLOSED_PAR:
                    return values
                raise SelectorError(f"found '{nlit}', expected: ',' or ')'")
            if tok is not _Tok.COMMA:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")
            if not values:
                values.append("")
            nxt, _ = self.lookahead()
            if nxt is _Tok.CLOSED_PAR:
                values.append("")
                return values
            if nxt is _Tok.COMMA:
                self.consume()
                values.append("")

    def parse_exact_value(self) -> list[str]:
        tok, _ = self.lookahead()
        if tok in (_Tok.EOS, _Tok.COMMA):
            return [""]
        tok, lit = self.consume()
        if tok is not _Tok.IDENTIFIER:
            raise SelectorError(f"found '{lit}', expected: identifier")
        return [lit]


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a ``labelSelector`` query value; the empty string selects everything."""
    return _sorted_selector(_Parser(text).parse())


_SPEC_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def selector_from_spec(spec: Mapping[str, Any] | None, *, matches_nothing_if_empty: bool = False) -> LabelSelector:
    """A metav1.LabelSelector (``matchLabels`` and ``matchExpressions``) as a selector.

    None or {} selects everything (NetworkPolicy ``podSelector: {}``, workload selectors) unless
    ``matches_nothing_if_empty`` asks for the selects-nothing reading of an unset selector.
    """
    if not spec:
        return LabelSelector.nothing() if matches_nothing_if_empty else LabelSelector.everything()
    reqs = [new_requirement(k, Operator.EQUALS, [v]) for k, v in (spec.get("matchLabels") or {}).items()]
    for expr in spec.get("matchExpressions") or []:
        op_name = expr.get("operator")
        if op_name not in _SPEC_OPERATORS:
            raise SelectorError(f'"{op_name}" is not a valid label selector operator')
        reqs.append(new_requirement(expr.get("key", ""), _SPEC_OPERATORS[op_name], expr.get("values") or []))
    return _sorted_selector(reqs)


def selector_from_map(selector: Mapping[str, str] | None) -> LabelSelector:
    """A Service-style plain map selector (``spec.selector`` of a Service). Empty or absent selects nothing.

    Not validated: the map was validated when its object was stored, and a reconciler must not fail on it.
    """
    if not selector:
        return LabelSelector.nothing()
    return _sorted_selector(Requirement(k, Operator.EQUALS, (v,)) for k, v in selector.items())
