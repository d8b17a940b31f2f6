from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

import pytest

from incident_response.server import config, serve_command
from incident_response.tools.engine.deps import Deps
from incident_response.tools.kube.client import ClusterSource


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    config.add_arguments(parser)
    config.add_transport_arguments(parser)
    config.add_auth_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_with_an_empty_environment(tmp_path: Path) -> None:
    settings = config.load_settings(parse(), {"HOME": str(tmp_path)})
    assert settings.mode == "standard"
    assert settings.cluster is None
    assert settings.namespaces == ()
    assert settings.state_dir == tmp_path / ".local" / "state" / "incident-response-mcp"
    assert (settings.http, settings.host, settings.port) == (False, "127.0.0.1", 8000)


def test_environment_variables_and_flags_flags_win(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "xdg"),
        "INCIDENT_RESPONSE_MODE": "safe",
        "INCIDENT_RESPONSE_NAMESPACE": "shop, payments",
        "INCIDENT_RESPONSE_KUBECONFIG": str(tmp_path / "kc"),
        "INCIDENT_RESPONSE_HTTP": "true",
        "INCIDENT_RESPONSE_PORT": "9000",
    }
    from_env = config.load_settings(parse(), env)
    assert from_env.mode == "safe"
    assert from_env.namespaces == ("shop", "payments")
    assert from_env.state_dir == tmp_path / "xdg" / "incident-response-mcp"
    assert from_env.cluster == ClusterSource(kubeconfig=tmp_path / "kc")
    assert (from_env.http, from_env.port) == (True, 9000)
    flags = config.load_settings(parse("--mode", "full", "--namespace", "a", "--namespace", "b", "--context", "x"), env)
    assert (flags.mode, flags.namespaces, flags.context) == ("full", ("a", "b"), "x")


def test_in_cluster_when_running_in_a_pod_without_a_kubeconfig(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    assert config.load_settings(parse(), env).cluster == ClusterSource(in_cluster=True)
    explicit = config.load_settings(parse("--kubeconfig", str(tmp_path / "kc")), env)
    assert explicit.cluster is not None and not explicit.cluster.in_cluster


def test_kubeconfig_env_and_home_default(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text("{}", encoding="utf-8")
    home_default = config.load_settings(parse(), {"HOME": str(tmp_path)})
    assert home_default.cluster == ClusterSource(kubeconfig=tmp_path / ".kube" / "config")
    (tmp_path / "other").write_text("{}", encoding="utf-8")
    from_env = config.load_settings(parse(), {"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "other")})
    assert from_env.cluster == ClusterSource(kubeconfig=tmp_path / "other")


def test_bad_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(config.SettingsError, match="unknown mode"):
        config.load_settings(parse(), {"HOME": str(tmp_path), "INCIDENT_RESPONSE_MODE": "yolo"})
    with pytest.raises(config.SettingsError, match="port"):
        config.load_settings(parse(), {"HOME": str(tmp_path), "INCIDENT_RESPONSE_PORT": "http"})
    for out_of_range in ("-1", "65536"):
        with pytest.raises(config.SettingsError, match="out of range"):
            config.load_settings(parse("--port", out_of_range), {"HOME": str(tmp_path)})


def test_port_zero_means_any_free_port_not_the_default(tmp_path: Path) -> None:
    assert config.load_settings(parse("--port", "0"), {"HOME": str(tmp_path)}).port == 0
    assert config.load_settings(parse(), {"HOME": str(tmp_path), "INCIDENT_RESPONSE_PORT": "0"}).port == 0


def test_pending_ttl_from_flag_or_environment_reaches_the_engine(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert config.load_settings(parse(), home).tool_settings().pending_ttl == timedelta(seconds=900)
    from_env = config.load_settings(parse(), {**home, "INCIDENT_RESPONSE_PENDING_TTL": "120"})
    assert from_env.tool_settings().pending_ttl == timedelta(seconds=120)
    flag = config.load_settings(parse("--pending-ttl", "3600"), {**home, "INCIDENT_RESPONSE_PENDING_TTL": "120"})
    assert flag.pending_ttl == timedelta(hours=1)
    deps = Deps(flag.tool_settings())
    assert deps.pending.ttl == timedelta(hours=1)


@pytest.mark.parametrize("value", ["59", "86401", "0", "-5", "15m", "1.5"])
def test_pending_ttl_out_of_range_or_malformed_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(config.SettingsError, match="pending TTL"):
        config.load_settings(parse("--pending-ttl", value), {"HOME": str(tmp_path)})


def test_serve_accepts_pending_ttl() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    serve_command.add_parser(commands)
    assert parser.parse_args(["serve", "--pending-ttl", "60"]).pending_ttl == "60"


def test_approvals_from_flag_or_environment_and_refused_when_unknown(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert config.load_settings(parse(), env).tool_settings().approvals == "any"
    from_env = config.load_settings(parse(), {**env, "INCIDENT_RESPONSE_APPROVALS": "cli"})
    assert from_env.approvals == "cli" and from_env.tool_settings().approvals == "cli"
    assert config.load_settings(
        parse("--approvals", "any"), {**env, "INCIDENT_RESPONSE_APPROVALS": "cli"}
    ).approvals == ("any")
    with pytest.raises(config.SettingsError, match="unknown approvals 'client'.*cli"):
        config.load_settings(parse(), {**env, "INCIDENT_RESPONSE_APPROVALS": "client"})
    with pytest.raises(SystemExit):
        parse("--approvals", "client")


def test_kubernetes_auth_is_for_http_and_takes_audiences_from_flags_or_environment(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert config.load_settings(parse(), home).auth == "static"
    with pytest.raises(config.SettingsError, match="add --http"):
        config.load_settings(parse("--auth", "kubernetes"), home)
    env = {
        **home,
        "INCIDENT_RESPONSE_AUTH": "kubernetes",
        "INCIDENT_RESPONSE_HTTP": "1",
        "INCIDENT_RESPONSE_AUTH_AUDIENCE": "a, b,,a",
        "INCIDENT_RESPONSE_AUTH_NAMESPACE": "team",
    }
    from_env = config.load_settings(parse(), env)
    assert (from_env.auth, from_env.auth_audiences, from_env.auth_namespace) == ("kubernetes", ("a", "b"), "team")
    flags = config.load_settings(parse("--auth-audience", "mcp", "--auth-namespace", "other"), env)
    assert (flags.auth_audiences, flags.auth_namespace) == (("mcp",), "other")
    with pytest.raises(config.SettingsError, match="choose static"):
        config.load_settings(parse(), {**env, "INCIDENT_RESPONSE_AUTH": "oauth"})


def test_a_team_store_over_http_authenticates_clients_by_the_cluster_unless_told_otherwise(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    team = ("--store", "kubernetes", "--store-namespace", "ir")
    assert config.load_settings(parse(*team, "--http"), home).auth == "kubernetes"
    assert config.load_settings(parse(*team, "--http", "--auth", "static"), home).auth == "static"
    assert config.load_settings(parse(*team), home).auth == "static"  # stdio: the client is local
