"""Which keys name a credential (DB_PASSWORD, apiKey, x-auth-token; not secretName or token_type), and which values
under such a key are no credential (placeholders: `true`, `${VAR}`, `****`). What tools/core/masking.py masks by
position.

Layer: tools.core.
"""

from __future__ import annotations

import functools
import re

# A key is credential-named when one of its words is one of these (DB_PASSWORD, apiKey, x-auth-token)...
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "credential",
        "credentials",
        "sig",
        "signature",
        "cookie",
    }
)
# ...or its words run together contain one of these (SECRET_KEY, AccountKey excepted: clientSecret, SharedAccessKey).
_SECRET_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "apikey",
    "accesskey",
    "privatekey",
    "clientkey",
    "authkey",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "sessiontoken",
    "idtoken",
    "credential",
)
# ...unless its last word says it names, points to or describes the secret instead of holding it (secretName,
# secretKeyRef, token_type, password_file, tokenExpirationSeconds).
_NOT_HOLDERS = frozenset(
    {
        "name",
        "names",
        "ref",
        "refs",
        "file",
        "files",
        "path",
        "paths",
        "dir",
        "id",
        "ids",
        "type",
        "types",
        "length",
        "len",
        "ttl",
        "expiry",
        "expires",
        "expiration",
        "seconds",
        "count",
        "policy",
        "version",
        "url",
        "uri",
        "endpoint",
        "mode",
        "kind",
        "format",
        "prefix",
        "source",
        "enabled",
        "required",
        "header",
        "field",
        "env",
        "namespace",
        "provider",
        "store",
        "manager",
        "rotation",
        "algorithm",
        "age",
        "hint",
        "reset",
        "change",
        "changed",
        "updated",
        "created",
        "set",
        "exists",
        "valid",
        "invalid",
        "missing",
        "strength",
        "rule",
        "secrets",
        "tokens",
        "passwords",
    }
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def key_words(key: str) -> list[str]:
    """`DB_PASSWORD` -> [db, password]; `apiKey` -> [api, key]; `x-auth-token` -> [x, auth, token]."""
    return [w.lower() for w in _WORD.findall(key)]


@functools.lru_cache(maxsize=4096)
def secret_key(key: str) -> bool:
    """Does a value under this key hold a credential (by its name)?"""
    words = key_words(key)
    if not words or words[-1] in _NOT_HOLDERS:
        return False
    joined = "".join(words)
    return any(w in _SECRET_WORDS for w in words) or any(part in joined for part in _SECRET_PARTS)


# Values under a credential-named key that are no credential: booleans, placeholders, masks of other tools.
_PLACEHOLDER = re.compile(
    r"(?i)^(?:|true|false|yes|no|null|nil|none|undefined|required|optional|empty|redacted|\[redacted\]|hidden|"
    r"\[hidden\]|\*+|x+|\.+|-+|<[^<>]*>|\$\{[^}]*\}|\$\([^)]*\)|\{\{[^}]*\}\}|%s|%\([a-z_]+\)s|\[masked[^\]]*\])$"
)


def placeholder(value: str) -> bool:
    return _PLACEHOLDER.match(value.strip()) is not None
