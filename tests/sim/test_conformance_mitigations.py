"""The playbook's kubectl commands that change a cluster (rollback, traffic, scaling, memory, canary, nodes, pods), run
with real kubectl against a fresh simulated scenario each: what a real cluster would answer. The read-only commands:
test_conformance.py."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from support.conformance import (
    IMAGE,
    NS,
    all_running_and_ready,
    endpoint_ips,
    endpoints_json_ips,
    eventually,
    millicores,
    parse_table,
    pods_table,
    ready,
    store_pods,
)
from support.kubectl_runner import Kubectl
from support.sims import SimFactory

from incident_response.sim.resources import DEPLOYMENTS, NODES, PODS
from incident_response.sim.serve import RunningSim

# ----- fixtures -----


@pytest.fixture
def fresh(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> Callable[[str], tuple[RunningSim, Kubectl]]:
    """A new cluster for a test that changes it."""

    def start(scenario: str) -> tuple[RunningSim, Kubectl]:
        sim = sim_factory(scenario)
        return sim, kubectl_for(sim)

    return start


# ----- rollback -----


def test_rollout_undo_then_status_succeeds_and_pods_are_ready_on_the_old_image(fresh: Callable[..., Any]) -> None:
    sim, k = fresh("bad-deploy")
    undo = k.shell(f"kubectl rollout undo deployment/checkout -n {NS}")
    assert undo.stdout.strip() == "deployment.apps/checkout rolled back"
    status = k.shell(f"kubectl rollout status deployment/checkout -n {NS} --timeout=3m", timeout=200)
    assert 'deployment "checkout" successfully rolled out' in status.stdout
    eventually(
        lambda: all_running_and_ready(k, "checkout", 4, IMAGE.format("checkout:2.4.0")),
        what="four ready checkout pods on 2.4.0",
    )
    rows = parse_table(k.shell(f"kubectl get pods -n {NS} -l app=checkout").stdout)
    assert len(rows) == 4 and all(r["STATUS"] == "Running" and r["READY"] == "1/1" for r in rows)
    deployment = parse_table(k.shell(f"kubectl get deployment checkout -n {NS}").stdout)[0]
    assert (deployment["READY"], deployment["UP-TO-DATE"], deployment["AVAILABLE"]) == ("4/4", "4", "4")
    ips = {p["status"]["podIP"] for p in store_pods(sim, {"app": "checkout"})}
    assert eventually(lambda: endpoints_json_ips(k, "checkout") == ips, what="all four pods as endpoints")
    history = parse_table(
        "\n".join(k.shell(f"kubectl rollout history deployment/checkout -n {NS}").stdout.splitlines()[1:])
    )
    assert [int(r["REVISION"]) for r in history] == [1, 3, 4]  # revision 2 came back as 4


def test_rollout_undo_to_a_revision(fresh: Callable[..., Any]) -> None:
    _, k = fresh("bad-deploy")
    out = k.shell(f"kubectl rollout undo deployment/checkout -n {NS} --to-revision=1").stdout
    assert out.strip() == "deployment.apps/checkout rolled back"
    k.shell(f"kubectl rollout status deployment/checkout -n {NS} --timeout=3m", timeout=200)
    eventually(
        lambda: all_running_and_ready(k, "checkout", 4, IMAGE.format("checkout:2.3.0")),
        what="four ready checkout pods on 2.3.0",
    )
    image = k.shell(
        f"kubectl rollout history deployment/checkout -n {NS} --revision=4 "
        "-o jsonpath='{.spec.template.spec.containers[0].image}'"
    ).stdout
    assert image == IMAGE.format("checkout:2.3.0")


# ----- isolation -----


def _web_ready(k: Kubectl) -> tuple[int, int]:
    rows = pods_table(k, "-l", "app=web")
    return sum(r["READY"] == "1/1" for r in rows), len(rows)


def test_removing_the_service_label_takes_bad_pods_out_of_endpoints_and_restoring_puts_them_back(
    fresh: Callable[..., Any],
) -> None:
    sim, k = fresh("poison")
    bad = {p["metadata"]["name"]: p["status"]["podIP"] for p in store_pods(sim, {"version": "bad"})}
    assert len(bad) == 2
    eventually(lambda: set(bad.values()) <= endpoints_json_ips(k, "api"), what="the bad pods serving")
    eventually(lambda: _web_ready(k)[0] < _web_ready(k)[1], what="poisoned web pods")
    out = k.shell(f"kubectl label pods -n {NS} -l app=api,version=bad app-").stdout
    assert sorted(out.splitlines()) == sorted(f"pod/{name} unlabeled" for name in bad)
    eventually(lambda: not set(bad.values()) & endpoint_ips(k, "api"), what="bad pods out of the endpoints")
    assert len(endpoint_ips(k, "api")) == 3
    eventually(lambda: _web_ready(k)[0] == _web_ready(k)[1], what="web pods healed")
    labels = parse_table(k.shell(f"kubectl get pods -n {NS} -l version=bad --show-labels").stdout)
    assert all("app=" not in r["LABELS"].replace("app.kubernetes.io", "") for r in labels)
    restored = k.shell(f"kubectl label pods -n {NS} -l version=bad app=api").stdout
    assert sorted(restored.splitlines()) == sorted(f"pod/{name} labeled" for name in bad)
    eventually(lambda: set(bad.values()) <= endpoints_json_ips(k, "api"), what="bad pods back in the endpoints")


DENY_ALL = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: incident-isolate
  namespace: {namespace}
spec:
  podSelector:
    matchLabels:
      app: {service}
  policyTypes:
  - Ingress
  ingress: []  # Empty = deny all ingress
"""


