"""The masker every byte leaving the server passes through: secrets by position and by shape become `[masked:…]`.

Two kinds of secret (README, "Secrets"):
- by position: wherever they sit in Kubernetes data, whatever they look like: env var values, a Secret's
  data/stringData, the same positions inside `kubectl.kubernetes.io/last-applied-configuration`'s manifest, values
  under a credential-named key (`db-password: …`), the word after a `--password`-style flag in container args;
- by shape, in any free text: detect-secrets' vendor token rules (GitHub, Slack, Stripe, AWS key ids, ...), plus
  structural rules no vendor list has: URL userinfo, `key=value` / `key: value` / JSON forms of credential-named
  keys, `--password value`, Authorization and Cookie headers, PEM private key blocks, JWTs, bare AWS secret keys.

A masked value keeps its place and shows a digest (`password=[masked:3f9a0c1e]`), so the text stays readable and
two answers of one server tell whether a value changed. The digest is an HMAC under a key made fresh for each
process: nobody can test a guessed password against it. Masking is idempotent and never touches this server's own
pending-command tokens (`irm_…`), which are meant to be shown.

Layer: tools.core.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

from incident_response.tools.core.masking_gates import Gates
from incident_response.tools.core.secret_keys import placeholder, secret_key

# This server's pending-command tokens: shown on purpose (the agent needs them), so never masked.
OWN_TOKEN = re.compile(r"\birm_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
MASKED = re.compile(r"\[masked:[0-9a-f]{8}\]")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_KEY = secrets.token_bytes(32)


def masked(value: str) -> str:
    """What replaces a secret: a keyed digest, equal for equal values within this process only."""
    return f"[masked:{hmac.new(_KEY, value.encode(), hashlib.sha256).hexdigest()[:8]}]"


# --- shapes in free text ------------------------------------------------------------------------------------------

Span = tuple[int, int]

_PEM = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----(.*?)(?:-----END \1-----|\Z)", re.DOTALL)
# scheme://user:password@host, the user possibly empty (redis://:pw@host) and the password possibly holding '@'.
_URL_USERINFO = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@\"'<>]*:([^\s/?#]*?)@[^\s@/?#\"'<>]+(?=[/?#\s\"'<>,;)\]}]|$)"
)
_AUTH_HEADER = re.compile(
    r"(?i)\b(?:proxy-)?authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?(?:(?:bearer|basic|token|digest|negotiate|ntlm|"
    r"apikey|api-key|key|sso-key|hmac|aws4-hmac-sha256)[ \t]+)?([^\r\n\"'\\]+)"
)
_BEARER = re.compile(r"(?i)\b(?:bearer|basic)[ \t]+([A-Za-z0-9._~+/-]{8,}=*)(?![A-Za-z0-9._~+/=-])")
_COOKIE = re.compile(r"(?i)\b(?:set-)?cookie\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?([^\r\n\"'\\]+)")
_COOKIE_ATTRIBUTES = frozenset(
    {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority", "partitioned", "version"}
)
# key=value, key: value, "key": "value", --key=value; the key is judged by secret_key().
_KEY_VALUE = re.compile(
    r"(?<![\w.\-])(?P<key>-{0,2}[A-Za-z_][\w.\-]*)\\?[\"']?[ \t]*(?P<sep>:=|=>|=|:)[ \t]*"
    r"(?:\\\"(?P<escaped>(?:[^\"\\\n]|\\[^\"])*)\\\"|\"(?P<dq>(?:[^\"\\\n]|\\.)*)\"|'(?P<sq>[^'\n]*)'"
    r"|(?P<bare>[^\s\"',;&]+))"
)
# --password VALUE (container args, command lines): the flag is judged by secret_key().
# (also as a list prints: `'--password', 'value'`)
_FLAG_VALUE = re.compile(
    r"(?<![\w-])(?P<flag>--?[A-Za-z][\w-]*)(?:[\"'],)?[ \t]+(?P<q>[\"']?)(?P<value>[^\s\"'-][^\s\"']*)"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# An AWS secret access key on its own: 40 base64 characters, mixed case with a digit (not a git sha, not a path).
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# Token families the detect-secrets catalogue (below) does not have yet.
_EXTRA_TOKENS = tuple(
    re.compile(p)
    for p in (
        r"\bgithub_pat_[A-Za-z0-9_]{22,}",
        r"\b[rs]k_test_[0-9A-Za-z]{16,}",
        r"\bxapp-\d-[A-Za-z0-9-]{10,}",
        r"\bAIza[0-9A-Za-z_-]{35}",
        r"\bGOCSPX-[A-Za-z0-9_-]{20,}",
        r"\bya29\.[0-9A-Za-z_-]{20,}",
        r"\bhv[sb]\.[A-Za-z0-9_-]{24,}",
        r"\bnpm_[A-Za-z0-9]{36}",
        r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
        r"\bdop_v1_[a-f0-9]{64}",
        r"\bhf_[A-Za-z]{34}",
        r"\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}",
        r"\bglpat-[A-Za-z0-9_-]{20}",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",  # Azure AD secret
    )
)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]*")
# detect-secrets plugins whose match is not the secret itself: a public IP is no secret, and the private key
# plugin matches the BEGIN line only (the PEM rule above masks the key's body instead).
_NOT_USED = frozenset({"IPPublicDetector", "PrivateKeyDetector"})


@functools.cache
def catalogue() -> tuple[re.Pattern[str], ...]:
    """detect-secrets' vendor token rules, imported on first use: the package takes ~0.3 s to import and the MCP
    handshake must not wait for it."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    patterns: list[re.Pattern[str]] = []
    plugins: Iterable[type] = get_mapping_from_secret_type_to_class().values()
    for plugin in plugins:
        if issubclass(plugin, RegexBasedDetector) and plugin.__name__ not in _NOT_USED:
            # `denylist` is declared as an abstract property but every plugin sets it as a class attribute.
            denylist: Iterable[re.Pattern[str]] = getattr(plugin, "denylist")  # noqa: B009
            patterns.extend(denylist)
    return tuple(patterns)


