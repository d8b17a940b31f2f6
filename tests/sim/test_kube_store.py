"""The team-mode store's own promises, beyond the contract both stores keep: the server never approves, and
`kubectl get` on the CRDs shows what waits and who decided (real kubectl reads the printer columns)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from support.fakekube import FakeKube, seat
from support.kube_stores import SEAL_KEY, draft, fresh_namespace, install_crds, kube_store
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.core import errors
from incident_response.tools.engine.claimers import claimer
from incident_response.tools.engine.kube_objects import INCIDENTS, SEAL_SECRET, command_name
from incident_response.tools.engine.kube_store import KubeStore
from incident_response.tools.engine.pending import HumanAnswer, PendingEngine
from incident_response.tools.kube.client import ClusterSource, Kube, RealKube


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSim, Kubectl]]:
    folder = tmp_path_factory.mktemp("kube-store")
    with run_sim(None, kubeconfig_path=folder / "kubeconfig") as sim:
        kubectl = Kubectl(folder / "kubeconfig", folder / "cache")
        install_crds(kubectl)
        yield sim, kubectl


def test_the_server_store_never_creates_an_approval(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    server = PendingEngine(kube_store(sim, namespace))
    token = server.propose(draft(), seat("standard")).token
    assert token is not None
    for answer in (
        HumanAnswer(approved=True, approver="agent", channel="elicitation"),
        HumanAnswer(approved=True, approver="agent", channel="cli"),
    ):
        with pytest.raises(errors.InvalidArgument, match="approve TOKEN --store kubernetes"):
            server.decide(token, answer)
    assert kubectl.json("get", "approvals.incident-response.dev", "-n", namespace)["items"] == []
    assert server.journal.command(token).state == "pending"  # type: ignore[union-attr]


def test_a_status_the_server_writes_never_approves(cluster: tuple[RunningSim, Kubectl]) -> None:
    """The server's credentials may write a command's status; an `approved` written there is no approval."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    server = PendingEngine(kube_store(sim, namespace))
    proposal = server.propose(draft(), seat("standard"))
    assert proposal.token is not None
    forged = {
        "state": "approved",
        "decidedBy": "alice",
        "decidedChannel": "cli",
        "approvedFingerprint": proposal.fingerprint,
    }
    kubectl.run(
        "patch", "pendingcommands", command_name(proposal.token), "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": forged}),
    )  # fmt: skip
    assert server.journal.command(proposal.token).state == "pending"  # type: ignore[union-attr]
    result = server.confirm(proposal.token, here=seat("standard"), kube=FakeKube())
    assert result.status == "awaiting_approval", result.message


