"""`incident-response-mcp sim`: serves a scenario on 127.0.0.1 and writes a kubeconfig for it alone."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from incident_response.sim.scenarios import SCENARIOS

CLI = [sys.executable, "-m", "incident_response.server.cli"]
# The CLI as a terminal starts it, where Ctrl-C (SIGINT) stops it: a process started with SIGINT ignored (pytest run
# in the background by a non-interactive shell, as CI runners and scripts do) passes that on to its children, and
# Python then installs no KeyboardInterrupt handler: the sim never saw the SIGINT and the test timed out.
INTERACTIVE = [
    sys.executable,
    "-c",
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from incident_response.server.cli import main; main()",
]


def test_sim_serves_a_scenario_and_writes_its_kubeconfig(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc" / "config"
    proc = subprocess.Popen(
        [*INTERACTIVE, "sim", "--scenario", "bad-deploy", "--port", "0", "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the server listens (or the process dies: EOF)
        assert "listening on http://127.0.0.1:" in first, first + (proc.stderr.read() if proc.poll() else "")
        url = first.rsplit(" ", 1)[-1].strip()
        config = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
        assert config["current-context"] == "sim"
        assert [c["cluster"]["server"] for c in config["clusters"]] == [url]
        with urllib.request.urlopen(f"{url}/api/v1/namespaces/shop/pods", timeout=10) as response:
            pods = json.load(response)["items"]
        assert any(p["metadata"]["labels"].get("app") == "checkout" for p in pods)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
    assert code == 0


def test_sim_with_tls_authenticates_tokens(tmp_path: Path) -> None:
    """--tls: HTTPS with a certificate its kubeconfig trusts; kubectl then sends tokens and RBAC applies."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH")
    kubeconfig = tmp_path / "kc" / "config"
    proc = subprocess.Popen(
        [*INTERACTIVE, "sim", "--port", "0", "--tls", "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def k(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [kubectl, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "listening on https://127.0.0.1:" in first, first + (proc.stderr.read() if proc.poll() else "")
        assert "sim-admin" in k("auth", "whoami").stdout
        forged = k("get", "pods", "--token=forged")
        assert forged.returncode == 1 and "You must be logged in to the server" in forged.stderr
        k("create", "serviceaccount", "bot")
        token = k("create", "token", "bot").stdout.strip()
        denied = k("get", "pods", "-n", "shop", f"--token={token}")
        assert 'User "system:serviceaccount:default:bot" cannot list resource "pods"' in denied.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
    assert code == 0


def test_sim_lists_its_scenarios() -> None:
    done = subprocess.run([*CLI, "sim", "--list-scenarios"], capture_output=True, text=True, timeout=60, check=True)
    assert [line.split()[0] for line in done.stdout.splitlines()] == list(SCENARIOS)


def test_an_unknown_scenario_is_refused_with_the_choices() -> None:
    done = subprocess.run([*CLI, "sim", "--scenario", "nope"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "unknown scenario 'nope'" in done.stderr
    assert "bad-deploy" in done.stderr
