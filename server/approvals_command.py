"""`incident-response-mcp pending | approve TOKEN | deny TOKEN`: the human's side of a pending command.

These run in the human's own terminal, outside the agent's reach, and write to the same journal as the server
(pass the same `--state-dir`). The approver is the OS user running the command; the channel is `cli`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from incident_response.server import config
from incident_response.tools.engine.journal import DB_NAME, Journal
from incident_response.tools.engine.pending import CommandResult, HumanAnswer, PendingEngine
from incident_response.tools.engine.plan import PendingCommand, render_diff


def add_parsers(commands: Any) -> None:
    pending = commands.add_parser(
        "pending", help="list commands waiting for approval", description="List pending commands: command, diff, undo."
    )
    _state_dir_argument(pending)
    pending.set_defaults(run=run_pending)
    for verb, help_text in (("approve", "approve a pending command"), ("deny", "deny a pending command")):
        parser = commands.add_parser(verb, help=help_text, description=f"{help_text.capitalize()} by its token.")
        parser.add_argument("token", help="the token the assistant showed")
        _state_dir_argument(parser)
        if verb == "deny":
            parser.add_argument("--reason", help="why, for the incident timeline")
        parser.set_defaults(run=run_decide, approved=verb == "approve")


def _state_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=Path, help="the server's state directory [INCIDENT_RESPONSE_STATE_DIR]")


def state_dir(args: argparse.Namespace) -> Path:
    if args.state_dir:
        return Path(args.state_dir).expanduser()
    env = os.environ.get(config.ENV_PREFIX + "STATE_DIR")
    return Path(env).expanduser() if env else config.default_state_dir(os.environ)


def open_engine(args: argparse.Namespace) -> PendingEngine | None:
    folder = state_dir(args)
    if not (folder / DB_NAME).is_file():
        print(f"no journal in {folder}: is that the server's --state-dir?", file=sys.stderr)
        return None
    return PendingEngine(Journal(folder))


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def describe(cmd: PendingCommand, state: str) -> str:
    age = (datetime.now(UTC) - cmd.created_at).total_seconds()
    left = (cmd.expires_at - datetime.now(UTC)).total_seconds()
    lines = [
        f"token   {cmd.token}",
        f"state   {state}   risk {cmd.risk}   age {age:.0f}s   expires in {max(left, 0):.0f}s",
        f"        {cmd.summary}",
        f"command {cmd.command}",
        "diff",
        render_diff(cmd.diff),
        f"undo    {cmd.undo_command or '(none)'}",
    ]
    lines += [f"warning {w}" for w in cmd.warnings]
    return "\n".join(lines)


def run_pending(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    if engine is None:
        return 1
    live = engine.live()
    if not live:
        print("no pending commands")
        return 0
    for row, cmd in live:
        print(describe(cmd, row.state))
        print()
    print(f"approve with: incident-response-mcp approve TOKEN --state-dir {engine.journal.state_dir}")
    return 0


def decide(engine: PendingEngine, token: str, *, approved: bool, reason: str | None = None) -> CommandResult:
    """Record a human decision made at the terminal. The demo uses this same function to approve as the human."""
    return engine.decide(token, HumanAnswer(approved=approved, approver=os_user(), channel="cli", reason=reason))


def run_decide(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    if engine is None:
        return 1
    found = engine.get(args.token)
    if found is not None:
        print(describe(found[1], found[0].state))
    result = decide(engine, args.token, approved=args.approved, reason=getattr(args, "reason", None))
    print(f"{result.status}: {result.message}")
    if result.status == "approved":
        print("The assistant can now run it with confirm_command; it will re-check the cluster first.")
    return 0 if result.status == ("approved" if args.approved else "denied") else 1