def test_kubectl_get_shows_what_waits_and_who_decided(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    waiting = PendingEngine(kube_store(sim, namespace)).propose(draft(), seat("standard")).token
    decided = PendingEngine(kube_store(sim, namespace)).propose(draft(), seat("standard")).token
    assert waiting is not None and decided is not None
    human = PendingEngine(kube_store(sim, namespace, approver=True))
    human.decide(decided, HumanAnswer(approved=True, approver="alice@example.com", channel="cli"))
    commands = {r["NAME"]: r for r in kubectl.table("pendingcommands", "-n", namespace)}
    assert set(commands) == {command_name(waiting), command_name(decided)}
    assert waiting not in str(commands)  # the name is a digest, the token is not shown in the listing
    assert commands[command_name(waiting)]["STATE"] == "pending"
    assert commands[command_name(waiting)]["TOOL"] == "scale_deployment"
    assert commands[command_name(waiting)]["SUMMARY"] == "scale web"
    approvals = kubectl.table("approvals", "-n", namespace)
    assert [(r["NAME"], r["DECISION"], r["APPROVER"], r["CHANNEL"]) for r in approvals] == [
        (command_name(decided) + "-approve", "Approved", "alice@example.com", "cli")
    ]


def test_without_the_crds_the_store_says_how_to_install_them(tmp_path: Path) -> None:
    with run_sim(None, kubeconfig_path=tmp_path / "kubeconfig") as bare:
        store = kube_store(bare, "default")
        with pytest.raises(errors.NotFound, match=r"kubectl apply -f deploy/crds/"):
            store.current_incident()


def test_an_approval_counts_by_its_name_not_by_labels_its_creator_chose(cluster: tuple[RunningSim, Kubectl]) -> None:
    """A denial made with plain kubectl, without our labels, still denies; one naming another command does not."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    server = PendingEngine(kube_store(sim, namespace))
    first = server.propose(draft(), seat("standard"))
    second = server.propose(draft(), seat("standard"))
    assert first.token is not None and second.token is not None
    name = command_name(first.token)
    for obj_name, command in ((f"{name}-deny", name), (f"{command_name(second.token)}-approve", name)):
        decision = "Denied" if obj_name.endswith("-deny") else "Approved"
        approval = {
            "apiVersion": "incident-response.dev/v1alpha1",
            "kind": "Approval",
            "metadata": {"name": obj_name},
            "spec": {"command": command, "decision": decision, "fingerprint": "x", "approver": "eve",
                     "channel": "cli", "decidedAt": 1.0},
        }  # fmt: skip
        kubectl.run("create", "-n", namespace, "-f", "-", stdin=json.dumps(approval))
    assert server.journal.command(first.token).state == "denied"  # type: ignore[union-attr]
    assert server.journal.command(second.token).state == "pending"  # type: ignore[union-attr]
    assert {c.token: c.state for c in server.journal.commands()} == {first.token: "denied", second.token: "pending"}


def test_tool_calls_start_retention_at_most_once_an_interval(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    store = kube_store(sim, namespace)
    store.retention = 0.0  # compact what is resolved at all
    row = store.incident(store.current_incident())
    assert row is not None
    store.save_incident(row, row.model_copy(update={"closed_at": row.opened_at}), [("resolved", {})])
    store.retention = None
    store.record_tool_call("server_info", {}, status="ok", duration_ms=1.0, incident=row.id)
    assert store.compact_in_background() is None  # no retention configured: never
    store.retention = 0.0
    worker = store.compact_in_background()
    assert worker is not None
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert store.compact_in_background() is None  # not again within the interval
    names = [o["metadata"]["name"] for o in kubectl.json("get", "journalentries", "-n", namespace)["items"]]
    assert f"summary-{row.id}" in names and not [n for n in names if n.startswith(("ev-", "call-"))]
    assert [c.tool for c in store.tool_calls(incident=row.id)] == ["server_info"]
    assert [e.kind for e in store.events(incident=row.id)] == ["incident_opened", "resolved"]


def test_a_command_state_and_its_event_are_one_write(cluster: tuple[RunningSim, Kubectl]) -> None:
    """The timeline event of a state change is in the same status write, so a process killed between two writes
    cannot leave one without the other."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    store = kube_store(sim, namespace)
    token = PendingEngine(store).propose(draft(), seat("full")).token
    assert token is not None
    assert store.transition(token, ["pending"], "executing", event="claimed", detail={"mode": "full"})
    written = kubectl.json("get", "pendingcommand", command_name(token), "-n", namespace)["status"]
    assert written["state"] == "executing"
    assert [(h["kind"], h.get("detail")) for h in written["history"]] == [
        ("proposed", {"tool": "scale_deployment", "command": "kubectl scale deployment/web --replicas=5 -n shop",
                      "summary": "scale web"}),
        ("claimed", {"mode": "full"}),
    ]  # fmt: skip
    entries = kubectl.json("get", "journalentries", "-n", namespace, "-l", "incident-response.dev/type=event")
    assert entries["items"] == []  # nothing written beside (the incident keeps its own opening event)


def test_an_execution_claimed_in_a_pod_that_is_gone_is_unknown_without_waiting_for_the_lease(
    cluster: tuple[RunningSim, Kubectl],
) -> None:
    """Replicas run in pods; a claim names its pod, so another replica sees the claimer die with its pod (the pid
    of another pod cannot be checked, and the claim lease is an hour)."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    replica = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "replica-a"},
               "spec": {"containers": [{"name": "server", "image": "incident-response-mcp:0.1.0"}]}}  # fmt: skip
    kubectl.run("create", "-n", namespace, "-f", "-", stdin=json.dumps(replica))
    first = PendingEngine(kube_store(sim, namespace, pod=("replica-a", namespace)))
    other = PendingEngine(kube_store(sim, namespace, pod=("replica-b", namespace)))
    token = first.propose(draft(), seat("full")).token
    assert token is not None
    now = time.time()
    assert first.journal.transition(token, ["pending"], "executing", event="claimed", fields={"claimer": claimer(now)})
    claim = other.journal.command(token)
    assert claim is not None and (claim.claimer or {}).get("pod", {}).get("name") == "replica-a"
    other.live()
    assert other.journal.command(token).state == "executing"  # type: ignore[union-attr]  # its pod still runs
    kubectl.run("delete", "pod", "replica-a", "-n", namespace, "--grace-period=0", "--force")
    other.live()
    gone = other.journal.command(token)
    assert gone is not None and gone.state == "unknown"
    assert [e.kind for e in other.journal.events(token=token)][-1] == "abandoned"


class FilledMeanwhile:
    """The Kubernetes API as one replica sees it while another replica fills the seal key between this one's read
    of the empty Secret and its own write."""

    def __init__(self, kube: RealKube, other: KubeStore) -> None:
        self.kube, self.other, self.raced = kube, other, False

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        found = self.kube.get(resource, name, namespace)
        if resource == "secrets" and not self.raced:
            self.raced = True
            self.other.seal_key()
        return found

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.kube, attribute)


def secret_key(kubectl: Kubectl, namespace: str) -> str:
    return str(kubectl.json("get", "secret", SEAL_SECRET, "-n", namespace).get("data", {}).get("key", ""))


def test_replicas_filling_the_empty_seal_key_at_once_agree_on_one(cluster: tuple[RunningSim, Kubectl]) -> None:
    """deploy/ ships the Secret empty; a replica writes its key at the version it read, so a replica that lost the
    race gets 409 and reads the winner's instead of overwriting the key the other already seals plans with."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    assert secret_key(kubectl, namespace) == ""
    winner = kube_store(sim, namespace)
    assert sim.kubeconfig_path is not None
    kube = RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path))
    loser = KubeStore(cast(Kube, FilledMeanwhile(kube, winner)), namespace)
    key = loser.seal_key()
    assert len(key) == 32 and key == winner.seal_key() == kube_store(sim, namespace).seal_key()
    assert base64.b64decode(secret_key(kubectl, namespace)) == key

    # re-applying deploy/'s empty Secret keeps the key (kubectl owns no data field of it)
    kubectl.run("apply", "-n", namespace, "-f", str(SEAL_KEY))
    assert kube_store(sim, namespace).seal_key() == key


