"""The human's commands (`pending`, `approve`, `deny`), run as the human would: as a process, on a terminal or not."""

import os
import pty
import pwd
import re
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.fakekube import SERVER, seat

from incident_response.server.cli import main
from incident_response.tools.engine.approvals import CLI_NON_INTERACTIVE, CLI_TERMINAL
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine, new_token
from incident_response.tools.engine.plan import Change, KubeWrite, PlanDraft, Step, Target

LAUNCHER = "from incident_response.server.cli import main; main()"
COMMAND = "kubectl rollout undo deployment/web -n shop --to-revision=2 --context prod-eu1"
UNDO = "kubectl rollout undo deployment/web -n shop --to-revision=3 --context prod-eu1"
ME = pwd.getpwuid(os.getuid()).pw_name


def propose(state: Path, token_factory: Callable[[], str] | None = None) -> str:
    engine = PendingEngine(Journal(state), token_factory=token_factory)
    draft = PlanDraft(
        tool="rollback_deployment",
        summary="Roll web back to revision 2",
        target=Target(kind="Deployment", namespace="shop", name="web"),
        steps=[
            Step(
                description="undo",
                command=COMMAND,
                action=KubeWrite(
                    verb="patch", resource="deployments", namespace="shop", name="web", body=[], patch_type="json"
                ),
            )
        ],
        undo_command=UNDO,
        diff=[Change(path="spec.template.spec.containers[web].image", before="shop/web:3", after="shop/web:2")],
    )
    token = engine.propose(draft, seat("standard")).token
    assert token
    return token


def forged() -> str:
    """A token as one in 64 of the old generator's were: starting with '-'."""
    return "-" + secrets.token_urlsafe(32)[1:]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out = capsys.readouterr()
    return int(exit_info.value.code or 0), out.out + out.err


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a process whose stdin is not a terminal (a script, another program, an agent's shell)."""
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


class Terminal:
    """The command on a pseudo-terminal, as a human runs it: read what it shows, type an answer."""

    def __init__(self, *argv: str) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, *argv], stdin=slave, stdout=slave, stderr=slave, close_fds=True
        )
        os.close(slave)
        self.seen = b""

    def read_until(self, pattern: bytes, timeout: float = 60) -> str:
        """Everything shown so far, once `pattern` appears (bounded by `timeout`; fails with the screen)."""
        deadline = time.monotonic() + timeout
        while pattern not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {pattern!r} on the terminal within {timeout}s:\n{self.seen.decode(errors='replace')}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the process exited and closed the terminal
                    chunk = b""
                if not chunk:
                    pytest.fail(f"the terminal closed before {pattern!r}:\n{self.seen.decode(errors='replace')}")
                self.seen += chunk
        return self.screen()

    def screen(self) -> str:
        return self.seen.decode(errors="replace").replace("\r\n", "\n")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self) -> tuple[int, str]:
        """Exit code and the whole screen, after the process ends."""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code, self.screen()


def approvals(state: Path, token: str) -> list[tuple[str, str | None, str | None]]:
    events = Journal(state).events(token=token)
    return [(e.kind, e.actor, e.channel) for e in events if e.kind in ("approved", "denied")]


def test_pending_lists_command_diff_undo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = propose(tmp_path)
    code, out = run(capsys, "pending", "--state-dir", str(tmp_path))
    assert code == 0
    assert token in out and COMMAND in out
    assert f"undo    {UNDO}" in out


def test_approve_on_a_terminal_shows_the_plan_and_asks(tmp_path: Path) -> None:
    token = propose(tmp_path)
    terminal = Terminal("approve", token, "--state-dir", str(tmp_path))
    screen = terminal.read_until(b"[y/N] ")
    for shown in (
        f"command {COMMAND}",
        f"undo    {UNDO}",
        "target  deployment/web -n shop",
        f"cluster context test at {SERVER}",
        '"shop/web:3" -> "shop/web:2"',
    ):
        assert shown in screen, screen
    assert f"on the cluster at {SERVER} (context test)? [y/N]" in screen
    assert Journal(tmp_path).command(token).state == "pending"  # type: ignore[union-attr]  # asking approves nothing
    terminal.type("y\n")
    code, screen = terminal.finish()
    assert code == 0 and "approved" in screen.rsplit("[y/N]", 1)[1], screen
    row = Journal(tmp_path).command(token)
    assert row and row.state == "approved" and row.decided_by == ME and row.decided_channel == CLI_TERMINAL
    assert approvals(tmp_path, token) == [("approved", ME, CLI_TERMINAL)]


@pytest.mark.parametrize("answer", ["n\n", "\n", "yes please\n", "\x04"], ids=["no", "enter", "other", "eof"])
def test_approve_on_a_terminal_anything_but_yes_approves_nothing(tmp_path: Path, answer: str) -> None:
    token = propose(tmp_path)
    terminal = Terminal("approve", token, "--state-dir", str(tmp_path))
    terminal.read_until(b"[y/N] ")
    terminal.type(answer)
    code, screen = terminal.finish()
    assert code == 1 and "not approved" in screen, screen
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending" and row.decided_by is None
    assert approvals(tmp_path, token) == []