def _aws_secret(candidate: str) -> bool:
    return (
        any(c.isupper() for c in candidate)
        and any(c.islower() for c in candidate)
        and any(c.isdigit() for c in candidate)
        and candidate.count("/") + candidate.count("+") <= 4
        and not candidate.startswith("/")
    )


def _bearer_token(candidate: str) -> bool:
    """`Bearer abc123…` is a credential; `basic authentication` is English."""
    return any(c.isdigit() or c in "+/=._~-" for c in candidate) or any(c.isupper() for c in candidate[1:])


# Prose that names a set of credentials and lists what follows ("Not readable with these credentials: services,
# HPAs"): a lone plural, a colon, an unquoted word of letters. An assignment (`credentials=…`), a quoted or
# digit-bearing value, or a compound key (`DB_CREDENTIALS: …`) still holds a credential.
_LISTING_KEYS = frozenset({"credentials"})
_LISTED_WORD = re.compile(r"[A-Za-z][A-Za-z./-]*")


def _listing(pair: re.Match[str]) -> bool:
    bare = pair.group("bare")
    return (
        pair.group("key").lower() in _LISTING_KEYS
        and pair.group("sep") == ":"
        and bare is not None
        and _LISTED_WORD.fullmatch(bare) is not None
    )


def _value_span(match: re.Match[str]) -> Span | None:
    for group in ("escaped", "dq", "sq", "bare"):
        if match.group(group) is not None:
            value = match.group(group)
            if placeholder(value) or (group == "bare" and value.startswith(("{", "["))):
                return None
            return match.span(group)
    return None


def catalogue_loaded() -> bool:
    return catalogue.cache_info().currsize > 0


_STRUCTURAL = (_PEM, _URL_USERINFO, _AUTH_HEADER, _BEARER, _COOKIE, _KEY_VALUE, _FLAG_VALUE, _JWT, _AWS_SECRET)


@functools.cache
def _rules(vendor_rules: bool) -> tuple[re.Pattern[str], ...]:
    return (*_STRUCTURAL, *_EXTRA_TOKENS, *(catalogue() if vendor_rules else ()))


@functools.cache
def _gates(vendor_rules: bool) -> Gates:
    return Gates(_rules(vendor_rules))


def prepare() -> None:
    """What masking's first use would otherwise pay: detect-secrets' import (~0.3 s) and deriving every rule's gate
    (~10 ms). The server's warm-up calls it after the handshake."""
    _gates(True)