def test_a_missing_seal_key_secret_is_refused_not_created(cluster: tuple[RunningSim, Kubectl]) -> None:
    """The server may not create Secrets (a created service-account-token Secret would get any local account's
    token), so without deploy/'s Secret it says to apply deploy/, and creates nothing."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    kubectl.run("delete", "secret", SEAL_SECRET, "-n", namespace)
    with pytest.raises(errors.NotFound, match=r"may not create Secrets\. Apply deploy/ \(`kubectl apply -k deploy/`"):
        kube_store(sim, namespace).seal_key()
    assert kubectl.run("get", "secret", SEAL_SECRET, "-n", namespace, check=False).returncode == 1


def test_a_seal_key_that_is_not_one_is_refused(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    kubectl.run("patch", "secret", SEAL_SECRET, "-n", namespace, "--type", "merge", "-p", '{"data":{"key":"c2hvcnQ="}}')
    with pytest.raises(errors.InvalidArgument, match=r"holds no 32-byte key in data.key; remove it"):
        kube_store(sim, namespace).seal_key()
    assert secret_key(kubectl, namespace) == "c2hvcnQ="  # left as found


def test_an_install_whose_old_server_made_the_key_keeps_it_when_deploy_is_applied(
    cluster: tuple[RunningSim, Kubectl],
) -> None:
    """Before deploy/ shipped the Secret, the server created it with its key; applying the new deploy/ adopts that
    Secret without clearing data.key (the manifest has no data), so plans sealed before still verify."""
    sim, kubectl = cluster
    namespace = f"upgraded-{time.monotonic_ns()}"
    kubectl.run("create", "namespace", namespace)
    old = base64.b64encode(bytes(range(32))).decode("ascii")
    made = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": SEAL_SECRET},
        "data": {"key": old},
    }
    kubectl.run("create", "-n", namespace, "-f", "-", stdin=json.dumps(made))
    kubectl.run("apply", "-n", namespace, "-f", str(SEAL_KEY))
    assert secret_key(kubectl, namespace) == old
    assert kube_store(sim, namespace).seal_key() == bytes(range(32))


def test_a_process_between_the_pointer_and_the_incident_adopts_that_incident(
    cluster: tuple[RunningSim, Kubectl],
) -> None:
    """The race of processes starting at once, made deterministic: B opens its first incident while A has moved the
    open-incident pointer but not yet created its incident (or died there). B adopts A's incident, not a second."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    a, b = kube_store(sim, namespace), kube_store(sim, namespace)
    seen: list[str] = []
    create = a.kube.create

    def create_after_b(resource: str, body: dict[str, Any], ns: str | None = None) -> dict[str, Any]:
        if resource == INCIDENTS and not seen:
            seen.append(b.current_incident())  # A's pointer write is done; its incident not yet created
        return create(resource, body, ns)

    a.kube.create = create_after_b  # type: ignore[method-assign]
    mine = a.current_incident()
    assert seen == [mine]
    assert [r.id for r in b.incidents()] == [mine] and b.current_incident() == mine
    assert [e.kind for e in b.events(incident=mine)] == ["incident_opened"]
    pointer = kubectl.json("get", "journalentries", "open-incident", "-n", namespace)["spec"]
    assert pointer == {"type": "openIncident", "incident": mine}  # created: the pointer no longer carries it
    # A died after moving the pointer (no create at all): the next process still finds one incident, that one.
    other = fresh_namespace(kubectl)
    dead, alive = kube_store(sim, other), kube_store(sim, other)
    real = dead.kube.create
    dead.kube.create = lambda resource, body, ns=None: (  # type: ignore[method-assign]
        real(resource, body, ns) if resource != INCIDENTS else _died()
    )
    with pytest.raises(Died):
        dead.current_incident()
    opened = alive.current_incident()
    assert [r.id for r in alive.incidents()] == [opened] and kube_store(sim, other).current_incident() == opened


class Died(Exception):
    """The process was killed between the pointer's write and the incident's."""


def _died() -> dict[str, Any]:
    raise Died
