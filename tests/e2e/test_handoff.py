"""The RCA handoff end to end, section by section, in the playbook's format: three incidents on the simulated cluster
(rollback, scale, isolate), driven through an MCP client, each verified RECOVERED by moving the server's clock past
the stability window (no sleep).

- rollback: a config-only revision (same image, an env var removed) crash-loops, and an unrelated service was
  deployed one second before its first warning;
- scale: web saturated with its HPA at max; the HPA override fixes it;
- isolate: api-bad's pods poison web; overriding web's HPA succeeds at the API but fixes nothing, taking the
  poisoning pods out of service api does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp import Client
from mcp.server import MCPServer
from support.mitigation_env import NS, Env, Start, call, plan_and_confirm, ready
from support.texts import handoff_fields, read_text

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim import behaviors
from incident_response.sim.scenarios.additions import add_app
from incident_response.sim.scenarios.builders import DAY, MINUTE, App, Revision
from incident_response.tools.engine.journal import Journal
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio

REGISTRY = "registry.example.com/shop"
SECTIONS = [
    "Timeline Summary:",
    "Actions Taken:",
    "Current State:",
    "Hypotheses:",
    "Evidence Collected:",
    "Open Questions:",
]


class Clock:
    """The server's clock: the wall's, plus the time a test skips (the stability window, without waiting)."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped

    @property
    def now(self) -> datetime:
        return self()


def server(env: Env, clock: Clock, mode: str = "standard") -> MCPServer[Any]:
    assert env.sim.kubeconfig_path is not None
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    settings = Settings(mode="full" if mode == "full" else "standard", state_dir=env.state, cluster=source)
    return build_server(settings, clock=clock)


def app(name: str, replicas: int, env: list[dict[str, Any]] | None = None) -> App:
    labels = {"app": name, "version": "stable"}
    return App(name=name, namespace=NS, replicas=replicas, labels=labels, selector=dict(labels), env=env or [])


def settled(env: Env, deployment: str, want: int | None = None) -> bool:
    """Rolled out, every pod of it Ready and none terminating (and `want` of them)."""
    deploy = env.get("deployments", deployment)
    status, replicas = deploy.get("status") or {}, deploy["spec"]["replicas"]
    if status.get("observedGeneration") != deploy["metadata"]["generation"] or (want and replicas != want):
        return False
    if not status.get("updatedReplicas") == status.get("availableReplicas") == status.get("replicas") == replicas:
        return False
    pods = env.pods(f"app={deployment}")  # the old revision's pods gone too (terminating ones keep it settling)
    return len(pods) == replicas and all(ready(p) and not p["metadata"].get("deletionTimestamp") for p in pods)


def first_warning(env: Env, prefix: str) -> datetime | None:
    events = env.kube.list("events", NS, field_selector="type=Warning").items
    times = [e["firstTimestamp"] for e in events if e["involvedObject"]["name"].startswith(prefix)]
    return datetime.fromisoformat(min(times).replace("Z", "+00:00")) if times else None


async def recovered(client: Client, clock: Clock, deployment: str) -> dict[str, Any]:
    """verify_recovery now (RECOVERING), then past the 5-minute window on the server's clock (RECOVERED)."""
    now = await call(client, "verify_recovery", namespace=NS, deployment=deployment)
    assert now["verdict"] == "RECOVERING", now["summary"]
    clock.skipped = timedelta(minutes=6)
    later = await call(client, "verify_recovery", namespace=NS, deployment=deployment)
    assert later["verdict"] == "RECOVERED", later["summary"]
    return later


def section(text: str, name: str) -> list[str]:
    """The lines of one section of the plain-text document (its bullets and their continuation lines)."""
    lines = text.splitlines()
    begin = lines.index(name) + 1
    end = next((i for i in range(begin, len(lines)) if lines[i] in SECTIONS), len(lines))
    return [line for line in lines[begin:end] if line]


