"""`incident-response-mcp demo`: a bad deploy in a simulated cluster, stabilized through the server's own tools.

The demo is an MCP client talking to this server in-process, exactly as an assistant would: declare the incident,
assess, walk the decision tree, check the rollback's safety, plan the rollback, try to confirm (refused: no human
yet), approve as the human through the same function the `approve` command uses, confirm, watch the rollout,
verify recovery (RECOVERING), verify again after the stability window (RECOVERED, which marks the incident
stabilized) and print the handoff in the playbook's format. The demo does not wait out the window: it moves the
server's clock forward and says so. `demo --serve` serves stdio against the same simulated cluster instead, for any
MCP client.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import anyio

SCENARIO = "bad-deploy"
NAMESPACE = "shop"
TITLE = "checkout pods crash-looping after a deploy"
SEVERITY = "SEV2"
ROLLOUT_TIMEOUT = 60
WINDOW_MINUTES = 5  # verify_recovery's default stability window


class Clock:
    """The server's clock: the wall's, plus what the demo skipped (it does not wait out the stability window)."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="walk through an incident on a simulated cluster",
        description="Start a simulated cluster with a bad deploy and stabilize it through this server's own tools.",
    )
    parser.add_argument("--serve", action="store_true", help="serve MCP over stdio against the simulated cluster")
    parser.add_argument("--mode", choices=("safe", "standard", "full"), default="standard", help="for --serve")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.serve:
        return serve(args.mode)
    return anyio.run(walkthrough, sys.stdout)


class Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.step = 0

    def title(self, text: str) -> None:
        self.step += 1
        print(f"\n== {self.step}. {text}", file=self.out, flush=True)

    def say(self, text: str, indent: int = 3) -> None:
        print(textwrap.indent(text, " " * indent), file=self.out, flush=True)


