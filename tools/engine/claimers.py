"""Who is executing a command: the claimer recorded with a claim (pid, host, process start, lease), and whether it
can still finish (its process alive on this host, not a reused pid, its lease not run out).

Layer: tools.engine.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from incident_response.tools.engine.records import (  # re-exported: the rows were defined here first
    UNTITLED as UNTITLED,
)
from incident_response.tools.engine.records import (
    CommandRow as CommandRow,
)
from incident_response.tools.engine.records import (
    Event as Event,
)
from incident_response.tools.engine.records import (
    IncidentRow as IncidentRow,
)
from incident_response.tools.engine.records import (
    IncidentStatus as IncidentStatus,
)
from incident_response.tools.engine.records import (
    ToolCall as ToolCall,
)

# An execution that has not finished after this long is presumed dead even if its pid is alive again (pid reuse),
# or when it ran on another host, where the pid cannot be checked.
CLAIM_LEASE = 3600.0


def claimer(now: float) -> dict[str, Any]:
    """Who is executing a command, recorded with the claim so a later process can tell whether it died. The process
    start time tells a live claimer from a new process that was given the same pid."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "started": _process_start(pid), "lease_until": now + CLAIM_LEASE}


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first); None where there is no /proc."""
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _process_start(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (field 22 of /proc/PID/stat): unique for a pid's life."""
    fields = _proc_stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def _pid_alive(pid: int, started: int | None = None) -> bool:
    """Whether the process is still running; with `started`, whether it is still the same process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    fields = _proc_stat(pid)
    if fields is None:
        return True  # no /proc: signal 0 is all we can know
    # A killed child its parent has not reaped yet is a zombie: it answers signal 0 but runs nothing.
    if fields[0] == "Z":
        return False
    return started is None or _process_start(pid) in (None, started)


def claimer_gone(row: CommandRow, now: float) -> bool:
    """True when an `executing` command's claimer can no longer finish it: its pid is gone on this host or now
    belongs to a process started later (pid reuse), or its lease ran out (another host, or no start time to tell
    pids apart). Rows from before claimers were recorded use the lease."""
    if row.state != "executing":
        return False
    who = row.claimer or {}
    lease_until = float(who.get("lease_until") or (row.claimed_at or 0) + CLAIM_LEASE)
    if lease_until <= now:
        return True
    pid, started = who.get("pid"), who.get("started")
    if who.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    return not _pid_alive(pid, started if isinstance(started, int) else None)
