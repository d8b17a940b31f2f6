"""Readiness probes with real kubectl as the oracle: a probe (httpGet or tcpSocket) on a port none of the pod's
containers declares never succeeds: the pod runs 0/1, not Ready, with the prober's Warning Unhealthy ('Readiness
probe failed: ... dial tcp IP:PORT: connect: connection refused'); a probe on a declared port (by number or name)
passes. A rollout that moves the probe to such a port stops with the old pods serving (play/ra8_probe.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from support.kubectl_runner import Kubectl
from support.sims import SimFactory

from incident_response.sim.serve import RunningSim

NS = "shop"


def _pod(name: str, probe: dict[str, Any]) -> str:
    container = {
        "name": "main",
        "image": "busybox",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": probe,
    }
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}}
    return json.dumps({**body, "spec": {"containers": [container]}})


def test_a_probe_on_a_port_the_pod_does_not_serve_never_passes(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=_pod("admin", {"httpGet": {"path": "/healthz", "port": 9090}}))
    k.run("apply", "-f", "-", stdin=_pod("tcp", {"tcpSocket": {"port": 9090}}))
    k.run("apply", "-f", "-", stdin=_pod("number", {"httpGet": {"path": "/healthz", "port": 8080}}))
    k.run("apply", "-f", "-", stdin=_pod("named", {"tcpSocket": {"port": "http"}}))
    sim.advance(5)
    rows = {r["NAME"]: (r["READY"], r["STATUS"]) for r in k.table("pods", "-n", NS)}
    assert rows["admin"] == rows["tcp"] == ("0/1", "Running"), rows
    assert rows["number"] == rows["named"] == ("1/1", "Running"), rows
    pod = json.loads(k.run("get", "pod", "admin", "-n", NS, "-o", "json").stdout)
    ip = pod["status"]["podIP"]
    events = json.loads(k.run("get", "events", "-n", NS, "--field-selector=reason=Unhealthy", "-o", "json").stdout)
    said = {e["involvedObject"]["name"]: (e["type"], e["message"]) for e in events["items"]}
    dial = f"dial tcp {ip}:9090: connect: connection refused"
    assert said["admin"] == ("Warning", f'Readiness probe failed: Get "http://{ip}:9090/healthz": {dial}'), said
    assert said["tcp"][1].startswith("Readiness probe failed: dial tcp ") and said["tcp"][1].endswith(
        ":9090: connect: connection refused"
    ), said
    assert "number" not in said and "named" not in said
    assert "Readiness probe failed" in k.run("describe", "pod", "admin", "-n", NS).stdout


def test_a_probe_moved_to_an_unserved_port_stops_the_rollout(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/readinessProbe/httpGet/port", "value": 9090}]
    k.run("patch", "deployment/api", "-n", NS, "--type=json", "-p", json.dumps(patch))
    sim.advance(10)
    rows = k.table("pods", "-n", NS, "-l", "app=api")
    unready = [r for r in rows if r["READY"] == "0/1"]
    assert unready and all(r["STATUS"] == "Running" and r["RESTARTS"] == "0" for r in unready), rows
    assert sum(r["READY"] == "1/1" for r in rows) == 3, rows
    status = k.run("rollout", "status", "deployment/api", "-n", NS, "--timeout=1s", check=False)
    assert status.returncode != 0, status.stdout