# A timeline line's time: "HH:MM", or "MM-DD HH:MM" on every line when the timeline spans more than one UTC date
# (an incident across midnight: 23:52 then 00:17 would read as going backwards).
STAMP = r"(?:\d\d-\d\d )?\d\d:\d\d"


def the_format(handoff: dict[str, Any]) -> None:
    text = handoff["document"]
    lines = text.splitlines()
    assert lines[:3] == ["INCIDENT HANDOFF TO RCA", "========================", ""]
    assert re.fullmatch(r"Incident ID: inc-\S+", lines[3]), lines[3]
    assert re.fullmatch(
        r"Duration: \d{4}-\d\d-\d\d \d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ min\)", lines[4]
    ), lines[4]
    assert lines[5] == "Severity: SEV2"
    assert [line for line in lines if line.endswith(":") and not line.startswith((" ", "-"))] == SECTIONS
    timeline = section(text, "Timeline Summary:")
    assert all(re.fullmatch(rf"- {STAMP} \S.*", line) for line in timeline), "\n".join(timeline)
    dates = {datetime.fromisoformat(entry["at"]).astimezone(UTC).date() for entry in handoff["timeline"]}
    shape = "%m-%d %H:%M" if len(dates) > 1 else "%H:%M"
    stamps = [datetime.fromisoformat(entry["at"]).astimezone(UTC).strftime(shape) for entry in handoff["timeline"]]
    assert [line.partition(" ")[2][: len(at)] for line, at in zip(timeline, stamps, strict=True)] == stamps