def test_approve_without_a_terminal_needs_yes_and_is_recorded_as_non_interactive(tmp_path: Path) -> None:
    token = propose(tmp_path)
    refused = cli("approve", token, "--state-dir", str(tmp_path))
    assert refused.returncode == 2, refused
    assert "--yes" in refused.stderr and "Nothing was approved" in refused.stderr
    assert COMMAND in refused.stdout  # what was not approved is still shown
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending" and approvals(tmp_path, token) == []

    # $USER and $LOGNAME are the caller's to set; the journal names the account the process runs as.
    done = cli("approve", token, "--yes", "--state-dir", str(tmp_path), env={"USER": "mallory", "LOGNAME": "mallory"})
    assert done.returncode == 0, done.stderr
    assert "approved" in done.stdout
    row = Journal(tmp_path).command(token)
    assert row and row.state == "approved" and row.decided_by == ME and row.decided_channel == CLI_NON_INTERACTIVE
    assert approvals(tmp_path, token) == [("approved", ME, CLI_NON_INTERACTIVE)]


def test_yes_on_a_terminal_does_not_ask_and_says_so_in_the_journal(tmp_path: Path) -> None:
    token = propose(tmp_path)
    code, screen = Terminal("approve", "-y", token, "--state-dir", str(tmp_path)).finish()
    assert code == 0 and "[y/N]" not in screen, screen
    assert approvals(tmp_path, token) == [("approved", ME, CLI_NON_INTERACTIVE)]


def test_deny_never_asks_and_records_whether_a_terminal_ran_it(tmp_path: Path) -> None:
    scripted, typed = propose(tmp_path), propose(tmp_path)
    done = cli("deny", scripted, "--reason", "wrong revision", "--state-dir", str(tmp_path))
    assert done.returncode == 0 and COMMAND in done.stdout and "denied" in done.stdout, done
    code, screen = Terminal("deny", typed, "--state-dir", str(tmp_path)).finish()
    assert code == 0 and "[y/N]" not in screen and "denied" in screen, screen
    assert approvals(tmp_path, scripted) == [("denied", ME, CLI_NON_INTERACTIVE)]
    assert approvals(tmp_path, typed) == [("denied", ME, CLI_TERMINAL)]
    denied = [e for e in Journal(tmp_path).events(token=scripted) if e.kind == "denied"]
    assert denied[0].detail == {"reason": "wrong revision"}
    again = cli("approve", scripted, "--yes", "--state-dir", str(tmp_path))
    assert again.returncode == 1 and "denied" in again.stdout


def test_unknown_token_and_missing_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    propose(tmp_path)
    code, out = run(capsys, "approve", "nope", "--yes", "--state-dir", str(tmp_path))
    assert code == 1 and "unknown_token" in out
    code, out = run(capsys, "approve", "nope", "--state-dir", str(tmp_path))  # no terminal question for a dead token
    assert code == 1 and "unknown_token" in out
    code, out = run(capsys, "pending", "--state-dir", str(tmp_path / "elsewhere"))
    assert code == 1 and "no journal" in out


def test_state_dir_from_environment(tmp_path: Path) -> None:
    token = propose(tmp_path)
    argv = [sys.executable, "-c", LAUNCHER, "approve", token, "--yes"]
    env = {"INCIDENT_RESPONSE_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "approved" in done.stdout


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
        (("approve", "--state-dir", "{state}", "{token}", "-y"), "-y" + secrets.token_urlsafe(30)),
        (("approve", "--yes", "--state-dir={state}", "{token}"), "--yes" + secrets.token_urlsafe(30)),
        (("approve", "--yes", "--state-dir", "{state}", "--", "{token}"), "-h" + "A" * 41),
    ],
    ids=["as-documented", "token-after-options", "equals-form", "after-double-dash"],
)
def test_a_token_starting_with_a_dash_is_approved_as_documented(
    tmp_path: Path, argv: tuple[str, ...], token: str
) -> None:
    # Tokens already in a journal from before the generator changed may start with '-'; so may these forgeries,
    # chosen to look like our own options.
    assert propose(tmp_path, lambda: token) == token
    done = cli(*(a.format(token=token, state=tmp_path) for a in argv))
    assert done.returncode == 0, (done.stdout, done.stderr)
    row = Journal(tmp_path).command(token)
    assert row and row.state == "approved" and row.decided_channel == CLI_NON_INTERACTIVE


def test_a_token_starting_with_a_dash_is_denied_as_documented(tmp_path: Path) -> None:
    token = propose(tmp_path, forged)
    done = cli("deny", token, "--reason", "not this one", "--state-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    row = Journal(tmp_path).command(token)
    assert row and row.state == "denied"


def test_two_tokens_or_an_unknown_option_are_refused(tmp_path: Path) -> None:
    token = propose(tmp_path)
    done = cli("approve", "--yse", token, "--state-dir", str(tmp_path))
    assert done.returncode == 2 and "expected one token, got 2: '--yse'" in done.stderr, done.stderr
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending"
