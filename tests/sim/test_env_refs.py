"""Secret and ConfigMap references in a container's environment, with real kubectl as the oracle: a container whose
env (secretKeyRef/configMapKeyRef) or envFrom names an object or key that does not exist is not created: kubectl
shows CreateContainerConfigError with the kubelet's message and a Warning Failed "Error: ..." event; optional
references start; once the object (or key) exists, the kubelet's next try starts the container."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from support.kubectl_runner import Kubectl
from support.sims import SimFactory

from incident_response.sim.serve import RunningSim

NS = "shop"


def _pod(name: str, env: list[dict[str, Any]] | None = None, env_from: list[dict[str, Any]] | None = None) -> str:
    container: dict[str, Any] = {"name": "main", "image": "busybox"}
    if env is not None:
        container["env"] = env
    if env_from is not None:
        container["envFrom"] = env_from
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}}
    return json.dumps({**body, "spec": {"containers": [container]}})


def _ref(kind: str, name: str, key: str, optional: bool = False) -> list[dict[str, Any]]:
    ref: dict[str, Any] = {"name": name, "key": key, **({"optional": True} if optional else {})}
    return [{"name": "V", "valueFrom": {f"{kind}KeyRef": ref}}]


def _waiting(k: Kubectl, name: str) -> dict[str, Any]:
    pod = json.loads(k.run("get", "pod", name, "-n", NS, "-o", "json").stdout)
    return dict(pod["status"]["containerStatuses"][0]["state"].get("waiting") or {})


def test_a_missing_secret_or_key_in_env_holds_the_container_until_it_exists(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    k.run("create", "secret", "generic", "db", "-n", NS, "--from-literal=url=postgres://db")
    k.run("apply", "-f", "-", stdin=_pod("gone", env=_ref("secret", "ledger-db", "password")))
    k.run("apply", "-f", "-", stdin=_pod("nokey", env=_ref("secret", "db", "password")))
    k.run("apply", "-f", "-", stdin=_pod("cm", env=_ref("configMap", "rates", "EUR")))
    k.run("apply", "-f", "-", stdin=_pod("cmkey", env=_ref("configMap", "checkout-config", "NOPE")))
    k.run("apply", "-f", "-", stdin=_pod("whole", env_from=[{"secretRef": {"name": "extra"}}]))
    k.run("apply", "-f", "-", stdin=_pod("maybe", env=_ref("secret", "ledger-db", "password", optional=True)))
    k.run("apply", "-f", "-", stdin=_pod("maybe-all", env_from=[{"configMapRef": {"name": "x", "optional": True}}]))
    k.run("apply", "-f", "-", stdin=_pod("fine", env=_ref("secret", "db", "url")))
    sim.advance(5)
    rows = {r["NAME"]: (r["READY"], r["STATUS"]) for r in k.table("pods", "-n", NS)}
    for name in ("gone", "nokey", "cm", "cmkey", "whole"):
        assert rows[name] == ("0/1", "CreateContainerConfigError"), (name, rows[name])
    for name in ("maybe", "maybe-all", "fine"):
        assert rows[name] == ("1/1", "Running"), (name, rows[name])
    messages = {name: _waiting(k, name).get("message") for name in ("gone", "nokey", "cm", "cmkey", "whole")}
    assert messages == {
        "gone": 'secret "ledger-db" not found',
        "nokey": f"couldn't find key password in Secret {NS}/db",
        "cm": 'configmap "rates" not found',
        "cmkey": f"couldn't find key NOPE in ConfigMap {NS}/checkout-config",
        "whole": 'secret "extra" not found',
    }
    described = k.run("describe", "pod", "gone", "-n", NS).stdout
    assert "CreateContainerConfigError" in described and 'Error: secret "ledger-db" not found' in described
    events = json.loads(k.run("get", "events", "-n", NS, "--field-selector=reason=Failed", "-o", "json").stdout)
    failed = {e["involvedObject"]["name"]: (e["type"], e["message"]) for e in events["items"]}
    assert failed["nokey"] == ("Warning", f"Error: couldn't find key password in Secret {NS}/db"), failed
    assert "fine" not in failed and "maybe" not in failed
    # Recovery: the kubelet tries again and starts the container once what it reads exists.
    k.run("create", "secret", "generic", "ledger-db", "-n", NS, "--from-literal=password=s3cret")
    k.run("patch", "secret", "db", "-n", NS, "-p", json.dumps({"data": {"password": "eA=="}}))
    sim.advance(5)
    rows = {r["NAME"]: (r["READY"], r["STATUS"]) for r in k.table("pods", "-n", NS)}
    assert rows["gone"] == rows["nokey"] == ("1/1", "Running"), rows
    assert rows["cm"] == ("0/1", "CreateContainerConfigError")


def test_a_rollout_restart_after_the_secret_was_deleted_is_stuck(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """play/ra8_secretgone.py: checkout reads Secret checkout-db (secretKeyRef); deleted, then a restart: the new
    pods cannot start, the old ones keep serving (maxUnavailable), the rollout does not complete."""
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    k.run("delete", "secret", "checkout-db", "-n", NS)
    k.run("rollout", "restart", "deployment/checkout", "-n", NS)
    sim.advance(10)
    rows = k.table("pods", "-n", NS, "-l", "app=checkout")
    stuck = [r for r in rows if r["STATUS"] == "CreateContainerConfigError"]
    assert stuck and all(r["READY"] == "0/1" for r in stuck), rows
    assert any(r["STATUS"] == "Running" and r["READY"] == "1/1" for r in rows), rows
    status = k.run("rollout", "status", "deployment/checkout", "-n", NS, "--timeout=1s", check=False)
    assert status.returncode != 0, status.stdout


def test_a_crashing_container_whose_secret_went_waits_without_counting_restarts(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """A container restarted after its Secret was deleted is not created: CreateContainerConfigError, and its
    restartCount stays where the last container left it (the kubelet counts containers created)."""
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    k.run("create", "secret", "generic", "ledger-db", "-n", NS, "--from-literal=password=x")
    body = json.loads(_pod("loop", env=_ref("secret", "ledger-db", "password")))
    body["metadata"]["annotations"] = {"sim.incident-response.dev/behavior": "crashloop"}
    k.run("apply", "-f", "-", stdin=json.dumps(body))
    sim.advance(3)
    first = json.loads(k.run("get", "pod", "loop", "-n", NS, "-o", "json").stdout)
    restarts = first["status"]["containerStatuses"][0]["restartCount"]
    k.run("delete", "secret", "ledger-db", "-n", NS)
    sim.advance(60)
    pod = json.loads(k.run("get", "pod", "loop", "-n", NS, "-o", "json").stdout)
    [status] = pod["status"]["containerStatuses"]
    assert status["state"]["waiting"]["reason"] == "CreateContainerConfigError", status
    assert restarts <= status["restartCount"] <= restarts + 1, (restarts, status)
    assert status["lastState"]["terminated"]["reason"] == "Error", status