def _spans(text: str, vendor_rules: bool, rules: frozenset[re.Pattern[str]]) -> Iterator[Span]:
    """Every stretch of `text` that holds a secret (they may overlap), by the `rules` that may match it."""
    if _PEM in rules:
        for m in _PEM.finditer(text):
            if m.group(2).strip():
                yield m.span(2)
    if _URL_USERINFO in rules:
        for m in _URL_USERINFO.finditer(text):
            if m.group(1):
                yield m.span(1)
    if _AUTH_HEADER in rules:
        for m in _AUTH_HEADER.finditer(text):
            yield m.start(1), m.start(1) + len(m.group(1).rstrip())
    if _BEARER in rules:
        for m in _BEARER.finditer(text):
            if _bearer_token(m.group(1)):
                yield m.span(1)
    for m in _COOKIE.finditer(text) if _COOKIE in rules else ():
        offset = m.start(1)
        for part in m.group(1).split(";"):
            name, eq, value = part.partition("=")
            if eq and value.strip() and name.strip().lower() not in _COOKIE_ATTRIBUTES:
                start = offset + len(name) + 1 + (len(value) - len(value.lstrip()))
                yield start, offset + len(part.rstrip())
            offset += len(part) + 1
    at = 0 if _KEY_VALUE in rules else len(text) + 1
    while (pair := _KEY_VALUE.search(text, at)) is not None:
        key = pair.group("key")
        # A Cookie header's value is name=value pairs: the cookie rule above masks the values and keeps the names.
        if (
            secret_key(key)
            and not key.lower().endswith("cookie")
            and not _listing(pair)
            and (span := _value_span(pair)) is not None
        ):
            yield span
            at = pair.end()
        else:
            at = pair.end("key")  # the value may hold the next pair: `args: --db-password=x`
    at = 0 if _FLAG_VALUE in rules else len(text) + 1
    while (flag := _FLAG_VALUE.search(text, at)) is not None:
        if secret_key(flag.group("flag")) and not placeholder(flag.group("value")):
            yield flag.span("value")
            at = flag.end()
        else:
            at = flag.end("flag")
    for m in _JWT.finditer(text) if _JWT in rules else ():
        yield m.span()
    for m in _AWS_SECRET.finditer(text) if _AWS_SECRET in rules else ():
        if _aws_secret(m.group()):
            yield m.span()
    for pattern in _rules(vendor_rules)[len(_STRUCTURAL) :]:
        if pattern not in rules:
            continue
        for m in pattern.finditer(text):
            start, end = m.span(1) if m.re.groups and m.group(1) else m.span()
            # A rule may match a prefix of a longer token (Stripe's 24 of up to 99 characters): mask all of it.
            rest = _TOKEN_CHARS.match(text, end)
            yield start, rest.end() if rest else end


def _trimmed(text: str, span: Span) -> Span:
    start, end = span
    while start < end and text[start] in " \t\r\n\"'=:":
        start += 1
    while end > start and text[end - 1] in " \t\r\n\"'":
        end -= 1
    return start, end


def mask_text_counted(text: str, *, vendor_rules: bool = True) -> tuple[str, int]:
    """`text` with every secret masked, and how many stretches were masked. Without `vendor_rules` only our own
    rules apply (no detect-secrets import: for log lines written before the MCP handshake, see boundary.py).

    Masked again until nothing new is found, so masking is idempotent: a mask can end a token where the secret it
    replaced did not (`Cookie: Basic 00000000=0` masks the cookie's value `0`; then `Basic 00000000=` is followed by
    `[` instead of a token character, and the Basic credential rule takes it). Each pass that masks turns at least one
    character outside the masks into a mask (masks are never masked), so the loop ends; a second pass is rare."""
    if (text, vendor_rules) in _CLEAN:
        return text, 0
    given, total = text, 0
    while True:
        text, count = _mask_once(text, vendor_rules)
        if not count:
            if not total and len(given) <= _CLEAN_TEXT_MAX:
                if len(_CLEAN) >= _CLEAN_ENTRIES:
                    _CLEAN.clear()
                _CLEAN[given, vendor_rules] = None
            return text, total
        total += count


# Texts found to hold no secret, so the same names and messages are not scanned again by every rule (each answer
# masks thousands of short strings, most of them repeats; ~60 patterns each). Masking is a pure function of the text
# and the rule set (fixed per process), so a text clean once is clean again. Only clean texts are kept: no secret
# lingers here. Bounded; emptied when full (a dict's single operations are atomic across threads).
_CLEAN: dict[tuple[str, bool], None] = {}
_CLEAN_ENTRIES, _CLEAN_TEXT_MAX = 8192, 512