def test_deny_all_network_policy_heals_the_poisoned_pods_and_can_be_described_and_deleted(
    fresh: Callable[..., Any],
) -> None:
    _, k = fresh("poison")
    eventually(lambda: _web_ready(k)[0] < _web_ready(k)[1], what="poisoned web pods")
    applied = k.run("apply", "-f", "-", stdin=DENY_ALL.format(namespace=NS, service="api")).stdout
    assert applied.strip() == "networkpolicy.networking.k8s.io/incident-isolate created"
    eventually(lambda: _web_ready(k)[0] == _web_ready(k)[1] > 0, what="web pods healed by the policy")
    described = k.shell(f"kubectl describe networkpolicy incident-isolate -n {NS}").stdout
    assert re.search(r"^Name:\s+incident-isolate$", described, flags=re.M)
    assert re.search(r"PodSelector:\s+app=api", described)
    assert "<none> (Selected pods are isolated for ingress connectivity)" in described
    assert "Policy Types: Ingress" in described
    again = k.run("apply", "-f", "-", stdin=DENY_ALL.format(namespace=NS, service="api")).stdout
    assert again.strip() == "networkpolicy.networking.k8s.io/incident-isolate unchanged"
    deleted = k.shell(f"kubectl delete networkpolicy incident-isolate -n {NS}").stdout
    assert deleted.strip() == 'networkpolicy.networking.k8s.io "incident-isolate" deleted'
    gone = k.run("get", "networkpolicy", "incident-isolate", "-n", NS, check=False)
    assert gone.returncode == 1 and "NotFound" in gone.stderr
    eventually(lambda: _web_ready(k)[0] < _web_ready(k)[1], what="the poison back without the policy")


def test_cordon_stops_scheduling_on_the_node_and_uncordon_reverts(fresh: Callable[..., Any]) -> None:
    sim, k = fresh("healthy")
    wide = parse_table(k.shell(f"kubectl get pods -n {NS} -l app=api -o wide").stdout)
    node = wide[0]["NODE"]
    assert k.shell(f"kubectl cordon {node}").stdout.strip() == f"node/{node} cordoned"
    line = [ln for ln in k.shell("kubectl get nodes").stdout.splitlines() if node in ln]  # | grep <node-name>
    assert len(line) == 1 and line[0].split()[1] == "Ready,SchedulingDisabled"
    before = {r["NAME"] for r in wide}
    assert k.shell(f"kubectl scale deployment/api -n {NS} --replicas=9").stdout.strip() == "deployment.apps/api scaled"
    eventually(lambda: all_running_and_ready(k, "api", 9), what="nine ready api pods")
    new = [
        r
        for r in parse_table(k.shell(f"kubectl get pods -n {NS} -l app=api -o wide").stdout)
        if r["NAME"] not in before
    ]
    assert len(new) == 6 and all(r["NODE"] not in (node, "<none>") for r in new)
    assert k.shell(f"kubectl uncordon {node}").stdout.strip() == f"node/{node} uncordoned"
    line = [ln for ln in k.shell("kubectl get nodes").stdout.splitlines() if node in ln]
    assert line[0].split()[1] == "Ready"
    assert sim.store.peek(NODES, None, node)["spec"].get("unschedulable") in (None, False)


