"""Validation of label keys and values (k8s.io/apimachinery/pkg/util/validation) with the API server's texts, and the
error an unparsable or invalid selector raises.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import re

from .errors import ApiError, bad_request


class SelectorError(ValueError):
    """An unparsable or invalid selector; the HTTP layer answers it with 400 BadRequest."""

    def api_error(self) -> ApiError:
        return bad_request(str(self))


# ---------------------------------------------------------------------------------------------------------------
# Validation of label keys and values (k8s.io/apimachinery/pkg/util/validation), with the API server's texts.

_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile(f"^{_QNAME_FMT}$")
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = f"({_QNAME_FMT})?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_NAME_MAX = 63
_SUBDOMAIN_MAX = 253


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    # Same shape as validation.RegexError, double space after the commas included.
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _dns1123_subdomain_errors(value: str) -> list[str]:
    errs = []
    if len(value) > _SUBDOMAIN_MAX:
        errs.append(f"must be no more than {_SUBDOMAIN_MAX} characters")
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def qualified_name_errors(key: str) -> list[str]:
    """Errors of a label key (optional DNS subdomain prefix and '/', then a name), empty when valid."""
    parts = key.split("/")
    if len(parts) > 2:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    errs: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _dns1123_subdomain_errors(prefix))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > _NAME_MAX:
        errs.append(f"name part must be no more than {_NAME_MAX} characters")
    if not _QNAME_RE.match(name):
        errs.append("name part " + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def label_value_errors(value: str) -> list[str]:
    """Errors of a label value (may be empty), empty when valid."""
    errs = []
    if len(value) > _NAME_MAX:
        errs.append(f"must be no more than {_NAME_MAX} characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def invalid(path: str, value: object, detail: str) -> str:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    return f"{path}: Invalid value: {shown}: {detail}"