def _mask_once(text: str, vendor_rules: bool, gated: bool = True) -> tuple[str, int]:
    """One pass of every rule. Only the rules whose gate is open are run (tools/core/masking_gates.py): the others
    cannot match `text`, so what is masked is the same; `gated=False` runs every rule (tests compare the two)."""
    if len(text) < 6:
        return text, 0
    rules = _gates(vendor_rules).open(text) if gated else frozenset(_rules(vendor_rules))
    if not rules:
        return text, 0
    kept = [m.span() for pattern in (OWN_TOKEN, MASKED) for m in pattern.finditer(text)]
    spans = sorted(
        s
        for s in (_trimmed(text, span) for span in _spans(text, vendor_rules, rules))
        if s[0] < s[1] and not any(s[0] < k_end and k_start < s[1] for k_start, k_end in kept)
    )
    if not spans:
        return text, 0
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out += [text[at:start], masked(text[start:end])]
        at = end
    out.append(text[at:])
    return "".join(out), len(merged)


def mask_text(text: str, *, vendor_rules: bool = True) -> str:
    return mask_text_counted(text, vendor_rules=vendor_rules)[0]


# --- structured data ----------------------------------------------------------------------------------------------


def mask_value(value: Any, *, keep_placeholders: bool = False) -> Any:
    """A value secret by position: strings (and numbers) become a mask; our own tokens, masks and the empty string
    stay, and with `keep_placeholders` (a key that only sounds secret) `true`, `${VAR}`, `****`... stay too."""
    if isinstance(value, bool) or value is None or value == "":
        return value
    if isinstance(value, str) and (
        (keep_placeholders and placeholder(value)) or OWN_TOKEN.fullmatch(value) or MASKED.fullmatch(value)
    ):
        return value
    if isinstance(value, str | int | float):
        return masked(str(value))
    return mask_data(value)


def _mask_env(item: Any) -> Any:
    if isinstance(item, dict) and "value" in item:
        return {k: mask_value(v) if k == "value" else mask_data(v, k) for k, v in item.items()}
    return mask_data(item)


def mask_args(args: list[Any]) -> list[Any]:
    """Container args and commands: the item after a `--password`-style flag is the secret."""
    out: list[Any] = []
    for i, arg in enumerate(args):
        previous = args[i - 1] if i else None
        if (
            isinstance(previous, str)
            and previous.startswith("-")
            and "=" not in previous
            and secret_key(previous)
            and isinstance(arg, str)
            and not arg.startswith("-")
        ):
            out.append(mask_value(arg))
        else:
            out.append(mask_data(arg))
    return out


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("duplicate key")  # the parsed object would hide one of the values the text shows
    return dict(pairs)


def mask_last_applied(value: Any) -> Any:
    """kubectl's last-applied annotation holds a whole manifest as JSON: masked by position inside it, like the live
    object it copies (a Secret's data, env values, credential-named keys...), so a manifest without a secret stays as
    it is (our own NetworkPolicy's). Anything that is not one JSON object, or whose JSON text would still show a
    secret, is masked whole."""
    if not isinstance(value, str):
        return mask_value(value)
    try:
        parsed = json.loads(value, object_pairs_hook=_unique_keys)
    except ValueError:
        return mask_value(value)
    if not isinstance(parsed, dict):
        return mask_value(value)
    clean = mask_data(parsed)
    text = value if clean == parsed else json.dumps(clean, sort_keys=True, separators=(",", ":")) + "\n"
    return text if mask_text(text) == text else mask_value(value)


def mask_data(value: Any, key: str | None = None) -> Any:
    """JSON-like data with secrets masked by position (the key or structure around a value) and by shape (text)."""
    if isinstance(value, str):
        if key is not None and secret_key(key):
            return mask_value(value, keep_placeholders=True)
        return mask_text(value)
    if isinstance(value, dict):
        secret_object = value.get("kind") == "Secret"
        out: dict[Any, Any] = {}
        for k, v in value.items():
            name = k if isinstance(k, str) else str(k)
            new_key = mask_text(k) if isinstance(k, str) else k
            if secret_object and name in ("data", "stringData") and isinstance(v, dict):
                out[new_key] = {dk: mask_value(dv) for dk, dv in v.items()}
            elif name == "env" and isinstance(v, list):
                out[new_key] = [_mask_env(item) for item in v]
            elif name in ("args", "command") and isinstance(v, list):
                out[new_key] = mask_args(v)
            elif name == LAST_APPLIED:
                out[new_key] = mask_last_applied(v)
            else:
                out[new_key] = mask_data(v, name)
        return out
    if isinstance(value, list):
        return [mask_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(mask_data(item) for item in value)
    return value