# ----- scaling -----


def test_scale_deployment_then_the_new_pods_run(fresh: Callable[..., Any]) -> None:
    sim, k = fresh("healthy")
    out = k.shell(f"kubectl scale deployment/api -n {NS} --replicas=5").stdout
    assert out.strip() == "deployment.apps/api scaled"
    watched = k.run("get", "pods", "-n", NS, "-l", "app=api", "-w", "--request-timeout=3s", check=False, timeout=30)
    assert len({line.split()[0] for line in watched.stdout.splitlines()[1:] if line.strip()}) == 5
    eventually(lambda: all_running_and_ready(k, "api", 5), what="five ready api pods")

    def five_measured() -> list[dict[str, str]] | None:
        rows = parse_table(k.shell(f"kubectl top pods -n {NS} -l app=api").stdout)
        return rows if len(rows) == 5 else None

    top = eventually(five_measured, what="metrics for the five api pods")
    assert all(millicores(r["CPU(cores)"]) > 0 for r in top)
    assert sim.store.peek(DEPLOYMENTS, NS, "api")["spec"]["replicas"] == 5


def test_hpa_emergency_override_and_describe(fresh: Callable[..., Any]) -> None:
    sim, k = fresh("overload")
    web = eventually(
        lambda: next(
            (
                r
                for r in parse_table(k.shell(f"kubectl get hpa -n {NS}").stdout)
                if r["NAME"] == "web" and r["REPLICAS"] == "6"
            ),
            None,
        ),
        what="web HPA at max",
    )
    assert int(re.fullmatch(r"cpu: (\d+)%/70%", web["TARGETS"]).group(1)) > 70  # type: ignore[union-attr]
    patched = k.shell(f'kubectl patch hpa web -n {NS} -p \'{{"spec":{{"minReplicas":4,"maxReplicas":12}}}}\'')
    assert patched.stdout.strip() == "horizontalpodautoscaler.autoscaling/web patched"
    described = k.shell(f"kubectl describe hpa web -n {NS}").stdout
    assert re.search(r"^Min replicas:\s+4$", described, flags=re.M)
    assert re.search(r"^Max replicas:\s+12$", described, flags=re.M)
    assert re.search(r"^Reference:\s+Deployment/web$", described, flags=re.M)
    assert "resource cpu on pods  (as a percentage of request):" in described
    eventually(lambda: sim.store.peek(DEPLOYMENTS, NS, "web")["spec"]["replicas"] > 6, what="the HPA to scale past 6")
    k.shell(f'kubectl patch hpa web -n {NS} -p \'{{"spec":{{"minReplicas":3,"maxReplicas":6}}}}\'')
    restored = parse_table(k.shell(f"kubectl get hpa web -n {NS}").stdout)[0]
    assert (restored["MINPODS"], restored["MAXPODS"]) == ("3", "6")


