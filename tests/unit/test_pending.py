import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.fakekube import FakeKube, seat

from incident_response.tools.core import errors
from incident_response.tools.engine.deps import Mode
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import HumanAnswer, PendingEngine
from incident_response.tools.engine.plan import KubeWrite, PlanDraft, Step, Target, pointer, precondition

HUMAN = HumanAnswer(approved=True, approver="alice", channel="cli")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def deployment(replicas: int = 3, image: str = "shop:v3") -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}},
        "status": {"readyReplicas": 0},
    }


def draft(kube: FakeKube) -> PlanDraft:
    current = kube.get("deployments", "web", "shop")
    pre = precondition(
        "deployments",
        current,
        [pointer("metadata", "uid"), pointer("metadata", "generation"), pointer("spec", "replicas")],
        namespace="shop",
        name="web",
    )
    patch = [
        {"op": "test", "path": "/metadata/generation", "value": current["metadata"]["generation"]},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "shop:v2"},
    ]
    return PlanDraft(
        tool="test_tool",
        summary="set image",
        target=Target(kind="Deployment", namespace="shop", name="web"),
        steps=[
            Step(
                description="patch",
                command="kubectl set image deployment/web web=shop:v2 -n shop",
                action=KubeWrite(
                    verb="patch", resource="deployments", namespace="shop", name="web", body=patch, patch_type="json"
                ),
            )
        ],
        undo_command="kubectl set image deployment/web web=shop:v3 -n shop",
        preconditions=[pre],
    )


@pytest.fixture
def kube() -> FakeKube:
    k = FakeKube()
    k.put("deployments", deployment())
    return k


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> PendingEngine:
    return PendingEngine(Journal(tmp_path / "state"), clock=clock)


def image(kube: FakeKube) -> str:
    return str(kube.get("deployments", "web", "shop")["spec"]["template"]["spec"]["containers"][0]["image"])


def test_token_has_at_least_128_bits_and_expires_in_15_minutes(
    engine: PendingEngine, kube: FakeKube, clock: Clock
) -> None:
    p = engine.propose(draft(kube), seat("standard"))
    assert p.status == "pending" and p.token and len(p.token) >= 43  # 32 bytes urlsafe
    assert p.expires_at == clock.now + timedelta(minutes=15)
    assert p.fingerprint and "approve " + p.token in p.next_step


def test_safe_mode_blocks_without_token(engine: PendingEngine, kube: FakeKube) -> None:
    p = engine.propose(draft(kube), seat("safe"))
    assert p.status == "blocked" and p.token is None
    assert engine.journal.commands() == []
    assert [e.kind for e in engine.journal.events()][-1] == "blocked"


def test_standard_waits_for_a_human_then_runs_once(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("standard")).token
    assert token
    r = engine.confirm(token, here=seat("standard"), kube=kube)
    assert r.status == "awaiting_approval" and "approve " + token in r.message
    assert kube.writes == []
    assert engine.decide(token, HUMAN).status == "approved"
    r = engine.confirm(token, here=seat("standard"), kube=kube)
    assert r.status == "succeeded", r.message
    assert r.approved_by == "alice" and r.approval_channel == "cli"
    assert image(kube) == "shop:v2"
    assert r.before == {"web": {"/metadata/uid": "uid-web", "/metadata/generation": 1, "/spec/replicas": 3}}
    assert r.after and r.after["web"]["/metadata/generation"] == 2
    again = engine.confirm(token, here=seat("standard"), kube=kube)
    assert again.status == "used" and "succeeded" in again.message
    assert len(kube.writes) == 1


def test_full_mode_runs_and_records_no_human(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("full")).token
    assert token
    r = engine.confirm(token, here=seat("full"), kube=kube)
    assert r.status == "succeeded"
    row = engine.journal.command(token)
    assert row and row.decided_channel == "none (full mode)" and row.decided_by is None
    claimed = [e for e in engine.journal.events(token=token) if e.kind == "claimed"]
    assert claimed[0].detail == {"mode": "full", "approval_channel": "none (full mode)", "human_approved": False}


def test_safe_mode_confirm_refuses(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("standard")).token
    assert token
    assert engine.confirm(token, here=seat("safe"), kube=kube).status == "refused"
    assert kube.writes == []


@pytest.mark.parametrize("state", ["denied", "cancelled", "expired"])
def test_dead_tokens_are_refused_by_name(engine: PendingEngine, kube: FakeKube, clock: Clock, state: str) -> None:
    token = engine.propose(draft(kube), seat("standard")).token
    assert token
    if state == "denied":
        engine.decide(token, HumanAnswer(approved=False, approver="bob", channel="cli"))
    elif state == "cancelled":
        engine.cancel(token)
    else:
        clock.now += timedelta(minutes=15)
    modes: tuple[Mode, ...] = ("standard", "full")
    for mode in modes:
        r = engine.confirm(token, here=seat(mode), kube=kube)
        assert r.status == state, r
    assert engine.decide(token, HUMAN).status == state
    assert kube.writes == []


def test_unknown_token(engine: PendingEngine, kube: FakeKube) -> None:
    assert engine.confirm("forged", here=seat("full"), kube=kube).status == "unknown_token"