async def walkthrough(out: TextIO) -> int:
    from mcp import Client

    from incident_response.server import approvals_command
    from incident_response.server.app import build_server
    from incident_response.server.config import Settings
    from incident_response.sim.serve import run_sim
    from incident_response.tools.engine.approvals import CLI_NON_INTERACTIVE
    from incident_response.tools.engine.journal import Journal
    from incident_response.tools.engine.pending import PendingEngine
    from incident_response.tools.kube.client import ClusterSource

    p = Printer(out)
    with (
        tempfile.TemporaryDirectory(prefix="incident-response-demo-") as tmp,
        run_sim(SCENARIO, kubeconfig_path=Path(tmp) / "kubeconfig") as sim,
    ):
        assert sim.kubeconfig_path is not None
        settings = Settings(
            mode="standard",
            state_dir=Path(tmp) / "state",
            cluster=ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context),
        )
        p.say(f"Simulated cluster ({SCENARIO}) at {sim.url}; server in standard mode (a human must approve).", 0)
        clock = Clock()
        server = build_server(settings, clock=clock)
        async with Client(server) as client:

            async def call(tool: str, **arguments: Any) -> dict[str, Any]:
                result = await client.call_tool(tool, arguments)
                text = " ".join(getattr(c, "text", "") for c in result.content[:1])
                structured: dict[str, Any] | None = result.structured_content
                if result.is_error or structured is None:
                    raise RuntimeError(f"{tool} failed: {text}")
                return structured

            async def document(tool: str, **arguments: Any) -> str:
                """A text-only tool's document (incident_handoff answers its summary, then the document)."""
                result = await client.call_tool(tool, arguments)
                text = "\n".join(getattr(c, "text", "") for c in result.content)
                if result.is_error:
                    raise RuntimeError(f"{tool} failed: {text}")
                return text.partition("\ndocument:\n")[2] or text

            p.title(f"declare_incident(title={TITLE!r}, severity={SEVERITY!r}, namespace={NAMESPACE!r})")
            declared = await call("declare_incident", title=TITLE, severity=SEVERITY, namespace=NAMESPACE)
            p.say(declared["summary"])

            p.title(f"assess_namespace(namespace={NAMESPACE!r})")
            assessment = await call("assess_namespace", namespace=NAMESPACE)
            p.say(assessment["summary"])
            for line in assessment["decision"]["evidence"][:3]:
                p.say(f"- {line}", 5)

            p.title(f"evaluate_decision(namespace={NAMESPACE!r})")
            evaluation = await call("evaluate_decision", namespace=NAMESPACE)
            p.say(evaluation["summary"])
            for step in evaluation["steps"]:
                p.say(f"- {step['question']} {step['answer']} ({step['source']})", 5)
            if evaluation["verdict"] != "PROCEED" or evaluation["next_tool"] != "rollback_deployment":
                p.say(f"The playbook does not lead to a rollback here: {evaluation['reason']}")
                return 1
            name = str(evaluation["next_arguments"]["deployment"])

            p.title(f"check_rollback_safety(namespace={NAMESPACE!r}, deployment={name!r})")
            safety = await call("check_rollback_safety", namespace=NAMESPACE, deployment=name)
            p.say(safety["summary"])
            for question in safety["questions_for_human"]:
                p.say(f"? {question}", 5)
            p.say("(The demo's human knows this scenario ships no migrations and keeps no state.)")

            p.title(f"rollback_deployment(namespace={NAMESPACE!r}, deployment={name!r})")
            plan = await call("rollback_deployment", **evaluation["next_arguments"])
            p.say(plan["summary"])
            p.say(f"command: {plan['command']}")
            p.say("diff:")
            for change in plan["diff"]:
                p.say(f"{change['path']}: {change['before']!r} -> {change['after']!r}", 5)
            p.say(f"undo:    {plan['undo_command']}")
            p.say(f"token:   {plan['token']}  (expires {plan['expires_at']})")

            p.title("confirm_command(token) before any human approved")
            waiting = await call("confirm_command", token=plan["token"])
            p.say(f"status: {waiting['status']}. Nothing ran.")

            p.title("The human approves")
            p.say(
                "This demo now acts as the on-call human. It approves through the same code path as\n"
                f"  incident-response-mcp approve {plan['token']} --yes --state-dir {settings.state_dir}\n"
                "(no one answers a y/N question here, so the journal records a non-interactive approval)"
            )
            engine = PendingEngine(Journal(settings.state_dir))
            decision = approvals_command.decide(engine, plan["token"], approved=True, channel=CLI_NON_INTERACTIVE)
            p.say(f"status: {decision.status} ({decision.message})")

            p.title("confirm_command(token)")
            done = await call("confirm_command", token=plan["token"])
            p.say(f"status: {done['status']}: {done['message']}")
            if done["status"] != "succeeded":
                return 1

            p.title(f"rollout_status(namespace={NAMESPACE!r}, deployment={name!r}, timeout_seconds={ROLLOUT_TIMEOUT})")
            status = await call("rollout_status", namespace=NAMESPACE, deployment=name, timeout_seconds=ROLLOUT_TIMEOUT)
            p.say(status["summary"])
            if status.get("state") != "complete":
                p.say("\nThe rollout did not complete; see above.", 0)
                return 1

            p.title(f"verify_recovery(namespace={NAMESPACE!r}, deployment={name!r})")
            recovery = await call("verify_recovery", namespace=NAMESPACE, deployment=name)
            p.say(recovery["summary"])
            for check in recovery["checks"]:
                mark = {True: "ok", False: "FAILED", None: "not checked"}[check["passed"]]
                p.say(f"- {check['name']}: {mark}: {check['detail']}", 5)

            if recovery["verdict"] == "DEGRADED":
                p.say("\nStill degraded after the rollback; see above.", 0)
                return 1

            p.title(f"verify_recovery(namespace={NAMESPACE!r}, deployment={name!r}) after the stability window")
            p.say(
                f"A real incident waits until recheck_at ({WINDOW_MINUTES} minutes without a warning or a restart). "
                f"The demo moves the server's clock {WINDOW_MINUTES + 1} minutes forward instead of waiting."
            )
            clock.skipped = timedelta(minutes=WINDOW_MINUTES + 1)
            recovery = await call("verify_recovery", namespace=NAMESPACE, deployment=name)
            p.say(recovery["summary"])
            if recovery["verdict"] != "RECOVERED":
                p.say("\nNot recovered after the window; see above.", 0)
                return 1

            p.title(f"incident_handoff(namespace={NAMESPACE!r}, deployment={name!r})")
            p.say(await document("incident_handoff", namespace=NAMESPACE, deployment=name))
            p.say(
                "Recovered and stabilized: the handoff above goes to root-cause analysis. Close the incident with "
                "declare_incident(incident_id=..., status='resolved') when the human says it is over.",
                0,
            )
            return 0


def serve(mode: str) -> int:
    from incident_response.server.app import build_server
    from incident_response.server.config import Settings
    from incident_response.sim.serve import run_sim
    from incident_response.tools.kube.client import ClusterSource

    with (
        tempfile.TemporaryDirectory(prefix="incident-response-demo-") as tmp,
        run_sim(SCENARIO, kubeconfig_path=Path(tmp) / "kubeconfig") as sim,
    ):
        assert sim.kubeconfig_path is not None
        state = Path(tmp) / "state"
        settings = Settings(
            mode="full" if mode == "full" else "safe" if mode == "safe" else "standard",
            state_dir=state,
            cluster=ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context),
        )
        print(
            f"simulated cluster ({SCENARIO}) at {sim.url}\nkubeconfig: {sim.kubeconfig_path} (context {sim.context})\n"
            f"approve pending commands with: incident-response-mcp approve TOKEN --state-dir {state}\n"
            "serving MCP on stdio",
            file=sys.stderr,
            flush=True,
        )
        build_server(settings).run()
    return 0
