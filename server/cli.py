"""The `incident-response-mcp` command line: one subcommand per job, each implemented in its own module.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incident-response-mcp",
        description="MCP server for Kubernetes incident response with confirmed, reversible mitigations.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from incident_response.server import approvals_command, demo_command, serve_command, sim_command

    serve_command.add_parser(commands)
    sim_command.add_parser(commands)
    approvals_command.add_parsers(commands)
    demo_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    # `serve` is the default: no subcommand, or only serve's flags, means serve.
    if not arguments or (arguments[0].startswith("-") and arguments[0] not in ("-h", "--help")):
        arguments = ["serve", *arguments]
    from incident_response.server import approvals_command

    if arguments[0] in approvals_command.VERBS:
        # A token may start with '-' (older ones do): make it the positional, as `approve TOKEN` promises.
        arguments = approvals_command.token_positional(arguments)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help(sys.stderr)
        raise SystemExit(2)
    from incident_response.server import boundary

    # The process side of the masking boundary (README, Secrets): every log record and everything printed. The stdio
    # transport writes the protocol to sys.stdout's binary buffer, below the masking text layer.
    boundary.install_log_masking()
    try:
        with boundary.masked_stdio():
            code: int = args.run(args)
    except BrokenPipeError:
        # The reader went away (`pending | head`): not our error. Later flushes at exit must not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(141) from None  # as a shell reports a process ended by SIGPIPE
    raise SystemExit(code)


if __name__ == "__main__":
    main()