def test_raising_the_memory_limit_ends_the_oomkills(fresh: Callable[..., Any]) -> None:
    sim, k = fresh("oom")
    eventually(
        lambda: any(r["STATUS"] in ("OOMKilled", "CrashLoopBackOff") for r in pods_table(k, "-l", "app=payments")),
        what="OOMKilled payments pods",
    )
    patch = (
        '{"spec":{"template":{"spec":{"containers":[{"name":"payments","resources":{"limits":{"memory":"1Gi"}}}]}}}}'
    )
    out = k.shell(f"kubectl patch deployment payments -n {NS} -p '{patch}'").stdout
    assert out.strip() == "deployment.apps/payments patched"
    status = k.shell(f"kubectl rollout status deployment/payments -n {NS}", timeout=200)
    assert 'deployment "payments" successfully rolled out' in status.stdout
    eventually(lambda: all_running_and_ready(k, "payments", 2), what="two ready payments pods")
    sim.wait_ticks(40)  # two seconds of cluster time: longer than a container takes to be OOMKilled
    rows = pods_table(k, "-l", "app=payments")
    assert all(r["STATUS"] == "Running" and r["RESTARTS"] == "0" for r in rows), rows
    limits = k.run(
        "get",
        "pods",
        "-n",
        NS,
        "-l",
        "app=payments",
        "-o",
        "jsonpath={.items[*].spec.containers[0].resources.limits.memory}",
    ).stdout.split()
    assert limits == ["1Gi", "1Gi"]


# ----- traffic management -----


def test_canary_rollback_by_selector_scale_and_ingress(fresh: Callable[..., Any]) -> None:
    sim, k = fresh("canary")
    versions = parse_table(k.shell(f"kubectl get pods -n {NS} -l app=web -L version").stdout)
    assert {r["VERSION"] for r in versions} == {"stable", "canary"}
    canary_ips = {p["status"].get("podIP") for p in store_pods(sim, {"version": "canary", "app": "web"})}

    patched = k.shell(f'kubectl patch service web -n {NS} -p \'{{"spec":{{"selector":{{"version":"stable"}}}}}}\'')
    assert patched.stdout.strip() == "service/web patched"
    selector = k.json("get", "service", "web", "-n", NS)["spec"]["selector"]
    assert selector == {"app": "web", "version": "stable"}
    eventually(
        lambda: endpoints_json_ips(k, "web") and not endpoints_json_ips(k, "web") & canary_ips,
        what="only stable pods behind web",
    )

    down = k.shell(f"kubectl scale deployment/web-canary -n {NS} --replicas=0").stdout
    assert down.strip() == "deployment.apps/web-canary scaled"
    up = k.shell(f"kubectl scale deployment/web-stable -n {NS} --replicas=6").stdout
    assert up.strip() == "deployment.apps/web-stable scaled"
    assert sim.store.peek(DEPLOYMENTS, NS, "web-stable")["spec"]["replicas"] == 6
    # The web HPA (3..6, targeting web-stable) may take the count back down as the load spreads: as upstream does.

    def only_stable_serving() -> bool:
        rows = parse_table(k.shell(f"kubectl get pods -n {NS} -l app=web -L version").stdout)
        serving = {p["status"].get("podIP") for p in store_pods(sim, {"app": "web"}) if ready(p)}
        return (
            len(rows) >= 4
            and all(r["VERSION"] == "stable" and r["STATUS"] == "Running" and r["READY"] == "1/1" for r in rows)
            and endpoints_json_ips(k, "web") == serving
        )

    eventually(only_stable_serving, what="only ready stable web pods, all of them behind web")

    path = "/spec/rules/0/http/paths/0/backend/service/name"
    ingress = k.shell(
        f"kubectl patch ingress shop -n {NS} --type='json' "
        f'-p=\'[{{"op":"replace","path":"{path}","value":"web-stable"}}]\''
    )
    assert ingress.stdout.strip() == "ingress.networking.k8s.io/shop patched"
    backends = k.shell(f"kubectl get ingress shop -n {NS} -o jsonpath='{{.spec.rules[*].http.paths[*].backend}}'")
    assert [json.loads(part) for part in backends.stdout.split(" ")] == [
        {"service": {"name": "web-stable", "port": {"number": 80}}},
        {"service": {"name": "api", "port": {"number": 8080}}},
    ]
    rows = parse_table(k.shell(f"kubectl get ingress shop -n {NS}").stdout)
    assert (rows[0]["CLASS"], rows[0]["HOSTS"], rows[0]["ADDRESS"]) == ("nginx", "shop.example.com", "34.120.18.77")


