"""The `incident-response-mcp` command line: one subcommand per job, each implemented in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incident-response-mcp",
        description="MCP server for Kubernetes incident response with confirmed, reversible mitigations.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from incident_response.server import sim_command

    sim_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        raise SystemExit(2)
    code: int = args.run(args)
    raise SystemExit(code)
