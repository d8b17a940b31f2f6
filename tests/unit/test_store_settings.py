"""Choosing the store: `--store sqlite` (default) or `--store kubernetes` with its namespace, and what the approve
command line then has to say."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from incident_response.server import approvals_command, config


@pytest.fixture
def outside_a_pod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No service-account namespace to default to, even when the tests run in a pod."""
    from incident_response.tools.engine import pod_identity

    monkeypatch.setattr(pod_identity, "SERVICE_ACCOUNT_NAMESPACE", str(tmp_path / "no-such-file"))


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    config.add_arguments(parser)
    config.add_transport_arguments(parser)
    return parser.parse_args(argv)


def test_sqlite_is_the_default_and_approve_points_at_the_state_dir(tmp_path: Path) -> None:
    settings = config.load_settings(parse("--state-dir", str(tmp_path)), {"HOME": str(tmp_path)})
    assert (settings.store, settings.store_namespace, settings.approvals) == ("sqlite", None, "any")
    assert settings.approve_flags() == f"--state-dir {tmp_path}"
    assert settings.tool_settings().store == "sqlite"


def test_the_kubernetes_store_takes_its_namespace_from_a_flag_or_the_environment(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "INCIDENT_RESPONSE_STORE": "kubernetes", "INCIDENT_RESPONSE_STORE_NAMESPACE": "irm"}
    settings = config.load_settings(parse(), env)
    assert (settings.store, settings.store_namespace) == ("kubernetes", "irm")
    # Approvals are Approval objects a human makes with their own credentials: never the client's dialog.
    assert settings.approvals == "cli"
    assert settings.approve_flags() == "--store kubernetes --store-namespace irm"
    assert settings.store_retention.days == 30
    flagged = config.load_settings(parse("--store-namespace", "ops", "--store-retention-days", "2"), env)
    assert flagged.tool_settings().store_namespace == "ops"
    assert flagged.tool_settings().store_retention.total_seconds() == 2 * 86400


def test_in_a_pod_the_store_namespace_is_the_pods_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from incident_response.tools.engine import pod_identity

    namespace_file = tmp_path / "namespace"
    namespace_file.write_text("incident-response\n", encoding="utf-8")
    monkeypatch.setattr(pod_identity, "SERVICE_ACCOUNT_NAMESPACE", str(namespace_file))
    settings = config.load_settings(parse("--store", "kubernetes"), {"HOME": str(tmp_path)})
    assert settings.store_namespace == "incident-response"
    given = config.load_settings(parse("--store", "kubernetes", "--store-namespace", "ops"), {"HOME": str(tmp_path)})
    assert given.store_namespace == "ops"


@pytest.mark.parametrize(
    "argv, says",
    [
        (("--store", "kubernetes"), "--store-namespace"),
        (("--store", "kubernetes", "--store-namespace", "Not_A_Name"), "not a valid namespace"),
        (("--store", "kubernetes", "--store-namespace", "irm", "--approvals", "any"), "--approvals must be cli"),
        (("--store-retention-days", "soon"), "not a number of days"),
        (("--store-retention-days", "0"), "out of range"),
    ],
)
def test_a_store_setting_it_cannot_use_is_refused_at_startup(
    argv: tuple[str, ...], says: str, tmp_path: Path, outside_a_pod: None
) -> None:
    with pytest.raises(config.SettingsError, match=says):
        config.load_settings(parse(*argv), {"HOME": str(tmp_path)})


def test_an_unknown_store_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(config.SettingsError, match="choose sqlite"):
        config.load_settings(parse(), {"HOME": str(tmp_path), "INCIDENT_RESPONSE_STORE": "etcd"})


def test_approve_with_the_kubernetes_store_needs_a_namespace_and_decides_nothing_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, outside_a_pod: None
) -> None:
    for name in ("INCIDENT_RESPONSE_STORE_NAMESPACE", "KUBERNETES_SERVICE_HOST", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    parser = argparse.ArgumentParser()
    approvals_command.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["approve", "--store", "kubernetes", "--yes", "--", "irm_x"])
    assert args.run(args) == 1
    assert "--store-namespace" in capsys.readouterr().err
    args = parser.parse_args(["approve", "--store", "kubernetes", "--store-namespace", "irm", "--yes", "--", "irm_x"])
    assert args.run(args) == 1
    assert "needs your kubeconfig" in capsys.readouterr().err


@pytest.mark.anyio
async def test_a_team_server_tells_the_model_where_its_store_is_and_how_humans_approve_there(tmp_path: Path) -> None:
    from mcp import Client

    from incident_response.server.app import build_server

    team = config.Settings(state_dir=tmp_path, store="kubernetes", store_namespace="irm", approvals="cli")
    async with Client(build_server(team)) as client:
        instructions = client.instructions or ""
        info = await client.call_tool("server_info", {})
    assert info.structured_content is not None
    assert info.structured_content["store"] == "--store kubernetes --store-namespace irm"
    assert "approve TOKEN --store kubernetes --store-namespace irm" in instructions
    assert "asks them" not in instructions and "--state-dir" not in instructions


def test_approve_with_a_context_the_kubeconfig_lacks_names_the_ones_it_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
        "clusters: [{name: prod, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: alice, user: {token: not-used}}]\n"
        "contexts: [{name: prod, context: {cluster: prod, user: alice}}]\n",
        encoding="utf-8",
    )
    parser = argparse.ArgumentParser()
    approvals_command.add_parsers(parser.add_subparsers(dest="command"))
    argv = ["approve", "--store", "kubernetes", "--store-namespace", "irm", "--kubeconfig", str(kubeconfig)]
    args = parser.parse_args([*argv, "--context", "staging", "--yes", "--", "irm_x"])
    assert args.run(args) == 1
    err = capsys.readouterr().err
    assert "'staging' is not in kubeconfig" in err and "prod" in err


def test_full_mode_is_warned_at_start_and_team_full_mode_says_no_approval_object_is_needed(tmp_path: Path) -> None:
    """`--store kubernetes --mode full` runs plans made through that replica without any Approval (full mode's
    meaning; a plan made in standard mode still needs one wherever it is confirmed): the log says so at start."""
    from incident_response.server.serve_command import startup_warnings

    env = {"HOME": str(tmp_path), "INCIDENT_RESPONSE_STORE_NAMESPACE": "irm"}
    assert startup_warnings(config.load_settings(parse("--state-dir", str(tmp_path)), env)) == []
    (solo,) = startup_warnings(config.load_settings(parse("--mode", "full", "--state-dir", str(tmp_path)), env))
    assert "without a human's approval" in solo and "Approval object" not in solo
    team = config.load_settings(parse("--mode", "full", "--store", "kubernetes"), env)
    (warning,) = startup_warnings(team)
    assert "without any Approval object" in warning and "confirm toolset" in warning