def test_approval_after_expiry_is_refused(engine: PendingEngine, kube: FakeKube, clock: Clock) -> None:
    token = engine.propose(draft(kube), seat("standard")).token
    assert token
    clock.now += timedelta(minutes=14, seconds=59)
    assert engine.decide(token, HUMAN).status == "approved"
    clock.now += timedelta(seconds=1)
    assert engine.confirm(token, here=seat("standard"), kube=kube).status == "expired"
    assert [e.kind for e in engine.journal.events(token=token)] == ["proposed", "approved", "expired"]


def test_stale_plan_names_what_changed_and_runs_nothing(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("full")).token
    assert token
    scaled = kube.get("deployments", "web", "shop")
    scaled["spec"]["replicas"] = 5
    scaled["metadata"]["generation"] = 2
    kube.put("deployments", scaled)
    r = engine.confirm(token, here=seat("full"), kube=kube)
    assert r.status == "stale"
    assert {(c.path, c.planned, c.now) for c in r.changes} == {("/spec/replicas", 3, 5), ("/metadata/generation", 1, 2)}
    assert "spec.replicas: 3 -> 5" in r.message
    assert kube.writes == []
    assert engine.confirm(token, here=seat("full"), kube=kube).status == "stale"


def test_status_churn_is_not_drift(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("full")).token
    assert token
    obj = kube.get("deployments", "web", "shop")
    obj["status"] = {"readyReplicas": 3, "restarts": 99}
    kube.put("deployments", obj)
    assert engine.confirm(token, here=seat("full"), kube=kube).status == "succeeded"


def test_deleted_target_is_stale(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("full")).token
    assert token
    kube.objects.clear()
    r = engine.confirm(token, here=seat("full"), kube=kube)
    assert r.status == "stale" and r.changes[0].now == "absent"


@pytest.mark.parametrize(
    "error, status",
    [
        (errors.OutcomeUnknown("sent, no answer"), "unknown"),
        (errors.ServerError("boom", code=500, reason="InternalError"), "unknown"),
        (errors.Conflict("changed", code=409, reason="Conflict"), "failed"),
        (errors.ClusterUnreachable("refused"), "failed"),
    ],
)
def test_write_failures_are_never_success(
    engine: PendingEngine, kube: FakeKube, error: errors.IncidentError, status: str
) -> None:
    token = engine.propose(draft(kube), seat("full")).token
    assert token
    kube.fail_writes = error
    r = engine.confirm(token, here=seat("full"), kube=kube)
    assert r.status == status and r.steps[0].status == status
    assert engine.confirm(token, here=seat("full"), kube=kube).status == "used"
    row = engine.journal.command(token)
    assert row and row.state == status and row.result and row.result["status"] == status


def test_failed_reread_releases_the_claim(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("standard")).token
    assert token
    engine.decide(token, HUMAN)
    kube.fail_reads = errors.ClusterUnreachable("down")
    r = engine.confirm(token, here=seat("standard"), kube=kube)
    assert r.status == "failed" and "still valid" in r.message
    kube.fail_reads = None
    assert engine.confirm(token, here=seat("standard"), kube=kube).status == "succeeded"


def test_test_op_makes_check_and_write_atomic(engine: PendingEngine, kube: FakeKube) -> None:
    """A change between the re-read and the write is caught by the JSON-patch test op: stale, not applied."""
    token = engine.propose(draft(kube), seat("full")).token
    assert token

    def race() -> None:
        obj = kube.get("deployments", "web", "shop")
        obj["metadata"]["generation"] = 7
        kube.put("deployments", obj)

    kube.before_write = race
    r = engine.confirm(token, here=seat("full"), kube=kube)
    assert r.status == "stale" and image(kube) == "shop:v3"
    assert [c.path for c in r.changes] == ["/metadata/generation"] and r.steps[0].status == "failed"


def test_tampered_plan_does_not_run(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("standard")).token
    assert token
    engine.decide(token, HUMAN)
    import sqlite3

    db = sqlite3.connect(engine.journal.path)
    db.execute("UPDATE commands SET plan = replace(plan, 'shop:v2', 'evil:latest') WHERE token = ?", (token,))
    db.commit()
    db.close()
    r = engine.confirm(token, here=seat("standard"), kube=kube)
    assert r.status == "failed" and "no longer matches" in r.message and kube.writes == []


def test_concurrent_confirms_run_once(engine: PendingEngine, kube: FakeKube) -> None:
    token = engine.propose(draft(kube), seat("full")).token
    assert token
    results: list[str] = []
    barrier = threading.Barrier(20)

    def go() -> None:
        barrier.wait()
        results.append(engine.confirm(token, here=seat("full"), kube=kube).status)

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["succeeded"] + ["used"] * 19
    assert len(kube.writes) == 1


def test_live_lists_only_live_and_expires_lazily(engine: PendingEngine, kube: FakeKube, clock: Clock) -> None:
    a = engine.propose(draft(kube), seat("standard")).token
    clock.now += timedelta(minutes=10)
    b = engine.propose(draft(kube), seat("standard")).token
    assert [c.token for _, c in engine.live()] == [a, b]
    clock.now += timedelta(minutes=6)
    assert [c.token for _, c in engine.live()] == [b]
    assert a and (engine.journal.command(a) or pytest.fail()).state == "expired"
