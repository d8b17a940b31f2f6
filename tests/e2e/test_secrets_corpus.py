"""Both corpora end to end: credentials planted where real clusters hold them never come out of any tool, the CLI,
the elicitation, the logs or the journal file; look-alikes planted the same way come out untouched."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult, ElicitRequestFormParams, ElicitResult
from support.dialog import human_answer
from support.secrets_corpus import CREDENTIALS, LOOK_ALIKES

from incident_response.server import boundary
from incident_response.server.app import build_server
from incident_response.server.cli import main
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.resources import DEPLOYMENTS, EVENTS, SECRETS
from incident_response.sim.scenarios.builders import App, Revision, Seeder, ensure
from incident_response.sim.scenarios.helm import release_secret
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

NS = "shop"
APP = "vault"
IMAGE = "registry.example.com/shop/vault"


def env_of(values: list[str]) -> list[dict[str, Any]]:
    return [{"name": f"SECRET_{i}", "value": v} for i, v in enumerate(values)]


def plant(sim: RunningSim, texts: list[str], values: list[str]) -> None:
    """`texts` in event messages and reasons, logs, helm descriptions, annotations and args; `values` as env var
    values of two revisions (each revision its own half, so the rollback diff changes every one)."""
    store = sim.store
    lines = "\n".join(texts)
    half = len(values) // 2
    annotations = {f"example.com/note-{i}": t for i, t in enumerate(texts)}
    app = App(APP, NS, 1, labels={"app": APP}, selector={"app": APP}, annotations=annotations)
    args = [a for v in values[:4] for a in ("--password", v)] + [t.replace("\n", " ") for t in texts]
    revisions = [
        Revision(
            f"{IMAGE}:1.0.0",
            "deploy 1.0.0",
            3600,
            {"sim.incident-response.dev/log-lines": lines, "example.com/db-password": values[0], **annotations},
            env=env_of(values[:half]),
            args=args,
        ),
        Revision(
            f"{IMAGE}:1.1.0",
            "deploy 1.1.0",
            600,
            {"sim.incident-response.dev/log-lines": lines},
            env=env_of(values[half:]),
        ),
    ]
    # Seeded into a running cluster: its controllers held meanwhile, or the deployment controller makes the new
    # Deployment's ReplicaSet before the seeder does ("already exists", seen at load 16).
    with sim.cluster._tick_lock:
        Seeder(sim.cluster, ["node-1", "node-2", "node-3"]).app(app, revisions)
    now = datetime.now(UTC)
    for i, text in enumerate(texts):
        stamp = (now - timedelta(seconds=30 + i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        store.create(
            EVENTS,
            {
                "metadata": {"name": f"{APP}.planted{i}", "namespace": NS},
                "type": "Warning",
                "reason": "Failed" if i % 2 else text.replace("\n", " ")[:120],
                "message": text,
                "count": 1,
                "involvedObject": {"kind": "Deployment", "name": APP, "namespace": NS},
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
            },
        )
    for revision, start in enumerate(range(0, len(texts), 8), start=1):
        description = " | ".join(t.replace("\n", " ") for t in texts[start : start + 8])
        when = (now - timedelta(hours=10 - revision)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        ensure(
            store,
            SECRETS,
            release_secret(
                name=APP,
                namespace=NS,
                revision=revision,
                status="superseded",
                chart=APP,
                chart_version="1.0.0",
                app_version="1.0.0",
                first_deployed=when,
                last_deployed=when,
                description=description,
                values={"password": values[0]},
                manifest="kind: Deployment\n",
            ),
        )
    sim.cluster.settle(timeout=15.0)


def sent(result: CallToolResult) -> str:
    texts = [getattr(block, "text", "") for block in result.content]
    return json.dumps(result.structured_content) + "\n" + "\n".join(texts)


ARGUMENTS = {
    "namespace": NS,
    "deployment": APP,
    "pod_or_deployment": f"deployment/{APP}",
    "release": APP,
    "revision": 1,
    "tail_lines": 2000,  # back to the start of the container, where the app printed the planted lines
    "limit": 100,
}


async def call_every_tool(client: Client, token: str | None) -> dict[str, str]:
    """Every listed tool, with the arguments it requires where we know them (the others answer an error, whose
    text counts too)."""
    out: dict[str, str] = {}
    for tool in (await client.list_tools()).tools:
        schema = tool.input_schema or {}
        arguments = {k: v for k, v in ARGUMENTS.items() if k in (schema.get("properties") or {})}
        if "token" in (schema.get("properties") or {}) and token:
            arguments["token"] = token
        if tool.name in ("confirm_command", "cancel_command", "rollout_status"):
            continue  # confirmed below through the elicitation; rollout_status waits
        out[tool.name] = sent(await client.call_tool(tool.name, arguments))
    return out


def capture_logs() -> tuple[io.StringIO, logging.Handler]:
    boundary.install_log_masking()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    return out, handler


async def test_no_planted_credential_leaves_through_any_door(
    sim_factory: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("healthy")
    secrets = [p.secret for p in CREDENTIALS]
    plain = [f"plain{i}word" for i in range(8)]  # shapeless: only their position (env values) hides them
    plant(sim, [p.text for p in CREDENTIALS], plain + secrets)
    assert sim.kubeconfig_path is not None
    state = tmp_path / "state"
    settings = Settings(
        kubeconfig=sim.kubeconfig_path, cluster=resolve_cluster(sim.kubeconfig_path, None, {}), state_dir=state
    )
    logs, handler = capture_logs()
    questions: list[str] = []

    async def human(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        questions.append(params.message)
        return ElicitResult(action="accept", content=human_answer(params))

    outputs: dict[str, str] = {}
    try:
        async with Client(build_server(settings), mode="legacy", elicitation_callback=human) as client:
            plan = await client.call_tool("rollback_deployment", {"namespace": NS, "deployment": APP})
            assert not plan.is_error, plan.content
            assert plan.structured_content is not None
            token = plan.structured_content["token"]
            outputs["rollback_deployment"] = sent(plan)
            outputs |= await call_every_tool(client, token)
            main_output(["pending", "--state-dir", str(state)], capsys, outputs, "cli pending")
            with anyio.fail_after(60):
                confirmed = await client.call_tool("confirm_command", {"token": token})
            outputs["confirm_command"] = sent(confirmed)
            assert confirmed.structured_content is not None
            assert confirmed.structured_content["status"] == "succeeded", confirmed.content
            main_output(["approve", token, "--state-dir", str(state)], capsys, outputs, "cli approve")
            outputs["after"] = "\n".join((await call_every_tool(client, token)).values())
    finally:
        logging.getLogger().removeHandler(handler)
    outputs["elicitation"] = "\n".join(questions)
    outputs["logs"] = logs.getvalue()
    outputs["journal"] = "\n".join(
        f.read_bytes().decode("utf-8", "replace") for f in state.iterdir() if f.name.startswith("journal")
    )

    found = {door: [s for s in secrets + plain if s in text] for door, text in outputs.items()}
    assert not {door: hits for door, hits in found.items() if hits}
    # The doors were exercised: the planted lines and variables are there, masked.
    assert "connecting to postgres://app:[masked:" in outputs["get_logs"]
    assert "connecting to postgres://app:[masked:" in outputs["list_events"]
    assert "SECRET_0" in outputs["rollback_deployment"] and "[masked:" in outputs["rollback_deployment"]
    assert "SECRET_0" in outputs["cli pending"] and "SECRET_0" in outputs["elicitation"]
    assert "[masked:" in outputs["helm_history"]
    # The rollback wrote the planned values, read again from the cluster: the journal never held them.
    deployment = sim.store.peek(DEPLOYMENTS, NS, APP)
    assert deployment is not None
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["value"] for e in env] == (plain + secrets)[: len(plain + secrets) // 2]


def main_output(argv: list[str], capsys: pytest.CaptureFixture[str], outputs: dict[str, str], door: str) -> None:
    with pytest.raises(SystemExit):
        main([*argv, "--yes"] if argv[0] == "approve" else argv)
    captured = capsys.readouterr()
    outputs[door] = captured.out + captured.err


async def test_no_look_alike_is_masked_on_the_way_out(sim_factory: Any, tmp_path: Path) -> None:
    sim = sim_factory("healthy")
    plant(sim, LOOK_ALIKES, [f"v{i}" for i in range(4)])
    assert sim.kubeconfig_path is not None
    settings = Settings(
        kubeconfig=sim.kubeconfig_path,
        cluster=resolve_cluster(sim.kubeconfig_path, None, {}),
        state_dir=tmp_path / "state",
    )
    async with Client(build_server(settings)) as client:
        logs = sent(
            await client.call_tool(
                "get_logs", {"namespace": NS, "pod_or_deployment": f"deployment/{APP}", "tail_lines": 2000}
            )
        )
        events = sent(await client.call_tool("list_events", {"namespace": NS, "limit": 200}))
        helm = sent(await client.call_tool("helm_history", {"namespace": NS, "release": APP}))
    for line in LOOK_ALIKES:
        shown = json.dumps(line)[1:-1]  # as it appears inside the JSON copy
        assert line in logs or shown in logs, line
        assert line in events or shown in events, line
    # helm_history cuts long descriptions: what it shows of them is unmasked too.
    assert "registry.example.com/shop/web:1.9.1" in helm
    assert "[masked:" not in logs + events + helm
