"""HTTP credentials: the file format, the environment variable, the generated token, and who each token is."""

from __future__ import annotations

import stat
from pathlib import Path

import anyio
import pytest

from incident_response.server import http_auth, http_credentials
from incident_response.server.config import SettingsError

ALICE = "alice-token-" + "a" * 30
BOB = "bob-token-" + "b" * 30
BARE = "bare-token-" + "c" * 30


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "credentials"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_a_file_names_principals_and_a_bare_token_is_the_default_one(tmp_path: Path) -> None:
    path = write(tmp_path, f"# on-call team\nalice {ALICE}\n\n  bob   {BOB}  \n{BARE}\n")
    credentials = http_credentials.resolve(path, None, "0.0.0.0", tmp_path / "state")
    assert [credentials.principal(t) for t in (ALICE, BOB, BARE)] == ["alice", "bob", "default"]
    assert credentials.principal(ALICE[:-1]) is None and credentials.principal(ALICE + "a") is None
    assert credentials.principal("") is None
    assert credentials.generated_file is None and str(path) in credentials.origin and ALICE not in credentials.origin
    assert not (tmp_path / "state").exists()  # nothing generated when one is configured


def test_the_environment_token_is_the_default_principal_beside_the_file(tmp_path: Path) -> None:
    credentials = http_credentials.resolve(write(tmp_path, f"alice {ALICE}\n"), BARE, "10.0.0.5", tmp_path / "state")
    assert (credentials.principal(ALICE), credentials.principal(BARE)) == ("alice", "default")
    assert "INCIDENT_RESPONSE_AUTH_TOKEN" in credentials.origin


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "holds no token"),
        ("# nothing\n\n", "holds no token"),
        (f"alice {ALICE} extra\n", "line 1 has 3 fields"),
        ("alice short\n", "credentials line 1 is too weak"),
        (f"al/ice {ALICE}\n", "principal 'al/ice' is not a name"),
        (f"alice {ALICE}\nbob {ALICE}\n", "one token is given to two principals"),
    ],
)
def test_a_bad_credentials_file_is_refused_naming_the_line_not_the_token(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as refused:
        http_credentials.resolve(write(tmp_path, text), None, "127.0.0.1", tmp_path / "state")
    assert ALICE not in str(refused.value) and "short" not in str(refused.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read --auth-token-file"):
        http_credentials.resolve(tmp_path / "nope", None, "127.0.0.1", tmp_path / "state")


def test_a_file_others_can_read_is_accepted_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    http_credentials.resolve(write(tmp_path, f"{BARE}\n", mode=0o644), None, "127.0.0.1", tmp_path / "state")
    assert "chmod 600" in caplog.text


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_without_a_credential_generates_one_readable_by_this_user_only(tmp_path: Path, host: str) -> None:
    state = tmp_path / "state"
    state.mkdir()
    stale = state / "http-auth-token"
    stale.write_text("an earlier run's token\n", encoding="utf-8")
    stale.chmod(0o644)
    credentials = http_credentials.resolve(None, None, host, state)
    token = stale.read_text(encoding="utf-8").strip()
    assert credentials.generated_file == stale and stat.S_IMODE(stale.stat().st_mode) == 0o600
    assert credentials.principal(token) == "default" and credentials.principal("an earlier run's token") is None
    assert token not in credentials.origin and [p.name for p in state.iterdir()] == ["http-auth-token"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.internal"])
def test_any_other_address_without_a_credential_refuses(tmp_path: Path, host: str) -> None:
    with pytest.raises(SettingsError, match=f"refusing to serve HTTP on {host} without a configured credential"):
        http_credentials.resolve(None, None, host, tmp_path / "state")
    assert not (tmp_path / "state").exists()


def test_the_verifier_names_the_principal_as_client_id(tmp_path: Path) -> None:
    verifier = http_auth.StaticTokenVerifier(
        http_credentials.resolve(write(tmp_path, f"alice {ALICE}\n"), None, "::1", tmp_path)
    )

    async def check() -> None:
        found = await verifier.verify_token(ALICE)
        assert found is not None and found.client_id == "alice" and found.scopes == []
        assert await verifier.verify_token(BOB) is None

    anyio.run(check)


def test_a_symlink_planted_where_the_token_goes_is_replaced_not_followed(tmp_path: Path) -> None:
    state, elsewhere = tmp_path / "state", tmp_path / "readable-by-others"
    state.mkdir(mode=0o700)
    elsewhere.write_text("", encoding="utf-8")
    (state / "http-auth-token").symlink_to(elsewhere)
    credentials = http_credentials.resolve(None, None, "127.0.0.1", state)
    written = state / "http-auth-token"
    assert not written.is_symlink() and elsewhere.read_text(encoding="utf-8") == ""
    assert credentials.principal(written.read_text(encoding="utf-8").strip()) == "default"
