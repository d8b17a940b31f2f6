"""The SQLite journal's cost per operation, on a disk directory (fsync is what a durable write pays; a tmpfs such as
/dev/shm, where the tests keep their state, hides it).

    python bench/journal_writes.py [-n 200] [--dir DIR]

Times, per call, what a tool call costs the journal: record_tool_call (every tool call writes one), record_event
(a verification's timeline entry), add_command + transition (planning, and a claim: the writes exactly-once rests
on), and the reads a tool makes (commands(), events()). Prints the median and p90 in milliseconds and the total.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident_response.tools.engine.journal import Journal


def timed(name: str, n: int, op: Callable[[int], object]) -> None:
    took = []
    for i in range(n):
        start = time.perf_counter()
        op(i)
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    print(
        f"{name:<28} median {statistics.median(took):7.2f} ms  p90 {took[int(len(took) * 0.9)]:7.2f} ms  "
        f"total {sum(took) / 1000:6.2f} s  (n={n})"
    )


def plan(i: int) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "token": f"tok-{i:06d}",
        "incident": "inc-bench",
        "tool": "rollback_deployment",
        "fingerprint": "f" * 64,
        "created_at": now.isoformat(),
        "expires_at": (now + timedelta(minutes=15)).isoformat(),
        "command": "kubectl rollout undo deployment/checkout -n shop --to-revision=2",
        "summary": "roll back checkout",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="a directory on the disk to measure (default .)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="journal-bench-", dir=args.dir) as tmp:
        start = time.perf_counter()
        journal = Journal(Path(tmp) / "state")
        print(f"open (schema)                {1000 * (time.perf_counter() - start):7.2f} ms   in {tmp}")
        n = args.n
        timed(
            "record_tool_call",
            n,
            lambda i: journal.record_tool_call(
                "list_pods", {"namespace": "shop"}, status="ok", duration_ms=3.0, incident="inc-bench"
            ),
        )
        timed("record_event", n, lambda i: journal.record_event("verified", incident="inc-bench", detail={"i": i}))
        timed("add_command", n, lambda i: journal.add_command(plan(i), state="pending"))
        claim = ["pending"]
        timed("transition (claim)", n, lambda i: journal.transition(f"tok-{i:06d}", claim, "executing", event="c"))
        timed("command (read one)", n, lambda i: journal.command(f"tok-{i:06d}"))
        timed("commands (read all)", min(n, 50), lambda i: journal.commands(states=["executing"]))
        timed("events (read all)", min(n, 50), lambda i: journal.events(incident="inc-bench"))


if __name__ == "__main__":
    main()
