"""The handoff's pure sections: rollouts in the window, the suspected change, what measures left behind, the text and
markdown documents."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Any

from support.builders import NOW, deployment, node, replicaset

from incident_response.tools.core.models import Truncation
from incident_response.tools.engine.journal import CommandRow, IncidentRow
from incident_response.tools.incident.handoff_document import render
from incident_response.tools.playbook.declaration import info
from incident_response.tools.playbook.handoff_analysis import hypotheses, window_suspects
from incident_response.tools.playbook.handoff_facts import ClusterFacts, action_of, cluster_entries
from incident_response.tools.playbook.handoff_leads import (
    isolated_pods,
    node_lines,
    poison_evidence,
    rollout_hypothesis,
)
from incident_response.tools.playbook.handoff_models import (
    MAX_EVICTIONS,
    ActionTaken,
    CurrentState,
    DeploymentState,
    Evidence,
    EvidenceItem,
    Handoff,
    Hypothesis,
    TimelineEntry,
    TimePoint,
)
from incident_response.tools.playbook.handoff_rollouts import (
    Rollout,
    namespace_rollouts,
    relation,
    started_by_us,
    suspected_change,
)
from incident_response.tools.playbook.handoff_state import current_state, service_word, temporary_measures
from incident_response.tools.playbook.handoff_workloads import workload_rollouts
from incident_response.tools.playbook.stabilization import finished

SECTIONS = [
    "Timeline Summary:",
    "Actions Taken:",
    "Current State:",
    "Hypotheses:",
    "Evidence Collected:",
    "Open Questions:",
]


def warning_at(minutes_ago: float, involved: str = "web-1", reason: str = "Unhealthy") -> dict[str, Any]:
    when = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "reason": reason,
        "message": "probe failed",
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": 3,
        "involvedObject": {"kind": "Pod", "name": involved},
    }


def test_every_rollout_in_the_window_is_on_the_timeline_with_its_distance_to_the_first_warning() -> None:
    web, cart = deployment("web", revision=3), deployment("cart", revision=5)
    replicasets = [
        replicaset("web", "a", revision=3, image="shop/web:2", age=timedelta(minutes=10, seconds=1)),
        replicaset("web", "b", revision=2, image="shop/web:1", age=timedelta(days=3)),
        replicaset("cart", "c", revision=5, image="shop/cart:9", age=timedelta(hours=5)),
    ]
    found = namespace_rollouts([web, cart], replicasets, NOW - timedelta(hours=2), NOW)
    assert [(r.deployment, r.revision, r.rollback) for r in found] == [("web", 3, False)]
    facts = ClusterFacts(warnings=[warning_at(10)], rollouts=found)
    [rollout, first] = cluster_entries(facts, [], set())
    assert rollout.text == (
        "deployment/web rolled out revision 3 (shop/web:2), 1 s before the first Unhealthy warning (on pod/web-1)"
    )
    assert first.kind == "warning" and rollout.at < first.at
    assert relation(NOW, NOW - timedelta(minutes=3), "x") == "3 min after the first x"


def test_a_rollback_made_outside_this_server_is_a_rollout_too() -> None:
    back = deployment("cart", revision=7)
    back["status"]["conditions"] = [
        {
            "type": "Progressing",
            "reason": "ReplicaSetUpdated",
            "lastUpdateTime": (NOW - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    replicasets = [
        replicaset("cart", "old", revision=7, image="shop/cart:1", age=timedelta(days=9)),
        replicaset("cart", "new", revision=6, image="shop/cart:2", age=timedelta(days=1)),
    ]
    [found] = namespace_rollouts([back], replicasets, NOW - timedelta(hours=2), NOW)
    assert (found.deployment, found.revision, found.rollback) == ("cart", 7, True)
    assert cluster_entries(ClusterFacts(rollouts=[found]), [], {"cart"}) == []  # ours is on the journal's side


def test_a_replicaset_a_rollback_reused_is_dated_by_its_creation_only_as_its_first_rollout() -> None:
    back = deployment("cart", revision=3, image="shop/cart:1")
    back["status"]["conditions"] = [
        {
            "type": "Progressing",
            "reason": "ReplicaSetUpdated",
            "lastUpdateTime": (NOW - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    good = replicaset("cart", "old", revision=3, image="shop/cart:1", age=timedelta(minutes=40))
    bad = replicaset("cart", "new", revision=2, image="shop/cart:2", age=timedelta(minutes=20))
    for history in ("1", None):  # the controller's revision-history annotation, or only the creation order says it
        if history:
            good["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] = history
        else:
            good["metadata"]["annotations"].pop("deployment.kubernetes.io/revision-history", None)
        first, rolled, undone = namespace_rollouts([back], [good, bad], NOW - timedelta(hours=2), NOW)
        assert (first.revision, first.renumbered, first.current, first.at) == (
            3,
            True,
            True,
            NOW - timedelta(minutes=40),
        )
        assert (rolled.revision, rolled.renumbered) == (2, False)
        assert (undone.revision, undone.rollback, undone.at) == (3, True, NOW - timedelta(minutes=2))
        texts = [e.text for e in cluster_entries(ClusterFacts(rollouts=[first, rolled, undone]), [], set())]
        assert texts == [
            "deployment/cart rolled out shop/cart:1 (revision 3 since a rollback brought it back), no Warning event to "
            "compare it with",
            "deployment/cart rolled out revision 2 (shop/cart:2), no Warning event to compare it with",
            "deployment/cart rolled back to revision 3 (shop/cart:1), no Warning event to compare it with",
        ]


def test_a_statefulset_rolled_back_outside_this_server_is_said_undated_and_one_rolled_back_here_is_dated() -> None:
    def template(image: str) -> dict[str, Any]:
        return {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": image}]}}

    sts = {"metadata": {"name": "db", "uid": "sts-1"}, "spec": {"template": template("db:1")}}

    def revision(name: str, number: int, image: str, minutes: int) -> dict[str, Any]:
        return {
            "metadata": {
                "name": name,
                "creationTimestamp": (NOW - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ownerReferences": [{"uid": "sts-1", "controller": True}],
            },
            "revision": number,
            "data": {"spec": {"template": {**template(image), "$patch": "replace"}}},
        }

    revisions = [revision("db-good", 3, "db:1", 40), revision("db-bad", 2, "db:2", 20)]
    window = (NOW - timedelta(hours=2), NOW)
    found, undated = workload_rollouts([("statefulset", sts)], revisions, *window)
    assert [(r.revision, r.renumbered, r.current, r.rollback) for r in found] == [
        (3, True, True, False),
        (2, False, False, False),
    ]
    [said] = undated
    assert said.startswith("statefulset/db runs revision 3 (db:1) again: a rollback made outside this server, after ")
    # The replaced revision came before the window: the rollback may be days old, nothing is said.
    assert workload_rollouts([("statefulset", sts)], revisions, NOW - timedelta(minutes=10), NOW) == ([], [])
    # Made here: the journal dates it.
    ours = row("rollback_workload", {"kind": "StatefulSet", "namespace": "shop", "name": "db"}, undo=None, minutes=-5)
    found, undated = workload_rollouts([("statefulset", sts)], revisions, *window, [ours])
    back = next(r for r in found if r.rollback)
    assert (back.revision, back.at, undated) == (3, finished(ours), [])


def test_the_suspected_change_of_a_config_only_revision_is_named_and_its_values_stay_masked() -> None:
    env = [{"name": "PAYMENTS_URL", "value": "http://payments:8080"}, {"name": "DB_PASSWORD", "value": "hunter2-x9"}]
    good = replicaset("checkout", "g", revision=2, image="shop/checkout:2.4.0", env=env)["spec"]["template"]
    bad = copy.deepcopy(good)
    bad["spec"]["containers"][0]["env"] = [{"name": "DB_PASSWORD", "value": "s3cr3t-other"}]
    changes = suspected_change(good, bad)
    assert changes == [
        "env DB_PASSWORD changed (container checkout)",
        "env PAYMENTS_URL removed (container checkout)",
        "same image (shop/checkout:2.4.0): a configuration change",
    ]
    assert not any(secret in " ".join(changes) for secret in ("hunter2", "s3cr3t", "payments:8080"))
    bad["spec"]["containers"][0]["image"] = "shop/checkout:2.5.0"
    assert suspected_change(good, bad)[0] == "image shop/checkout:2.4.0 -> shop/checkout:2.5.0 (container checkout)"


def row(tool: str, target: dict[str, Any], *, undo: str | None, minutes: int, **plan: Any) -> CommandRow:
    at = (NOW + timedelta(minutes=minutes)).timestamp()
    result = plan.pop("result", None)
    full = {
        "tool": tool,
        "summary": f"{tool} plan",
        "command": f"kubectl {tool}",
        "undo_command": undo,
        "target": target,
        **plan,
    }
    return CommandRow(
        token=f"t-{tool}-{minutes}",
        incident="inc-1",
        tool=tool,
        state="succeeded",
        plan=full,
        fingerprint="f",
        created_at=at,
        expires_at=at + 900,
        finished_at=at,
        temporary=True,
        decided_by="alice",
        decided_channel="cli",
        result=result,
    )


def test_measures_with_the_same_restore_are_one_and_a_drain_lists_its_evictions_in_full_up_to_a_count() -> None:
    node_target = {"kind": "Node", "name": "node-2"}
    uncordon = "kubectl uncordon node-2 --context sim"
    pods = [f"shop/web-{i:02d}" for i in range(14)] + [f"kube-system/coredns-{i}" for i in range(6)]
    steps = [{"action": {"verb": "patch", "resource": "nodes", "name": "node-2"}}] + [
        {"action": {"verb": "evict", "resource": "pods", "namespace": p.split("/")[0], "name": p.split("/")[1]}}
        for p in pods
    ]
    outcomes = {"steps": [{"command": "c", "status": "succeeded"} for _ in steps]}
    cordon = row("cordon_node", node_target, undo=uncordon, minutes=1)
    drain = row("drain_node", node_target, undo=uncordon, minutes=2, steps=steps, result=outcomes)
    [measure] = temporary_measures([cordon, drain])
    assert measure.tools == ["cordon_node", "drain_node"] and measure.measure_ids == [cordon.token, drain.token]
    assert measure.restore_command == uncordon and measure.what.startswith("node node-2 cordoned")
    assert measure.evictions == pods[:MAX_EVICTIONS] and measure.evictions_total == 20
    assert measure.evictions_rest == "8 more: 6 in kube-system, 2 in shop"
    text = render(
        handoff(
            current_state=CurrentState(
                service="running",
                service_detail="d",
                mitigation=["isolate"],
                mitigation_detail="m",
                temporary_measures=[measure],
                deployments=[],
            )
        )
    )
    listed = next(line for line in text.splitlines() if "evicted 20 pod(s)" in line)
    assert listed.endswith("shop/web-11; 8 more: 6 in kube-system, 2 in shop")  # every listed name whole


def test_an_isolation_says_what_is_offline_by_the_humans_choice() -> None:
    service = {"kind": "Service", "namespace": "shop", "name": "api"}
    diff = [
        {"path": "pod/api-bad-1.metadata.labels.app", "before": "api", "after": None},
        {"path": "pod/api-bad-2.metadata.labels.app", "before": "api", "after": None},
        {"path": "service/api endpoints", "before": ["a", "b", "c"], "after": []},
    ]
    undo = "kubectl label pods -l version=bad,!app app=api -n shop --context sim"
    [measure] = temporary_measures([row("remove_pods_from_service", service, undo=undo, minutes=1, diff=diff)])
    assert measure.offline_by_choice == (
        "service api is offline by the human's choice (approved by alice via cli): it has no endpoints left"
    )
    assert measure.what.startswith("2 pod(s) taken out of service api by removing a label")
    state = current_state(
        [DeploymentState(deployment="web", verdict="RECOVERED", summary="ok", checks=[])], [], [measure]
    )
    assert state.service == "partial" and measure.offline_by_choice in state.service_detail


def test_the_service_word_is_the_playbooks() -> None:
    def verdicts(*values: Any) -> list[DeploymentState]:
        return [DeploymentState(deployment=f"d{i}", verdict=v, summary="", checks=[]) for i, v in enumerate(values)]

    assert service_word(verdicts("RECOVERED", "RECOVERING"), offline=False) == "running"
    assert service_word(verdicts("RECOVERED"), offline=True) == "partial"
    assert service_word(verdicts("RECOVERED", "DEGRADED"), offline=False) == "partial"
    assert service_word(verdicts("DEGRADED", None), offline=False) == "degraded"
    assert service_word(verdicts(None), offline=False) == "unknown"


def test_node_conditions_and_the_poisoning_pod_are_stated_as_evidence() -> None:
    sick = node("node-2", ready=False, unschedulable=True, taints=[{"key": "node.kubernetes.io/unreachable"}])
    sick["status"]["conditions"][0].update(
        reason="NodeStatusUnknown",
        message="Kubelet stopped posting node status.",
        lastTransitionTime="2026-05-01T11:50:00Z",
    )
    assert node_lines(sick) == [
        "Ready=False (NodeStatusUnknown: Kubelet stopped posting node status.) since 2026-05-01T11:50:00Z",
        "taints node.kubernetes.io/unreachable",
        "cordoned",
    ]
    warnings = [
        dict(
            warning_at(3),
            message="upstream check failed: 5 consecutive HTTP 500 responses from pod api-bad-1 (10.244.1.7)",
        ),
        warning_at(2, "api-bad-1"),
    ]
    assert poison_evidence(["api-bad-1", "api-bad-2"], warnings) == [
        "taken out: api-bad-1, api-bad-2",
        "3 warning(s) of other pods name api-bad-1, e.g. web-1: upstream check failed: 5 consecutive HTTP 500 "
        "responses from pod api-bad-1 (10.244.1.7)",
    ]


def handoff(**fields: Any) -> Handoff:
    incident = IncidentRow(
        id="inc-7", title="web 502", opened_at=NOW.timestamp(), severity="SEV2", declared_at=NOW.timestamp()
    )
    base: dict[str, Any] = {
        "summary": "s",
        "incident": info(incident),
        "chosen_because": "c",
        "namespace": "shop",
        "deployments": [],
        "started": TimePoint(at=NOW, basis="b"),
        "stabilized": TimePoint(at=NOW + timedelta(minutes=75), basis="v"),
        "duration_minutes": 75,
        "ongoing": False,
        "timeline_truncation": Truncation.of(2, 2),
        "timeline": [
            TimelineEntry(at=NOW, source="cluster", kind="warning", text="first Unhealthy warning"),
            TimelineEntry(
                at=NOW + timedelta(minutes=75), source="journal", kind="stabilized", text="service recovered"
            ),
        ],
        "actions": [
            ActionTaken(
                tool="scale_deployment",
                target="deployment/web -n shop",
                command="kubectl scale x",
                result="succeeded",
                ran=True,
                message=None,
                approved_by=None,
                approval_channel=None,
                planned_at=NOW,
                finished_at=NOW,
                undo_command=None,
                temporary=False,
                restores=False,
                kind="scale",
                effect="not_fixed",
                effect_detail="did not fix the service: web DEGRADED",
            )
        ],
        "overall_verdict": "RECOVERED",
        "current_state": CurrentState(
            service="running",
            service_detail="web RECOVERED",
            mitigation=["scale"],
            mitigation_detail="scale_deployment",
            temporary_measures=[],
            deployments=[],
        ),
        "hypotheses": [
            Hypothesis(
                statement="Web lacked capacity",
                source="s",
                evidence_for=["cpu 95%"],
                evidence_against=["scaling did not fix it"],
            )
        ],
        "evidence": Evidence(
            collected=[EvidenceItem(kind="events", text="Unhealthy x3")],
            tools_called=[],
            reproduce=["kubectl get events -n shop"],
        ),
        "open_questions": ["why?"],
        "format": "text",
        "document": "",
    }
    return Handoff(**{**base, **fields})


def test_the_text_document_is_the_playbooks_format_and_markdown_says_the_same() -> None:
    text = render(handoff())
    lines = text.splitlines()
    assert lines[:6] == [
        "INCIDENT HANDOFF TO RCA",
        "========================",
        "",
        "Incident ID: inc-7",
        "Duration: 2026-05-01 12:00 UTC to 2026-05-01 13:15 UTC (1 h 15 min)",
        "Severity: SEV2",
    ]
    assert [line for line in lines if line.endswith(":") and not line.startswith(" ")] == SECTIONS
    assert "- 12:00 first Unhealthy warning" in lines and "- 13:15 service recovered" in lines
    assert (
        "- scale_deployment on deployment/web -n shop: succeeded at the API at 12:00 UTC, but did not fix the "
        "service: web DEGRADED" in lines
    )
    assert "- Service: running (web RECOVERED)" in lines and "- Temporary measures: none" in lines
    assert "- Mitigation: scale applied (scale_deployment)" in lines
    assert "- Web lacked capacity: for: cpu 95%. Against: scaling did not fix it." in lines
    assert "- events: Unhealthy x3" in lines and "- kubectl get events -n shop" in lines
    assert lines[-1] == "- why?"
    markdown = render(handoff(format="markdown"))
    assert markdown.startswith("# INCIDENT HANDOFF TO RCA\n")
    assert re.findall(r"^## (.+)$", markdown, re.M) == [s.rstrip(":") for s in SECTIONS]
    plain = re.sub(r"[*`#]", "", markdown)
    for fact in (
        "inc-7",
        "1 h 15 min",
        "SEV2",
        "first Unhealthy warning",
        "did not fix the service: web DEGRADED",
        "running (web RECOVERED)",
        "Against: scaling did not fix it",
        "kubectl get events -n shop",
        "why?",
    ):
        assert fact in plain, fact
    ongoing = render(handoff(stabilized=None, ongoing=True))
    assert "Duration: 2026-05-01 12:00 UTC to not stabilized yet (1 h 15 min so far)" in ongoing


def test_the_pods_a_network_isolation_took_out_are_read_from_its_plan() -> None:
    summary = (
        "Deny all ingress to 2 pod(s) matching app=api in shop with NetworkPolicy x (api-bad-1, api-bad-2).\nkind: ..."
    )
    assert isolated_pods({"tool": "isolate_network", "summary": summary}) == ["api-bad-1", "api-bad-2"]
    none_yet = "Deny all ingress to 0 pod(s) matching app=api in shop with NetworkPolicy x (none yet)."
    assert isolated_pods({"tool": "isolate_network", "summary": none_yet}) == []


def test_a_rollout_our_mitigation_started_is_said_so_and_a_scaled_deployments_rollout_stays_a_suspect() -> None:
    limit = row(
        "set_memory_limit", {"kind": "Deployment", "namespace": "shop", "name": "payments"}, undo="u", minutes=0
    )
    scale = row("scale_deployment", {"kind": "Deployment", "namespace": "shop", "name": "web"}, undo=None, minutes=0)
    scale = scale.model_copy(update={"token": "t-scale"})
    ours = Rollout("payments", 3, NOW + timedelta(seconds=2), ("shop/payments:5.1.0",))
    before = Rollout("web", 7, NOW - timedelta(minutes=10), ("shop/web:2.0",))
    facts = ClusterFacts(warnings=[warning_at(9)], rollouts=[before, ours], available={"web": "4/4", "payments": "2/2"})
    facts.started_by = started_by_us(facts.rollouts, [limit, scale], "shop", lambda hpa: None)
    assert facts.started_by == {("payments", 3): "set_memory_limit"}
    [_, mine] = [e for e in cluster_entries(facts, [], set()) if e.kind == "rollout"]
    assert (
        mine.text
        == "deployment/payments rolled out revision 3 (shop/payments:5.1.0): the rollout set_memory_limit started"
    )
    fixed = action_of(scale).model_copy(update={"effect": "fixed", "effect_detail": "fixed it"})
    assert window_suspects([limit, scale], [action_of(limit), fixed], [], facts, "shop") == [before]
    [suspect] = [
        h for h in hypotheses([scale], [fixed], [], facts, None, "shop") if h.statement.startswith("The rollout")
    ]
    assert suspect.evidence_for == ["it came 60 s before the first Unhealthy warning (on pod/web-1)"]
    assert suspect.evidence_against == [
        "the service recovered after scale_deployment on deployment/web -n shop added capacity, without rolling "
        "deployment/web back",
        "deployment web has 4/4 replicas available now",
    ]


def test_a_rollout_with_no_warning_to_compare_has_nothing_for_it_by_timing() -> None:
    """Without a Warning event the hypothesis said 'for: it came no Warning event to compare it with' (garbled, and
    no evidence for it): its timing supports nothing then."""
    web = deployment("web", revision=3)
    replicasets = [
        replicaset("web", "a", revision=3, image="shop/web:2", age=timedelta(minutes=10)),
        replicaset("web", "b", revision=2, image="shop/web:1", age=timedelta(days=3)),
    ]
    [found] = namespace_rollouts([web], replicasets, NOW - timedelta(hours=2), NOW)
    hypothesis = rollout_hypothesis(found, ClusterFacts(rollouts=[found]), [], [])
    assert not any("no Warning event" in line for line in hypothesis.evidence_for), hypothesis.evidence_for
    timed = rollout_hypothesis(found, ClusterFacts(warnings=[warning_at(5)], rollouts=[found]), [], [])
    assert timed.evidence_for[0].startswith("it came 5 min before the first Unhealthy warning"), timed.evidence_for
