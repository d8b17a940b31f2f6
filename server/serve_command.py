"""`incident-response-mcp serve` (the default command): MCP over stdio, or streamable HTTP with --http.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from incident_response.server import config


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="serve MCP over stdio (default) or streamable HTTP",
        description="Serve the incident-response MCP server. Logs go to stderr; stdout carries the protocol.",
    )
    config.add_arguments(parser)
    config.add_transport_arguments(parser)
    config.add_auth_arguments(parser)
    config.add_tool_arguments(parser)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = config.load_settings(args)
    except config.SettingsError as e:
        print(f"incident-response-mcp: {e}", file=sys.stderr)
        return 2
    credentials = None
    if settings.http and settings.auth != "kubernetes":
        # Before the server's imports (about a second of CPU): a refusal to start without usable credentials is
        # told at once.
        from incident_response.server import http_credentials

        try:
            credentials = http_credentials.of_settings(settings)
        except config.SettingsError as e:
            print(f"incident-response-mcp: {e}", file=sys.stderr)
            return 2
    # Imported here so `--help` and the other subcommands stay fast.
    from incident_response.server.app import build_server
    from incident_response.server.wire import IncidentServer

    log = logging.getLogger("incident_response.server")
    server: IncidentServer
    if settings.http:
        from incident_response.server import http_security

        try:
            server = http_security.build(settings, http_security.for_settings(settings, credentials=credentials))
        except config.SettingsError as e:
            print(f"incident-response-mcp: {e}", file=sys.stderr)
            return 2
    else:
        server = build_server(settings)
    # Build the tools and import the Kubernetes client once the client has listed them, while its model thinks, so
    # the first call does not pay for them.
    if server.lazy is not None:
        server.lazy.warm_after_listing = True
    log.info(
        "serving in %s mode, cluster: %s, namespaces: %s, toolsets: %s%s",
        settings.mode,
        config.describe_cluster(settings.cluster),
        ", ".join(settings.namespaces) or "all",
        ", ".join(settings.toolsets) or "all",
        " (read-only profile)" if settings.read_only else "",
    )
    for warning in startup_warnings(settings):
        log.warning("%s", warning)
    if settings.http:
        if settings.port:
            log.info("streamable HTTP on http://%s:%d/mcp", settings.host, settings.port)
        else:
            log.info(
                "streamable HTTP on a free port of %s: uvicorn's 'running on' line names it (path /mcp)", settings.host
            )
        server.run("streamable-http", host=settings.host, port=settings.port)
    else:
        server.run()
    return 0


def startup_warnings(settings: config.Settings) -> list[str]:
    """What an operator must not miss in the log: a server that runs plans without a human's approval."""
    if settings.mode != "full":
        return []
    warning = (
        "full mode: confirm_command runs the plans made through this server without a human's approval (the journal "
        "records `none (full mode)`); a plan made on a standard-mode server still waits for one"
    )
    if settings.store == "kubernetes":
        warning += (
            ". With --store kubernetes this replica runs plans made through it without any Approval object: every "
            "principal with the confirm toolset runs its own plans unapproved"
        )
    return [warning]
