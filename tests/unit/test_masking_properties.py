"""Property tests of the masker's edges: idempotent, never shows a planted credential whatever surrounds it, never
touches plain text or this server's own tokens, and keeps the shape of structured data."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.secrets_corpus import CREDENTIALS, LOOK_ALIKES

from incident_response.tools.core.masking import MASKED, catalogue, mask_data, mask_text, masked

catalogue()  # the lazy import, outside hypothesis' per-example deadline
# How many examples: the profile's (tests/conftest.py: the same 50 per property in every normal run, 2000 new ones
# with `--hypothesis-profile deep`, whose failures are kept in .hypothesis/ and tried first on its next run).
PROPERTIES = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Plain prose: lowercase words, digits and punctuation that separate but never assign (no '=' or ':').
plain_text = st.text(alphabet=string.ascii_lowercase + string.digits + " .,()/-", max_size=80)
separator = st.sampled_from([" ", "\n", "\t", ", ", "; ", " | "])
any_text = st.text(max_size=200)
# Text built from the pieces the rules key on, so examples sit on the rules' edges rather than far from them.
PIECES = [
    "password",
    "token",
    "secret_key",
    "=",
    ":",
    " ",
    "@",
    "://",
    "postgres",
    "redis",
    "Bearer ",
    "Cookie: ",
    ";",
    '"',
    "'",
    '\\"',
    "--password",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "eyJhbGci",
    ".",
    "AKIA",
    "/",
    "+",
    "x",
    "Q",
    "9",
    "[masked:12345678]",
    "irm_",
    "{",
    "}",
    "\n",
    "sk_live_",
    "Set-Cookie: ",
]
edgy_text = st.lists(st.sampled_from(PIECES + [p.text for p in CREDENTIALS] + LOOK_ALIKES), max_size=25).map("".join)


@PROPERTIES
@given(st.one_of(any_text, edgy_text))
# The cookie's value `0` masked, `BASIC 00000000=` then ends at the mask's `[` and reads as a Basic credential.
@example("COOKIE:BASIC 00000000=0")
def test_masking_is_idempotent(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


@PROPERTIES
@given(st.sampled_from(CREDENTIALS), plain_text, separator, plain_text, separator)
def test_a_credential_is_masked_whatever_surrounds_it(
    planted: Any, before: str, sep1: str, after: str, sep2: str
) -> None:
    text = before + sep1 + planted.text + sep2 + after
    clean = mask_text(text)
    assert planted.secret not in clean
    assert mask_text(clean) == clean


@PROPERTIES
@given(st.lists(st.sampled_from(CREDENTIALS), min_size=2, max_size=6), separator)
def test_several_credentials_in_one_text_are_all_masked(planted: list[Any], sep: str) -> None:
    clean = mask_text(sep.join(p.text for p in planted))
    assert not [p.name for p in planted if p.secret in clean]


@PROPERTIES
@given(st.lists(st.sampled_from(LOOK_ALIKES), min_size=1, max_size=5), separator, plain_text)
def test_plain_text_and_look_alikes_are_never_changed(lines: list[str], sep: str, prose: str) -> None:
    text = sep.join([*lines, prose])
    assert mask_text(text) == text


@PROPERTIES
@given(
    st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=43, max_size=43),
    st.sampled_from(
        ["token={}", "token: {}", '{{"token": "{}"}}', "approve {} --state-dir /tmp/x", "Authorization: Bearer {}"]
    ),
)
def test_own_pending_tokens_are_never_masked(body: str, template: str) -> None:
    line = template.format("irm_" + body)
    assert ("irm_" + body) in mask_text(line)


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text)
json_data = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(plain_text, inner, max_size=4),
    max_leaves=20,
)


def same_shape(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and len(a) == len(b)
            and all(same_shape(x, y) for x, y in zip(a.values(), b.values(), strict=True))
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same_shape(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str):
        return isinstance(b, str)
    return a == b


@PROPERTIES
@given(json_data)
def test_structured_data_keeps_its_shape_and_only_strings_change(data: Any) -> None:
    out = mask_data(data)
    assert same_shape(data, out)
    assert mask_data(out) == out


@PROPERTIES
@given(st.text(min_size=1, max_size=60), st.text(alphabet=string.ascii_uppercase + "_", min_size=1, max_size=20))
def test_an_env_value_is_never_shown_whatever_it_looks_like(value: str, name: str) -> None:
    out = mask_data({"containers": [{"name": "app", "env": [{"name": name, "value": value}]}]})
    shown = out["containers"][0]["env"][0]["value"]
    assert shown == masked(value) or MASKED.fullmatch(value)