# ----- nodes: drain, PDBs, pod deletion -----


def test_drain_moves_pods_off_the_failed_node(fresh: Callable[..., Any]) -> None:
    """node-2's kubelet is down: an eviction only marks its pods Terminating (nothing confirms the delete), so kubectl
    drain waits for them unless told to skip pods deleted a while ago; their ReplicaSets replace them at once, and
    a force delete (grace period 0) removes one for good."""
    sim, k = fresh("node-failure")
    on_node = [p["metadata"]["name"] for p in sim.store.items(PODS) if p["spec"].get("nodeName") == "node-2"]
    assert on_node
    waiting = k.shell("kubectl drain node-2 --ignore-daemonsets --delete-emptydir-data --timeout=3s", check=False)
    assert waiting.returncode != 0 and "to terminate: context deadline exceeded" in waiting.stderr
    done = k.shell(
        "kubectl drain node-2 --ignore-daemonsets --delete-emptydir-data --skip-wait-for-delete-timeout=1 "
        "--timeout=90s",
        timeout=150,
    )
    assert "node/node-2 drained" in done.stdout
    nodes = {r["NAME"]: r["STATUS"] for r in parse_table(k.shell("kubectl get nodes").stdout)}
    assert nodes["node-2"] == "NotReady,SchedulingDisabled"
    for app, count in (("web", 4), ("api", 3), ("payments", 2)):

        def back(app: str = app, count: int = count) -> bool:
            rows = [r for r in pods_table(k, "-l", f"app={app}", "-o", "wide") if r["NODE"] != "node-2"]
            return len(rows) == count and all(r["STATUS"] == "Running" and r["READY"] == "1/1" for r in rows)

        eventually(back, what=f"{app} back to {count} off node-2")
    rows = parse_table(k.shell(f"kubectl get pods -n {NS} -o wide").stdout)
    stuck = {r["NAME"]: r["STATUS"] for r in rows if r["NODE"] == "node-2"}
    in_shop = {p["metadata"]["name"] for p in sim.store.items(PODS, NS) if p["metadata"]["name"] in on_node}
    assert set(stuck) == in_shop and set(stuck.values()) == {"Terminating"}
    victim = sorted(in_shop)[0]
    forced = k.shell(f"kubectl delete pod {victim} -n {NS} --grace-period=0 --force", timeout=60)
    assert f'pod "{victim}" force deleted' in forced.stdout
    assert victim not in {r["NAME"] for r in pods_table(k)}


def test_drain_respects_a_pod_disruption_budget(fresh: Callable[..., Any]) -> None:
    _, k = fresh("healthy")
    pdb = (
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: api-all\n  namespace: shop\n"
        "spec:\n  minAvailable: 3\n  selector:\n    matchLabels:\n      app: api\n"
    )
    assert "created" in k.run("apply", "-f", "-", stdin=pdb).stdout
    eventually(
        lambda: (
            (rows := parse_table(k.run("get", "pdb", "api-all", "-n", NS).stdout))
            and rows[0]["ALLOWED DISRUPTIONS"] == "0"
        ),
        what="the PDB to allow no disruption",
    )
    pod = parse_table(k.shell(f"kubectl get pods -n {NS} -l app=api -o wide").stdout)[0]
    done = k.run(
        "drain", pod["NODE"], "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=3s", check=False, timeout=60
    )
    assert done.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget." in done.stderr
    still = {r["NAME"] for r in pods_table(k, "-l", "app=api")}
    assert pod["NAME"] in still and len(still) == 3


def test_delete_pod_gets_it_replaced(fresh: Callable[..., Any]) -> None:
    _, k = fresh("healthy")
    victim = pods_table(k, "-l", "app=api")[0]["NAME"]
    out = k.shell(f"kubectl delete pod {victim} -n {NS}", timeout=60).stdout
    assert out.strip() == f'pod "{victim}" deleted'
    eventually(
        lambda: all_running_and_ready(k, "api", 3) and victim not in {r["NAME"] for r in pods_table(k)},
        what="a replacement api pod",
    )
