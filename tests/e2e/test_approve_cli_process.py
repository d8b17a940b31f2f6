"""The approve CLI as the human runs it: a real process, on a pseudo-terminal or with stdin that is not one.

The other cases of the CLI (every answer, deny, odd tokens, the state directory) call its main in-process
(tests/unit/test_approvals_cli.py), with stdin standing in for a terminal or not; these check that the process itself
sees its terminal, shows the plan on it, and records the OS account it runs as.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.approve_cli import COMMAND, ME, UNDO, approvals, propose
from support.fakekube import SERVER

from incident_response.tools.engine.approvals import CLI_NON_INTERACTIVE, CLI_TERMINAL
from incident_response.tools.engine.journal import Journal

LAUNCHER = "from incident_response.server.cli import main; main()"


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a process whose stdin is not a terminal (a script, another program, an agent's shell)."""
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        start_new_session=True,  # no controlling terminal even when pytest runs in one
    )


class Terminal:
    """The command on a pseudo-terminal, as a human runs it: read what it shows, type an answer."""

    def __init__(self, *argv: str, stdin: int | None = None) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, *argv],
            stdin=slave if stdin is None else stdin,
            stdout=slave,
            stderr=slave,
            close_fds=True,
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


def test_no_on_a_terminal_approves_nothing(tmp_path: Path) -> None:
    token = propose(tmp_path)
    terminal = Terminal("approve", token, "--state-dir", str(tmp_path))
    terminal.read_until(b"[y/N] ")
    terminal.type("n\n")
    code, screen = terminal.finish()
    assert code == 1 and "not approved" in screen, screen
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending" and row.decided_by is None
    assert approvals(tmp_path, token) == []


def test_yes_pasted_into_a_terminal_still_asks(tmp_path: Path) -> None:
    """`approve TOKEN --yes` is a line an assistant could ask a person to paste: on a terminal it still asks."""
    token = propose(tmp_path)
    terminal = Terminal("approve", token, "--yes", "--state-dir", str(tmp_path))
    screen = terminal.read_until(b"[y/N] ")
    assert f"command {COMMAND}" in screen and "--yes is for scripts" in screen, screen
    terminal.type("n\n")
    code, screen = terminal.finish()
    assert code == 1 and "not approved" in screen, screen
    assert approvals(tmp_path, token) == []


def test_a_yes_typed_before_the_question_does_not_answer_it(tmp_path: Path) -> None:
    """Only an answer given after the plan is shown counts: a `y` waiting on the terminal before the question (typed
    ahead, or fed in by a pasted `echo y | script -qc 'incident-response-mcp approve TOKEN' /dev/null`) is dropped.
    It approved before."""
    token = propose(tmp_path)
    terminal = Terminal("approve", token, "--state-dir", str(tmp_path))
    terminal.type("y\n")  # before the process has even started
    terminal.read_until(b"[y/N] ")
    assert Journal(tmp_path).command(token).state == "pending"  # type: ignore[union-attr]
    terminal.type("n\n")
    code, screen = terminal.finish()
    assert code == 1 and "not approved" in screen.rsplit("[y/N]", 1)[1], screen
    assert approvals(tmp_path, token) == []


def test_yes_pasted_with_its_input_redirected_on_a_terminal_approves_nothing(tmp_path: Path) -> None:
    """`approve TOKEN --yes < /dev/null` pasted into a terminal: stdin is no terminal, but a person is watching one.
    It approved at once before (recorded non-interactive); now it refuses and says to run `approve TOKEN` as is."""
    token = propose(tmp_path)
    terminal = Terminal("approve", token, "--yes", "--state-dir", str(tmp_path), stdin=subprocess.DEVNULL)
    code, screen = terminal.finish()
    assert code == 2 and f"command {COMMAND}" in screen and "Nothing was approved" in screen, screen
    assert f"incident-response-mcp approve {token}" in screen, screen
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending" and approvals(tmp_path, token) == []


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


# The CLI in a terminal session it does not write to: a new session whose controlling terminal is `sys.argv[1]` (the
# first terminal a session leader opens becomes its own), then the CLI with the rest of the arguments.
IN_SESSION = (
    "import os, sys; os.setsid(); os.close(os.open(sys.argv[1], os.O_RDWR)); "
    "from incident_response.server.cli import main; main(sys.argv[2:])"
)


def test_yes_pasted_with_input_and_output_redirected_is_refused_and_told_on_the_terminal(tmp_path: Path) -> None:
    """`approve TOKEN --yes </dev/null >/dev/null 2>&1` pasted into a shell: nothing it prints reaches a terminal,
    but the shell's terminal is still its controlling terminal, so a person is there. It approved silently before;
    now it refuses, and says so on that terminal (the person sees why nothing happened)."""
    token = propose(tmp_path)
    master, slave = pty.openpty()
    try:
        argv = [sys.executable, "-c", IN_SESSION, os.ttyname(slave), "approve", token, "--yes"]
        done = subprocess.run(
            [*argv, "--state-dir", str(tmp_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        os.close(slave)
        slave = -1
        shown = drain(master)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert done.returncode == 2
    assert "Nothing was approved" in shown and f"incident-response-mcp approve {token}" in shown, shown
    row = Journal(tmp_path).command(token)
    assert row and row.state == "pending" and approvals(tmp_path, token) == []


def drain(master: int) -> str:
    """What the terminal shows, once every process holding it has let go (reads end with EIO then)."""
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            pytest.fail(f"the terminal stayed open for 60s:\n{seen.decode(errors='replace')}")
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen.decode(errors="replace").replace("\r\n", "\n")


def test_a_program_outside_any_terminal_approves_with_yes_and_says_so_on_stderr(tmp_path: Path) -> None:
    """A service, a CI job or a bot may approve (--yes, no terminal session): with its stdout thrown away it still
    says on stderr who approved what without asking anyone, and the journal records it as non-interactive."""
    token = propose(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, "approve", token, "--yes", "--state-dir", str(tmp_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stderr
    said = f"APPROVED WITHOUT ASKING anyone (--yes, no terminal) as {ME}: {COMMAND}."
    assert said in done.stderr and repr(CLI_NON_INTERACTIVE) in done.stderr, done.stderr
    assert approvals(tmp_path, token) == [("approved", ME, CLI_NON_INTERACTIVE)]