def clock_of(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M")


async def test_rollback_of_a_config_change_with_a_coincident_unrelated_deploy(start: Start) -> None:
    env, clock = start("healthy"), Clock()
    cluster = env.sim.cluster
    # inventory 4.2.0 exits at start without PAYMENTS_URL (the sim's image catalogue): revision 2 drops it from env,
    # the one template difference (a real field) between the revisions.
    needs = {behaviors.NEEDS_ENV: "PAYMENTS_URL"}
    both = [{"name": "PAYMENTS_URL", "value": "http://payments:8080"}, {"name": "CACHE_TTL", "value": "30"}]
    inventory = [
        Revision(
            f"{REGISTRY}/inventory:4.2.0",
            "kubectl set image deployment/inventory inventory=4.2.0",
            3 * DAY,
            image_does=needs,
        ),
        Revision(
            f"{REGISTRY}/inventory:4.2.0",
            "kubectl apply -f inventory.yaml",
            6 * MINUTE,
            env=[{"name": "CACHE_TTL", "value": "30"}],
            image_does=needs,
        ),
    ]
    await anyio.to_thread.run_sync(lambda: add_app(cluster, app("inventory", 3, both), inventory, running=0))
    await env.until(lambda: first_warning(env, "inventory-") is not None, 20)
    warned = first_warning(env, "inventory-")
    assert warned is not None
    # Another service, deployed one second before inventory's first warning, and healthy.
    age = (cluster.store.clock() - (warned - timedelta(seconds=1))).total_seconds()
    reviews = [
        Revision(f"{REGISTRY}/reviews:1.0.0", "initial", 5 * DAY),
        Revision(f"{REGISTRY}/reviews:1.1.0", "kubectl set image deployment/reviews reviews=1.1.0", age),
    ]
    await anyio.to_thread.run_sync(lambda: add_app(cluster, app("reviews", 2), reviews))

    async with Client(server(env, clock)) as client:
        declared = await call(
            client, "declare_incident", title="inventory crash-looping", severity="SEV2", namespace=NS
        )
        assessed = await call(client, "assess_namespace", namespace=NS)
        assert assessed["decision"]["target"] == "deployment/inventory", assessed["summary"]
        plan, _ = await plan_and_confirm(
            client, env, "rollback_deployment", standard=True, namespace=NS, deployment="inventory"
        )
        await env.until(lambda: settled(env, "inventory"), 40)
        final = await recovered(client, clock, "inventory")
        assert final["stabilized_incident"] == declared["incident"]["incident_id"]
        handoff = await handoff_fields(client, namespace=NS)
        answer = await read_text(client, "incident_handoff", namespace=NS)
        markdown = (await read_text(client, "incident_handoff", namespace=NS, format="markdown")).partition(
            "\ndocument:\n"
        )[2]

    text = handoff["document"]
    the_format(handoff)
    incident_id = declared["incident"]["incident_id"]
    assert text.splitlines()[3] == f"Incident ID: {incident_id}"
    # Duration: from the bad revision's rollout to the RECOVERED verdict that marked the incident stabilized.
    bad_rs = next(
        rs
        for rs in env.kube.list("replicasets", NS, label_selector="app=inventory").items
        if rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    )
    rolled = datetime.fromisoformat(bad_rs["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(handoff["started"]["at"]) == rolled
    stabilized = datetime.fromisoformat(final["checked_at"])
    assert datetime.fromisoformat(handoff["stabilized"]["at"]) == stabilized
    assert handoff["stabilized"]["basis"].startswith("verify_recovery said RECOVERED for inventory")
    assert handoff["incident"]["status"] == "stabilized" and not handoff["ongoing"]
    assert text.splitlines()[4].startswith(
        f"Duration: {rolled.strftime('%Y-%m-%d %H:%M')} UTC to {stabilized.strftime('%Y-%m-%d %H:%M')} UTC"
    )

    timeline = section(text, "Timeline Summary:")
    coincident = next(line for line in timeline if "deployment/reviews rolled out revision 2" in line)
    assert re.search(r"reviews:1\.1\.0\), 1 s before the first \w+ warning \(on pod/inventory-", coincident)
    replaced = next(line for line in timeline if "deployment/inventory rolled out revision 2" in line)
    assert "the revision the rollback replaced; it changed env PAYMENTS_URL removed (container inventory)" in replaced
    assert timeline.index(coincident) < next(
        i for i, line in enumerate(timeline) if re.match(rf"- {STAMP} first ", line)
    )
    assert any(
        "rollback_deployment succeeded at the API; fixed it: verify_recovery said RECOVERED for inventory" in line
        for line in timeline
    )
    assert timeline[-1].endswith(
        "service recovered: verify_recovery said RECOVERED for inventory; incident marked stabilized"
    )

    [action] = section(text, "Actions Taken:")[:1]
    assert action.startswith("- rollback_deployment on deployment/inventory -n shop: succeeded at the API at ")
    assert "(approved by " in action and "; fixed it: verify_recovery said RECOVERED for inventory" in action
    assert f"  command: {plan['command']}" in section(text, "Actions Taken:")

    state = section(text, "Current State:")
    assert state[0].startswith("- Service: running (inventory RECOVERED: 3/3 pods ready")
    assert state[1].startswith(
        "- Mitigation: rollback applied (rollback_deployment on deployment/inventory -n shop (succeeded, fixed it))"
    )
    assert state[2] == "- Temporary measures: none"

    assert "sim.incident-response.dev" not in text  # the change is the env's, a field any cluster has
    hypotheses = section(text, "Hypotheses:")
    suspected = (
        "- Revision 2 of deployment inventory caused the failure; suspected change: env PAYMENTS_URL removed "
        "(container inventory); same image "
        "(registry.example.com/shop/inventory:4.2.0): a configuration change: for: "
    )
    assert hypotheses[0].startswith(suspected), hypotheses[0]
    assert "rollback_deployment succeeded at " in hypotheses[0] and "; fixed it: " in hypotheses[0]
    reviews_line = next(line for line in hypotheses if "revision 2 of deployment reviews" in line)
    assert re.search(r"for: it came 1 s before the first \w+ warning", reviews_line)
    assert (
        "Against: the service recovered after rollback_deployment on deployment/inventory -n shop, which left "
        "deployment/reviews as it was; deployment reviews has 2/2 replicas available now."
    ) in reviews_line

    gathered = section(text, "Evidence Collected:")
    assert any(line.startswith("- events: Warning events about inventory: BackOff x") for line in gathered)
    assert (
        "- rollout: inventory revision 2 compared with the revision running now: env PAYMENTS_URL removed "
        "(container inventory); same image "
        "(registry.example.com/shop/inventory:4.2.0): a configuration change" in gathered
    )
    assert "- kubectl rollout history deployment/inventory --revision=2 -n shop --context sim" in gathered

    questions = section(text, "Open Questions:")
    assert any(q.startswith("- Revision 2 of inventory changed env PAYMENTS_URL removed") for q in questions)
    assert any(
        re.match(r"- Rule out deployment/reviews revision 2, rolled out at \d\d:\d\d:\d\d UTC, 1 s before", q)
        for q in questions
    )
    assert not any("What in revision" in q for q in questions)  # the change is named, not asked for
    assert "http://payments:8080" not in text + str(handoff)  # env values never leave the server

    # The default answer is the summary, then the document in the playbook's format (format=json has the fields).
    assert handoff["format"] == "json" and answer.startswith(f"Handoff of {handoff['incident']['incident_id']} ")
    the_format({**handoff, "document": answer.partition("\ndocument:\n")[2]})
    assert handoff["current_state"]["service"] == "running" and handoff["current_state"]["mitigation"] == ["rollback"]
    assert [a["effect"] for a in handoff["actions"]] == ["fixed"]
    # Markdown says the same under headings.
    assert markdown.startswith("# INCIDENT HANDOFF TO RCA\n")
    plain = re.sub(r"[*`]", "", markdown)
    for line in [coincident, replaced, hypotheses[0], *questions]:
        assert line.removeprefix("- ").split(" ", 1)[1][:80] in plain, line


async def test_scale_of_a_saturated_autoscaler(start: Start) -> None:
    env, clock = start("overload"), Clock()
    async with Client(server(env, clock, "full")) as client:
        declared = await call(client, "declare_incident", title="web slow", severity="SEV2", namespace=NS)
        assessed = await call(client, "assess_namespace", namespace=NS)
        assert assessed["decision"]["target"] == "hpa/web", assessed["summary"]
        # 3300m of load at 250m requested per pod: 19 replicas bring it under the HPA's 70% target.
        plan, _ = await plan_and_confirm(
            client, env, "override_hpa", namespace=NS, hpa="web", min_replicas=19, max_replicas=24
        )
        await env.until(lambda: settled(env, "web", 19), 40)
        final = await recovered(client, clock, "web")
        assert final["stabilized_incident"] == declared["incident"]["incident_id"]
        handoff = await handoff_fields(client, namespace=NS)

    text = handoff["document"]
    the_format(handoff)
    timeline = section(text, "Timeline Summary:")
    assert any(
        "override_hpa succeeded at the API; fixed it: verify_recovery said RECOVERED for web" in line
        for line in timeline
    )
    assert "service recovered: verify_recovery said RECOVERED for web" in timeline[-1]
    assert not any("rolled out" in line for line in timeline)  # nothing was deployed in the window

    state = section(text, "Current State:")
    assert state[0].startswith("- Service: running (web RECOVERED: 19/19 pods ready")
    assert state[1].startswith("- Mitigation: scale applied (override_hpa on horizontalpodautoscaler/web -n shop")
    assert state[2:] == [
        "- Temporary measures:",
        f"  - {handoff['current_state']['temporary_measures'][0]['what']} (override_hpa); restore: "
        f"{plan['undo_command']}",
    ]

    [scale] = [h for h in handoff["hypotheses"] if h["statement"].startswith("The autoscaler web")]
    figures = " ".join(scale["evidence_for"])
    assert re.search(r"at \d\d:\d\d UTC: hpa web \(deployment/web\): 6/6 replicas, cpu: \d+%/70%", figures), (
        figures
    )  # the load before
    assert re.search(r"now: HPA web: 19 replicas \(desired 19, min 19, max 24\), cpu: \d+%/70%", figures), figures
    assert "override_hpa succeeded at " in figures and "fixed it" in figures
    assert scale["evidence_against"] == []
    gathered = section(text, "Evidence Collected:")
    assert any(line.startswith("- metrics: HPA web: 19 replicas") for line in gathered)
    assert any(
        "1 temporary measure(s) still in place (horizontalpodautoscaler/web)" in q for q in handoff["open_questions"]
    )


async def test_isolate_after_a_scale_that_did_not_fix_the_poisoned_service(start: Start) -> None:
    env, clock = start("poison"), Clock()
    async with Client(server(env, clock, "full")) as client:
        declared = await call(client, "declare_incident", title="web failing readiness", severity="SEV2", namespace=NS)
        assessed = await call(client, "assess_namespace", namespace=NS)
        assert assessed["decision"]["primary_action"] == "ISOLATE", assessed["summary"]
        # The tempting first move: more web replicas. The poison stays, so web stays degraded.
        await plan_and_confirm(client, env, "override_hpa", namespace=NS, hpa="web", min_replicas=6, max_replicas=8)
        await env.until(lambda: len(env.pods("app=web")) == 6, 30)
        missed = await call(client, "verify_recovery", namespace=NS, deployment="web")
        assert missed["verdict"] == "DEGRADED", missed["summary"]
        isolation, _ = await plan_and_confirm(
            client, env, "remove_pods_from_service", namespace=NS, service="api", selector="app=api,version=bad"
        )
        await env.until(lambda: settled(env, "web", 6), 40)
        final = await recovered(client, clock, "web")
        assert final["stabilized_incident"] == declared["incident"]["incident_id"]
        handoff = await handoff_fields(client, namespace=NS)

    text = handoff["document"]
    the_format(handoff)
    bad_pods = sorted(p["metadata"]["name"] for p in env.pods("version=bad"))
    timeline = section(text, "Timeline Summary:")
    failing = ", ".join(c["name"] for c in missed["checks"] if c["passed"] is False)
    not_fixed = (
        f"override_hpa succeeded at the API, but did not fix the service: verify_recovery found web still "
        f"DEGRADED at {clock_of(datetime.fromisoformat(missed['checked_at']))} UTC (failing: {failing})"
    )
    assert any(line.endswith(not_fixed) for line in timeline), not_fixed + "\n" + "\n".join(timeline)
    assert any(
        "remove_pods_from_service succeeded at the API; fixed it: verify_recovery said RECOVERED for web" in line
        for line in timeline
    ), "\n".join(timeline)
    assert [a["effect"] for a in handoff["actions"]] == ["not_fixed", "fixed"]
    actions = section(text, "Actions Taken:")
    assert actions[0].startswith("- override_hpa on horizontalpodautoscaler/web -n shop: succeeded at the API at ")
    assert actions[0].endswith(", but " + not_fixed.partition(", but ")[2])

    state = section(text, "Current State:")
    offline = (
        f"pods {', '.join(bad_pods)} are offline (no traffic from service api) by choice (confirmed in full "
        "mode, without an approval); service api keeps 3 endpoint(s)"
    )
    assert state[0].startswith("- Service: partial (web RECOVERED: ") and state[0].endswith(f"; {offline})")
    assert state[1].startswith(
        "- Mitigation: scale, isolate applied (override_hpa on horizontalpodautoscaler/web "
        "-n shop (succeeded, did not fix it); remove_pods_from_service on service/api -n shop "
        "(succeeded, fixed it))"
    )
    measures = state[state.index("- Temporary measures:") + 1 :]
    assert len([m for m in measures if m.startswith("  - ")]) == 2
    assert f"    {offline}" in measures
    assert (
        f"  - 2 pod(s) taken out of service api by removing a label (they still run, for debugging) "
        f"(remove_pods_from_service); restore: {isolation['undo_command']}" in measures
    )

    by_statement = {h["statement"]: h for h in handoff["hypotheses"]}
    scale = by_statement["The autoscaler web could not add enough replicas for the load"]
    assert any("at the API but did not fix the service" in line for line in scale["evidence_against"])
    poison = by_statement["The pods taken out of service api were harming the rest"]
    assert poison["evidence_for"][0] == f"taken out: {', '.join(bad_pods)}"
    assert re.match(
        r"\d+ warning\(s\) of other pods name api-bad-\S+, e\.g\. web-\S+: Readiness probe failed: "
        r"upstream check failed: .* from pod api-bad-",
        poison["evidence_for"][1],
    ), poison
    assert any("fixed it" in line for line in poison["evidence_for"]) and poison["evidence_against"] == []
    assert any("chose ISOLATE (one component poisons others)" in line for line in poison["evidence_for"])
    assert any(
        re.match(r"their deployment api-bad rolled out revision 1 at \S+ UTC, 25 min before the first", line)
        for line in poison["evidence_for"]
    ), poison
    # api-bad's own rollout is on the timeline; its pods were what the isolation took out, so it is no open suspect.
    assert any(
        re.match(rf"- {STAMP} deployment/api-bad rolled out revision 1 .*, 25 min before the first", line)
        for line in timeline
    )
    assert list(by_statement) == [
        "The autoscaler web could not add enough replicas for the load",
        "The pods taken out of service api were harming the rest",
    ]
    assert any(
        q == "Why did override_hpa on horizontalpodautoscaler/web -n shop not fix the service, although it succeeded?"
        for q in handoff["open_questions"]
    )
    assert not any(q.startswith("Rule out") for q in handoff["open_questions"])
    assert Journal(env.state).incident(declared["incident"]["incident_id"]).status == "stabilized"  # type: ignore[union-attr]


async def test_a_cordoned_then_drained_node_is_one_measure_with_its_evictions_and_its_conditions(start: Start) -> None:
    env, clock = start("node-failure"), Clock()
    on_node = sorted(
        f"{p['metadata']['namespace']}/{p['metadata']['name']}"
        for p in env.kube.list("pods", None, field_selector="spec.nodeName=node-2").items
    )
    async with Client(server(env, clock, "full")) as client:
        await call(client, "declare_incident", title="pods on node-2 not ready", severity="SEV2", namespace=NS)
        assessed = await call(client, "assess_namespace", namespace=NS)
        assert assessed["decision"]["target"] == "node/node-2", assessed["summary"]
        cordon, _ = await plan_and_confirm(client, env, "cordon_node", node="node-2")
        drain = await call(client, "drain_node", node="node-2")
        done = await call(client, "confirm_command", token=drain["token"])
        assert done["status"] in ("succeeded", "partial"), done
        handoff = await handoff_fields(client, namespace=NS)

    text = handoff["document"]
    evicted = [s["command"] for s in done["steps"] if "/eviction" in s["command"] and s["status"] == "succeeded"]
    [measure] = handoff["current_state"]["temporary_measures"]  # the cordon and the drain share one restore
    assert measure["tools"] == ["cordon_node", "drain_node"] and measure["restore_command"] == cordon["undo_command"]
    assert measure["evictions_total"] == len(evicted) > 0 and set(measure["evictions"]) <= set(on_node)
    state = section(text, "Current State:")
    assert state[2:4] == [
        "- Temporary measures:",
        f"  - node node-2 cordoned: no new pod is scheduled on it "
        f"(cordon_node, drain_node); restore: {cordon['undo_command']}",
    ]
    listed = next(line for line in state if "evicted" in line)
    assert listed == f"    evicted {len(evicted)} pod(s): {', '.join(measure['evictions'])}" + (
        f"; {measure['evictions_rest']}" if measure["evictions_rest"] else ""
    )
    [node] = [h for h in handoff["hypotheses"] if h["statement"] == "Node node-2 is unhealthy"]
    assert re.match(
        r"node node-2 now: Ready=Unknown \(NodeStatusUnknown: .*\) since \S+; taints .*node\.kubernetes\.io/"
        r"unreachable.*; cordoned",
        node["evidence_for"][0],
    ), node
    assert any(line.startswith("- node: node-2: Ready=Unknown") for line in section(text, "Evidence Collected:"))
