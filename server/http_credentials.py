"""Bearer credentials for `serve --http`: where they come from, and who each one is (its principal).

Credentials come from `--auth-token-file` (one per line: `TOKEN`, or `PRINCIPAL TOKEN` to name who holds it) and
from `INCIDENT_RESPONSE_AUTH_TOKEN` (principal `default`). With none configured on a loopback address, one is
generated for the run and written, readable by this OS user only, to the state directory; a non-loopback address
without a configured credential refuses to start. Nothing here imports the MCP SDK: `serve --http` resolves its
credentials (and refuses to start without usable ones) before it imports the server (server/serve_command.py).

Layer: server (MCP wiring).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from incident_response.server.config import Settings, SettingsError

DEFAULT_PRINCIPAL = "default"
GENERATED_FILE = "http-auth-token"
MIN_TOKEN_LENGTH = 16
PRINCIPAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
BEARER_CHARACTERS = re.compile(r"^[\x21-\x7e]+$")  # what fits in an Authorization header without quoting

logger = logging.getLogger("incident_response.server")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Credentials:
    """Valid bearer tokens (kept as SHA-256 digests) and the principal each one authenticates."""

    principals: tuple[tuple[bytes, str], ...]
    origin: str  # said at startup: where the credentials came from (never their values)
    generated_file: Path | None = field(default=None)

    def principal(self, token: str) -> str | None:
        """Whose token this is. Every entry is compared, in constant time, whichever matches."""
        offered = _digest(token)
        found: str | None = None
        for digest, principal in self.principals:
            if hmac.compare_digest(offered, digest):
                found = principal
        return found


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a hostname: it may resolve to anything


def _check_token(token: str, where: str) -> str:
    if len(token) < MIN_TOKEN_LENGTH or not BEARER_CHARACTERS.match(token):
        raise SettingsError(
            f"the bearer token in {where} is too weak or malformed: use at least {MIN_TOKEN_LENGTH} printable "
            "characters without spaces, e.g. the output of `openssl rand -base64 32`"
        )
    return token


def parse_token_file(path: Path) -> list[tuple[str, str]]:
    """(principal, token) pairs from a credentials file; the errors name the line, never the token."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SettingsError(f"cannot read --auth-token-file {path}: {e.strerror or e}") from e
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        where = f"{path} line {number}"
        if len(fields) > 2:
            raise SettingsError(f"{where} has {len(fields)} fields: write `TOKEN` or `PRINCIPAL TOKEN`")
        principal, token = (DEFAULT_PRINCIPAL, fields[0]) if len(fields) == 1 else (fields[0], fields[1])
        if not PRINCIPAL_NAME.match(principal):
            raise SettingsError(
                f"{where}: principal {principal[:64]!r} is not a name (letters, digits, '.', '_', '@', '-'; at most "
                "64 characters)"
            )
        pairs.append((principal, _check_token(token, where)))
    if not pairs:
        raise SettingsError(f"--auth-token-file {path} holds no token: write one per line, `TOKEN` or `NAME TOKEN`")
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        logger.warning("%s is readable by other users than its owner: chmod 600 it", path)
    return pairs


def write_generated(state_dir: Path) -> tuple[str, Path]:
    """A fresh token for this run, in a file only this OS user can read: written whole to a new file (mkstemp:
    O_EXCL, 0600, so a planted symlink is never followed), then renamed over the previous one."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    path = state_dir / GENERATED_FILE
    descriptor, partial = tempfile.mkstemp(dir=state_dir, prefix=f".{GENERATED_FILE}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(token + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return token, path


def resolve(token_file: Path | None, env_token: str | None, host: str, state_dir: Path) -> Credentials:
    """The credentials `serve --http` accepts, or a SettingsError saying what to configure."""
    pairs: list[tuple[str, str]] = []
    origins: list[str] = []
    if token_file is not None:
        pairs += parse_token_file(token_file)
        origins.append(f"--auth-token-file {token_file}")
    if env_token:
        pairs.append((DEFAULT_PRINCIPAL, _check_token(env_token.strip(), "INCIDENT_RESPONSE_AUTH_TOKEN")))
        origins.append("INCIDENT_RESPONSE_AUTH_TOKEN")
    generated: Path | None = None
    if not pairs:
        if not is_loopback(host):
            raise SettingsError(
                f"refusing to serve HTTP on {host} without a configured credential: anyone who can reach it could "
                "plan and confirm changes. Pass --auth-token-file FILE (one `TOKEN` or `PRINCIPAL TOKEN` per line) or "
                "set INCIDENT_RESPONSE_AUTH_TOKEN"
            )
        token, generated = write_generated(state_dir)
        pairs.append((DEFAULT_PRINCIPAL, token))
        origins.append(f"generated for this run in {generated} (mode 0600)")
    seen: dict[bytes, str] = {}
    for principal, token in pairs:
        digest = _digest(token)
        if seen.get(digest, principal) != principal:
            raise SettingsError(f"one token is given to two principals ({seen[digest]!r} and {principal!r})")
        seen[digest] = principal
    return Credentials(tuple(seen.items()), "; ".join(origins), generated)


def of_settings(settings: Settings) -> Credentials:
    """The credentials of `serve --http --auth static` with these settings, or a SettingsError saying what to
    configure."""
    return resolve(settings.auth_token_file, settings.auth_token, settings.host, settings.state_dir)
