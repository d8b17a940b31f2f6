"""The human's commands (`pending`, `approve`, `deny`), called in-process with stdin standing in for a terminal or not.

The same command as a real process on a pseudo-terminal, and without one: tests/e2e/test_approve_cli_process.py.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from support.approve_cli import COMMAND, FORGED_SECRET_SHAPED, ME, UNDO, approvals, forged, propose
from support.fakekube import SERVER

from incident_response.server import approvals_command
from incident_response.server.cli import main
from incident_response.tools.engine.approvals import CLI_NON_INTERACTIVE, CLI_TERMINAL
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import new_token


class Keyboard(io.StringIO):
    """stdin on a terminal, where the human types `text` (empty: Ctrl-D, end of input)."""

    def isatty(self) -> bool:
        return True


def on_terminal(monkeypatch: pytest.MonkeyPatch, typed: str = "") -> None:
    monkeypatch.setattr(sys, "stdin", Keyboard(typed))


def without_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin that is not a terminal, in a process outside any terminal session (a service, a CI job, a bot), even
    when pytest runs in one (tests/e2e/test_approve_cli_process.py has the real terminal session)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(approvals_command, "controlling_terminal", lambda: False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out = capsys.readouterr()
    return int(exit_info.value.code or 0), out.out + out.err


def test_pending_lists_command_diff_undo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = propose(tmp_path)
    code, out = run(capsys, "pending", "--state-dir", str(tmp_path))
    assert code == 0
    assert token in out and COMMAND in out
    assert f"undo    {UNDO}" in out


def test_approve_on_a_terminal_shows_the_plan_and_asks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = propose(tmp_path)
    on_terminal(monkeypatch, "y\n")
    code, screen = run(capsys, "approve", token, "--state-dir", str(tmp_path))
    asked, _, after = screen.rpartition("[y/N]")
    for shown in (
        f"command {COMMAND}",
        f"undo    {UNDO}",
        "target  deployment/web -n shop",
        f"cluster context test at {SERVER}",
        '"shop/web:3" -> "shop/web:2"',
    ):
        assert shown in asked, screen
    assert f"on the cluster at {SERVER} (context test)? " in asked
    assert code == 0 and "approved" in after, screen
    row = Journal(tmp_path).command(token)
    assert row and row.state == "approved" and row.decided_by == ME and row.decided_channel == CLI_TERMINAL
    assert approvals(tmp_path, token) == [("approved", ME, CLI_TERMINAL)]


@pytest.mark.parametrize("answer", ["n\n", "\n", "yes please\n", ""], ids=["no", "enter", "other", "eof"])
def test_approve_on_a_terminal_anything_but_yes_approves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    token = propose(tmp_path)
    on_terminal(monkeypatch, answer)
    code, screen = run(capsys, "approve", token, "--state-dir", str(tmp_path))
    assert code == 1 and "[y/N]" in screen and "not approved" in screen, screen
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending" and row.decided_by is None
    assert approvals(tmp_path, token) == []


def test_approve_without_a_terminal_needs_yes_and_is_recorded_as_non_interactive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = propose(tmp_path)
    without_terminal(monkeypatch)
    code, out = run(capsys, "approve", token, "--state-dir", str(tmp_path))
    assert code == 2 and "--yes" in out and "Nothing was approved" in out, out
    assert COMMAND in out  # what was not approved is still shown
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending" and approvals(tmp_path, token) == []

    # $USER and $LOGNAME are the caller's to set; the journal names the account the process runs as.
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    code, out = run(capsys, "approve", token, "--yes", "--state-dir", str(tmp_path))
    assert code == 0 and "approved" in out, out
    row = Journal(tmp_path).command(token)
    assert row and row.state == "approved" and row.decided_by == ME and row.decided_channel == CLI_NON_INTERACTIVE
    assert approvals(tmp_path, token) == [("approved", ME, CLI_NON_INTERACTIVE)]
    # Before the assistant runs it, `pending` shows who approved it and that no one was asked.
    code, out = run(capsys, "pending", "--state-dir", str(tmp_path))
    assert code == 0 and f"approved by {ME} via {CLI_NON_INTERACTIVE}" in out, out


@pytest.mark.parametrize("typed", ["", "y\n"], ids=["enter", "y"])
def test_yes_on_a_terminal_still_asks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, typed: str
) -> None:
    """A person at a terminal always answers y/N: `approve TOKEN --yes` is the line an assistant could ask them to
    paste, and it must not approve a plan nobody looked at. --yes is for stdin that is not a terminal."""
    token = propose(tmp_path)
    on_terminal(monkeypatch, typed)
    code, screen = run(capsys, "approve", "-y", token, "--state-dir", str(tmp_path))
    assert "[y/N]" in screen and "--yes is for scripts" in screen, screen
    if typed:
        assert code == 0 and approvals(tmp_path, token) == [("approved", ME, CLI_TERMINAL)]
    else:
        assert code == 1 and approvals(tmp_path, token) == []


def test_deny_never_asks_and_records_whether_a_terminal_ran_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted, typed = propose(tmp_path), propose(tmp_path)
    without_terminal(monkeypatch)
    code, out = run(capsys, "deny", scripted, "--reason", "wrong revision", "--state-dir", str(tmp_path))
    assert code == 0 and COMMAND in out and "denied" in out, out
    on_terminal(monkeypatch)
    code, screen = run(capsys, "deny", typed, "--state-dir", str(tmp_path))
    assert code == 0 and "[y/N]" not in screen and "denied" in screen, screen
    assert approvals(tmp_path, scripted) == [("denied", ME, CLI_NON_INTERACTIVE)]
    assert approvals(tmp_path, typed) == [("denied", ME, CLI_TERMINAL)]
    denied = [e for e in Journal(tmp_path).events(token=scripted) if e.kind == "denied"]
    assert denied[0].detail == {"reason": "wrong revision"}
    without_terminal(monkeypatch)
    code, out = run(capsys, "approve", scripted, "--yes", "--state-dir", str(tmp_path))
    assert code == 1 and "denied" in out


def test_unknown_token_and_missing_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    propose(tmp_path)
    on_terminal(monkeypatch, "y\n")
    code, out = run(capsys, "approve", "nope", "--yes", "--state-dir", str(tmp_path))
    assert code == 1 and "unknown_token" in out
    code, out = run(capsys, "approve", "nope", "--state-dir", str(tmp_path))  # no terminal question for a dead token
    assert code == 1 and "unknown_token" in out and "[y/N]" not in out
    code, out = run(capsys, "pending", "--state-dir", str(tmp_path / "elsewhere"))
    assert code == 1 and "no journal" in out


def test_state_dir_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = propose(tmp_path)
    without_terminal(monkeypatch)
    monkeypatch.setenv("INCIDENT_RESPONSE_STATE_DIR", str(tmp_path))
    code, out = run(capsys, "approve", token, "--yes")
    assert code == 0 and "approved" in out, out
    assert approvals(tmp_path, token) == [("approved", ME, CLI_NON_INTERACTIVE)]


def test_tokens_never_start_with_a_dash() -> None:
    # The old generator started one token in 64 with '-': 4096 draws without one would happen with p < 1e-27.
    tokens = [new_token() for _ in range(4096)]
    assert not [t for t in tokens if t.startswith("-")]
    # irm_ marks the token as this server's own, so the masker (tools/core/masking.py) lets it through.
    assert all(re.fullmatch(r"irm_[A-Za-z0-9_-]{43}", t) for t in tokens)
    assert len(set(tokens)) == len(tokens)


@pytest.mark.parametrize(
    "argv, token",
    [
        (("approve", "{token}", "--yes", "--state-dir", "{state}"), forged()),
        (("approve", "--state-dir", "{state}", "{token}", "-y"), "-y" + "Qm3_" * 10 + "x"),
        (("approve", "--yes", "--state-dir={state}", "{token}"), "--yes" + "k9T-" * 9 + "k9"),
        (("approve", "--yes", "--state-dir", "{state}", "--", "{token}"), "-h" + "A" * 41),
    ],
    ids=["as-documented", "token-after-options", "equals-form", "after-double-dash"],
)
def test_a_token_starting_with_a_dash_reaches_its_plan_as_documented(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    token: str,
) -> None:
    # Tokens already in a journal from before the generator changed may start with '-'; so may these forgeries,
    # chosen to look like our own options. The token is read as the token (its plan is shown, no option error). Such
    # a token is secret-shaped, so the journal stored its plan with the token masked: the plan no longer matches its
    # fingerprint and could never run, so it is not approved, and the human is told why.
    assert propose(tmp_path, lambda: token) == token
    without_terminal(monkeypatch)
    code, out = run(capsys, *(a.format(token=token, state=tmp_path) for a in argv))
    assert code == 1 and COMMAND in out and "could never run" in out, out
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending"


def test_a_token_starting_with_a_dash_is_denied_as_documented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = propose(tmp_path, forged)
    without_terminal(monkeypatch)
    code, out = run(capsys, "deny", token, "--reason", "not this one", "--state-dir", str(tmp_path))
    assert code == 0, out
    row = Journal(tmp_path).command(token)
    assert row and row.state == "denied"


@pytest.mark.parametrize("verb", ["approve", "deny"])
def test_a_secret_shaped_token_of_the_old_generator_is_unknown_and_says_plan_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, verb: str
) -> None:
    # About one in 50 of the old generator's tokens looks like a bare AWS secret key to the masker, so the journal
    # stored even its key masked: no lookup by the token finds the plan. Neither verb pretends otherwise or decides
    # anything: the answer is unknown_token, which says to plan again (README, errors); the row expires unrun.
    assert propose(tmp_path, lambda: FORGED_SECRET_SHAPED) == FORGED_SECRET_SHAPED
    without_terminal(monkeypatch)
    code, out = run(
        capsys, verb, FORGED_SECRET_SHAPED, "--yes" if verb == "approve" else "--reason=x", "--state-dir", str(tmp_path)
    )
    assert code == 1 and "unknown_token" in out and "plan the mitigation again" in out, out
    assert [r.state for r in Journal(tmp_path).commands()] == ["pending"]


def test_two_tokens_or_an_unknown_option_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = propose(tmp_path)
    without_terminal(monkeypatch)
    code, out = run(capsys, "approve", "--yse", token, "--state-dir", str(tmp_path))
    assert code == 2 and "expected one token, got 2: '--yse'" in out, out
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending"
