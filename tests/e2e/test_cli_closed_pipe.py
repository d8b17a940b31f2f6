"""`incident-response-mcp pending | head -5`: a reader that stops early is no error of ours. The process ends
quietly (no traceback on the human's terminal), as the shell's own tools do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.approve_cli import propose

LAUNCHER = "from incident_response.server.cli import main; main()"


def test_pending_into_a_closed_pipe_ends_without_a_traceback(tmp_path: Path) -> None:
    for _ in range(3):
        propose(tmp_path)
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before anything is written: every write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, "pending", "--state-dir", str(tmp_path)],
            stdout=writer,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert "Traceback" not in done.stderr, done.stderr
    assert "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode != 0  # the listing did not reach its reader
