"""A ReadWriteOnce volume attaches to one node at a time, with real kubectl as the oracle (review-assist7 H7).

orders-db (one replica, claim orders-db-data ReadWriteOnce) scaled to two with its node cordoned: the new pod, on
another node, stays ContainerCreating with the attach/detach controller's 'Multi-Attach error for volume "pvc-..."
Volume is already used by pod(s) orders-db-...' and, two minutes on, the kubelet's FailedMount timeout; scaled back,
the waiting pod goes. After its node goes down and the taint manager evicts it, the old pod stays Terminating and
keeps the volume: the replacement waits until the old pod is force-deleted and six minutes pass (or at once with the
node out of service)."""

from __future__ import annotations

from collections.abc import Callable

from conftest import SimFactory
from support.kubectl_runner import Kubectl
from support.polling import eventually

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

NS = "shop"


def pods(k: Kubectl) -> list[dict[str, str]]:
    """orders-db's pods as `kubectl get` shows them (NAME, STATUS), with the node each is on (NODE)."""
    rows = k.table("pods", "-n", NS, "-l", "app=orders-db")
    nodes = k.run(
        "get",
        "pods",
        "-n",
        NS,
        "-l",
        "app=orders-db",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName} {end}",
    )
    placed = dict(pair.split("=", 1) for pair in nodes.stdout.split())
    return [{**row, "NODE": placed.get(row["NAME"]) or "<none>"} for row in rows]


def described(k: Kubectl, pod: str) -> str:
    return " ".join(k.run("describe", "pod", pod, "-n", NS).stdout.split())


def test_a_second_replica_on_another_node_waits_on_multi_attach(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    [first] = pods(k)
    volume = k.run("get", "pvc", "orders-db-data", "-n", NS, "-o", "jsonpath={.spec.volumeName}").stdout
    k.run("cordon", first["NODE"])
    k.run("scale", "deployment/orders-db", "-n", NS, "--replicas=2")
    second = eventually(
        lambda: next((r for r in pods(k) if r["NAME"] != first["NAME"] and r["NODE"] != "<none>"), None),
        what="the second pod placed",
    )
    assert second["NODE"] != first["NODE"]
    eventually(lambda: "Multi-Attach" in described(k, second["NAME"]), what="the Multi-Attach event")
    text = described(k, second["NAME"])
    assert (
        "Warning FailedAttachVolume" in text
        and f'Multi-Attach error for volume "{volume}" Volume is already used by pod(s) {first["NAME"]}' in text
    ), text
    assert "attachdetach-controller" in text, text
    eventually(
        lambda: [r["STATUS"] for r in pods(k) if r["NAME"] == second["NAME"]] == ["ContainerCreating"],
        what="the second pod shown ContainerCreating",
    )
    sim.advance(125)  # the kubelet's volume manager gives up waiting after two minutes and says so
    eventually(
        lambda: (
            "unmounted volumes=[data], unattached volumes=[data]: timed out waiting for the condition"
            in described(k, second["NAME"])
        ),
        what="the kubelet's FailedMount timeout",
    )
    assert [r["STATUS"] for r in pods(k) if r["NAME"] == second["NAME"]] == ["ContainerCreating"]
    k.run("scale", "deployment/orders-db", "-n", NS, "--replicas=1")
    eventually(lambda: [r["NAME"] for r in pods(k)] == [first["NAME"]], what="the waiting pod scaled away")


def test_a_surge_rollout_on_another_node_waits_while_the_old_pod_holds_the_volume(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    [first] = pods(k)
    surge = '{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}'
    k.run("patch", "deployment/orders-db", "-n", NS, "--type=merge", "-p", surge)
    k.run("cordon", first["NODE"])
    k.run("set", "image", "deployment/orders-db", "orders-db=docker.io/library/postgres:16.5", "-n", NS)
    new = eventually(
        lambda: next((r for r in pods(k) if r["NAME"] != first["NAME"] and r["NODE"] != "<none>"), None),
        what="the surge pod placed",
    )
    eventually(lambda: "Multi-Attach" in described(k, new["NAME"]), what="the surge pod's Multi-Attach")
    status = k.run("rollout", "status", "deployment/orders-db", "-n", NS, "--timeout=2s", check=False)
    assert status.returncode != 0 and "1 old replicas are pending termination" in status.stdout, status
    assert any(r["NAME"] == first["NAME"] and r["STATUS"] == "Running" for r in pods(k)), "the old pod serves on"


def test_a_replacement_after_a_node_failure_waits_for_the_old_pod_and_six_minutes(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    [first] = pods(k)
    k.run("annotate", "node", first["NODE"], f"{behaviors.NODE_CONDITION}=NotReady")
    sim.advance(310)  # past the 300 s the pod tolerates an unreachable node: evicted, Terminating for ever
    replacement = eventually(
        lambda: next((r for r in pods(k) if r["NAME"] != first["NAME"] and r["NODE"] != "<none>"), None),
        what="the replacement placed",
    )
    eventually(lambda: "Multi-Attach" in described(k, replacement["NAME"]), what="the replacement's Multi-Attach")
    assert f"Volume is already used by pod(s) {first['NAME']}" in described(k, replacement["NAME"])
    k.run("delete", "pod", first["NAME"], "-n", NS, "--force", "--grace-period=0")
    sim.advance(60)
    assert [r["STATUS"] for r in pods(k) if r["NAME"] == replacement["NAME"]] == ["ContainerCreating"]
    sim.advance(310)  # six minutes since the old pod went: the controller detaches from the unreachable node
    k.run("rollout", "status", "deployment/orders-db", "-n", NS, "--timeout=60s")
    assert "SuccessfulAttachVolume" in described(k, replacement["NAME"])
