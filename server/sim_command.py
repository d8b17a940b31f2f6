"""`incident-response-mcp sim`: serve the simulated cluster until interrupted.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "sim",
        help="run the built-in simulated Kubernetes cluster on 127.0.0.1",
        description="Serve an in-memory Kubernetes API (kubectl 1.32 compatible) seeded with an incident scenario.",
    )
    parser.add_argument("--scenario", default="healthy", help="scenario to load (see --list-scenarios)")
    parser.add_argument("--list-scenarios", action="store_true", help="print the scenarios and exit")
    parser.add_argument("--pods", type=int, default=0, metavar="N", help="add N healthy pods for scale tests")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--kubeconfig-out", type=Path, metavar="PATH", help="write a kubeconfig for the cluster here")
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a throwaway certificate (needs openssl); kubectl sends tokens only over TLS, so "
        "ServiceAccount tokens (kubectl create token) and RBAC can be tried only with it",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from incident_response.sim.scenarios import SCENARIOS
    from incident_response.sim.serve import run_sim

    if args.list_scenarios:
        for name, description in SCENARIOS.items():
            print(f"{name:14} {description}")
        return 0
    if args.scenario not in SCENARIOS:
        print(f"unknown scenario {args.scenario!r}; choose one of: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    if args.pods < 0 or not 0 <= args.port <= 65535:
        print("--pods must be >= 0 and --port between 0 and 65535", file=sys.stderr)
        return 2
    try:
        with run_sim(
            args.scenario, port=args.port, kubeconfig_path=args.kubeconfig_out, extra_pods=args.pods, tls=args.tls
        ) as sim:
            print(f"simulated cluster ({args.scenario}) listening on {sim.url}", flush=True)
            if args.kubeconfig_out:
                print(f"kubeconfig written to {args.kubeconfig_out} (context {sim.context!r})", flush=True)
                print(f"try: kubectl --kubeconfig {args.kubeconfig_out} get pods -A", flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        print(f"cannot start the simulated cluster: {e}", file=sys.stderr)
        return 1
    return 0
