"""Every kubectl command of the incident-response playbook, run with real kubectl against the simulated scenarios.

Each test checks what a real cluster would answer. The command lines are the playbook's, with its placeholders
filled from the scenario (namespace `shop`; see sim/scenarios/shop.py). Shell pipes (`| grep -v Running`,
`| tail -3`, `| grep -A 5 ...`) are applied in Python to kubectl's output. Read-only checks share one cluster per
scenario (held between two ticks while another is in use); the commands that change a cluster are in
test_conformance_mitigations.py (a file of its own: --dist loadfile runs each file on one worker).
"""

from __future__ import annotations

import re

import pytest
from support.conformance import (
    IMAGE,
    NS,
    Shared,
    endpoint_ips,
    endpoints_json_ips,
    eventually,
    grep_after,
    grep_v,
    metrics,
    millicores,
    parse_table,
    pods_table,
    ready,
    replicaset_by_revision,
    store_pods,
    tail,
)
from support.kubectl_runner import Kubectl
from support.sims import SharedSims

from incident_response.sim.resources import PODS
from incident_response.sim.scenarios import SCENARIOS
from incident_response.sim.serve import RunningSim
from incident_response.sim.tables import pod_status

# ----- fixtures -----


@pytest.fixture(scope="module")
def shared(shared_sims: SharedSims, tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """One cluster per scenario for the tests that only read (tests/support/sims.py: started on first use, the ones
    not in use held between two ticks, stopped with the module), each with its kubectl."""
    kubectls: dict[str, Kubectl] = {}

    def get(scenario: str) -> tuple[RunningSim, Kubectl]:
        sim = shared_sims(scenario)
        if scenario not in kubectls:
            assert sim.kubeconfig_path is not None
            kubectls[scenario] = Kubectl(sim.kubeconfig_path, tmp_path_factory.mktemp(f"kubectl-{scenario}"))
        return sim, kubectls[scenario]

    return get


# ----- rapid state assessment -----


def test_get_pods_shows_crashloopbackoff_and_grep_v_running_lists_only_the_broken_pods(shared: Shared) -> None:
    sim, k = shared("bad-deploy")
    bad_hash = replicaset_by_revision(sim, "checkout")[3]["metadata"]["labels"]["pod-template-hash"]

    def crash_visible() -> tuple[str, list[dict[str, str]]] | None:
        out = k.shell(f"kubectl get pods -n {NS}").stdout
        rows = parse_table(out)
        return (out, rows) if any(r["STATUS"] == "CrashLoopBackOff" for r in rows) else None

    out, rows = eventually(crash_visible, what="CrashLoopBackOff in kubectl get pods")
    assert list(rows[0]) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    not_running = grep_v(out, "Running")
    assert not_running[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    listed = {line.split()[0] for line in not_running[1:]}
    assert listed == {r["NAME"] for r in rows if r["STATUS"] != "Running"}
    assert listed and all(name.startswith(f"checkout-{bad_hash}-") for name in listed)
    crashing = [r for r in rows if r["STATUS"] == "CrashLoopBackOff"]
    assert all(r["READY"] == "0/1" and int(r["RESTARTS"].split()[0]) >= 1 for r in crashing)
    good = [r for r in rows if not r["NAME"].startswith(f"checkout-{bad_hash}-")]
    assert good and all(r["STATUS"] == "Running" and r["READY"] == "1/1" for r in good)


def test_rollout_history_lists_revisions_with_their_change_cause(shared: Shared) -> None:
    sim, k = shared("bad-deploy")
    out = k.shell(f"kubectl rollout history deployment/checkout -n {NS}").stdout
    assert out.splitlines()[0] == "deployment.apps/checkout "
    rows = parse_table("\n".join(out.splitlines()[1:]))
    causes = {
        rev: rs["metadata"]["annotations"]["kubernetes.io/change-cause"]
        for rev, rs in replicaset_by_revision(sim, "checkout").items()
    }
    assert {int(r["REVISION"]): r["CHANGE-CAUSE"] for r in rows} == causes
    assert [int(r["REVISION"]) for r in rows] == [1, 2, 3]
    last = [line for line in tail(out, 3) if line.strip()]
    assert last[-1].split()[0] == "3" and "checkout:2.5.0" in last[-1]


def test_rollout_history_revision_shows_the_pod_template(shared: Shared) -> None:
    _, k = shared("bad-deploy")
    out = k.shell(f"kubectl rollout history deployment/checkout -n {NS} --revision=3").stdout
    assert "deployment.apps/checkout with revision #3" in out
    assert "Pod Template:" in out
    assert re.search(r"Image:\s+" + re.escape(IMAGE.format("checkout:2.5.0")), out)
    # The release crashes through the sim's image catalogue: its template holds nothing a real cluster would not.
    assert "sim.incident-response.dev" not in out
    assert "pod-template-hash=" in out
    previous = k.shell(
        f"kubectl rollout history deployment/checkout -n {NS} --revision=2 "
        "-o jsonpath='{.spec.template.spec.containers[0].image}'"
    ).stdout
    assert previous == IMAGE.format("checkout:2.4.0")
    missing = k.shell(f"kubectl rollout history deployment/checkout -n {NS} --revision=9", check=False)
    assert missing.returncode != 0 and "unable to find the specified revision" in missing.stderr


def test_get_pods_of_a_helm_release_by_instance_label(shared: Shared) -> None:
    sim, k = shared("bad-deploy")
    rows = parse_table(k.shell(f"kubectl get pods -n {NS} -l app.kubernetes.io/instance=cart").stdout)
    expected = {p["metadata"]["name"] for p in store_pods(sim, {"app.kubernetes.io/instance": "cart"})}
    assert len(rows) == 2 and {r["NAME"] for r in rows} == expected
    assert all(r["STATUS"] == "Running" and r["READY"] == "1/1" for r in rows)


def test_get_pvc_by_app_label(shared: Shared) -> None:
    _, k = shared("bad-deploy")
    rows = parse_table(k.shell(f"kubectl get pvc -n {NS} -l app=orders-db").stdout)
    assert [(r["NAME"], r["STATUS"], r["CAPACITY"], r["ACCESS MODES"]) for r in rows] == [
        ("orders-db-data", "Bound", "20Gi", "RWO")
    ]
    none = k.shell(f"kubectl get pvc -n {NS} -l app=checkout")
    assert none.stdout == "" and "No resources found in shop namespace." in none.stderr


def test_get_pods_show_labels_wide_and_label_columns(shared: Shared) -> None:
    sim, k = shared("bad-deploy")
    labelled = parse_table(k.shell(f"kubectl get pods -n {NS} -l app=api --show-labels").stdout)
    assert len(labelled) == 3
    for row in labelled:
        labels = dict(pair.split("=", 1) for pair in row["LABELS"].split(","))
        assert labels["app"] == "api" and labels["version"] == "stable" and labels["pod-template-hash"]
    wide = parse_table(k.shell(f"kubectl get pods -n {NS} -l app=api -o wide").stdout)
    by_name = {p["metadata"]["name"]: p for p in store_pods(sim, {"app": "api"})}
    assert {r["NAME"] for r in wide} == set(by_name)
    for row in wide:
        pod = by_name[row["NAME"]]
        assert row["NODE"] == pod["spec"]["nodeName"]
        assert row["IP"] == pod["status"]["podIP"]
        assert row["NOMINATED NODE"] == "<none>" and row["READINESS GATES"] == "<none>"
    versions = parse_table(k.shell(f"kubectl get pods -n {NS} -l app=checkout -L version").stdout)
    assert versions and all(r["VERSION"] == "stable" for r in versions)


def test_get_endpoints_lists_the_ready_pods(shared: Shared) -> None:
    sim, k = shared("bad-deploy")
    ready_ips = {p["status"]["podIP"] for p in store_pods(sim, {"app": "api"}) if ready(p)}
    assert endpoint_ips(k, "api") == ready_ips
    out = k.shell(f"kubectl get endpoints api -n {NS}").stdout
    assert all(entry.endswith(":8080") for entry in parse_table(out)[0]["ENDPOINTS"].split(","))
    # checkout: only the three ready pods of the good revision serve; the crash-looping ones never do
    good = {p["status"]["podIP"] for p in store_pods(sim, {"app": "checkout"}) if ready(p)}
    assert len(good) == 3 and endpoints_json_ips(k, "checkout") == good


def test_get_hpa_and_get_deployment(shared: Shared) -> None:
    _, k = shared("bad-deploy")
    hpas = {r["NAME"]: r for r in parse_table(k.shell(f"kubectl get hpa -n {NS}").stdout)}
    assert set(hpas) == {"web", "checkout"}
    assert (hpas["web"]["REFERENCE"], hpas["web"]["MINPODS"], hpas["web"]["MAXPODS"]) == ("Deployment/web", "3", "6")
    assert re.fullmatch(r"cpu: \d+%/70%", hpas["web"]["TARGETS"]), hpas["web"]
    rows = parse_table(k.shell(f"kubectl get deployment checkout -n {NS}").stdout)
    assert list(rows[0]) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert rows[0]["NAME"] == "checkout" and rows[0]["READY"].endswith("/4")
    assert rows[0]["UP-TO-DATE"] == "2"  # maxSurge 25% of 4 = 1 surge pod + 1 of unavailable budget


def test_top_pods_sorted_by_cpu_match_the_metrics_api(shared: Shared) -> None:
    sim, k = shared("overload")

    def consistent() -> list[dict[str, str]] | None:
        before = metrics(sim, f"namespaces/{NS}/pods")
        rows = parse_table(k.shell(f"kubectl top pods -n {NS} --sort-by=cpu").stdout)
        after = metrics(sim, f"namespaces/{NS}/pods")
        if before["items"] != after["items"] and [i["containers"] for i in before["items"]] != [
            i["containers"] for i in after["items"]
        ]:
            return None  # the usage moved while kubectl ran; look again
        expected = {
            i["metadata"]["name"]: sum(int(c["usage"]["cpu"].rstrip("n")) for c in i["containers"]) // 1_000_000
            for i in after["items"]
        }
        assert {r["NAME"]: millicores(r["CPU(cores)"]) for r in rows} == expected
        return rows

    rows = eventually(consistent, what="a stable top pods reading")
    cpus = [millicores(r["CPU(cores)"]) for r in rows]
    assert cpus == sorted(cpus, reverse=True)
    assert rows[0]["NAME"].startswith("web-")  # the overloaded frontend burns the most CPU
    assert all(r["MEMORY(bytes)"].endswith("Mi") for r in rows)
    selected = parse_table(k.shell(f"kubectl top pods -n {NS} -l app=web").stdout)
    assert selected and all(r["NAME"].startswith("web-") for r in selected)
    assert len(selected) == len([p for p in store_pods(sim, {"app": "web"}) if p["status"].get("phase") == "Running"])


def test_top_nodes_and_describe_nodes_allocated_resources(shared: Shared) -> None:
    sim, k = shared("overload")
    tops = {r["NAME"]: r for r in parse_table(k.shell("kubectl top nodes").stdout)}
    assert set(tops) == {"node-1", "node-2", "node-3"}
    for row in tops.values():
        assert re.fullmatch(r"\d+m", row["CPU(cores)"]) and re.fullmatch(r"\d+%", row["CPU(%)"])
        assert re.fullmatch(r"\d+Mi", row["MEMORY(bytes)"]) and re.fullmatch(r"\d+%", row["MEMORY(%)"])
    out = k.shell("kubectl describe nodes").stdout
    blocks = grep_after(out, "Allocated resources", 5)
    assert len(blocks) == 3
    requests: dict[str, int] = {}
    for pod in sim.store.items(PODS):
        node = pod["spec"].get("nodeName")
        if node and pod["status"].get("phase") not in ("Succeeded", "Failed"):
            for c in pod["spec"]["containers"]:
                cpu = ((c.get("resources") or {}).get("requests") or {}).get("cpu", "0")
                requests[node] = requests.get(node, 0) + millicores(cpu)
    names = re.findall(r"^Name:\s+(\S+)", out, flags=re.M)
    assert names == ["node-1", "node-2", "node-3"]
    for name, block in zip(names, blocks, strict=True):
        assert block[1].strip() == "(Total limits may be over 100 percent, i.e., overcommitted.)"
        assert block[2].split() == ["Resource", "Requests", "Limits"]
        cpu_line = block[4].split()
        assert cpu_line[0] == "cpu"
        assert millicores(cpu_line[1]) == requests.get(name, 0), (name, block)
        assert block[5].split()[0] == "memory"
    assert "Lease:" in out and "Failed to get lease" not in out
    assert "Non-terminated Pods:" in out and "Conditions:" in out


# ----- events, restarts and logs (monitoring recovery, RCA handoff) -----


def test_warning_events_of_an_object_sorted_by_last_timestamp(shared: Shared) -> None:
    sim, k = shared("bad-deploy")
    crashing = eventually(
        lambda: [r["NAME"] for r in pods_table(k) if r["STATUS"] == "CrashLoopBackOff"], what="a crash-looping pod"
    )[0]

    def warnings() -> list[dict[str, str]]:
        out = k.shell(
            f"kubectl get events -n {NS} --field-selector involvedObject.name={crashing},type=Warning "
            "--sort-by='.lastTimestamp'"
        ).stdout
        return parse_table(out)[-5:]  # | tail -5

    rows = eventually(warnings, what="Warning events for the crashing pod")
    assert list(rows[0]) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert all(r["TYPE"] == "Warning" and r["OBJECT"] == f"pod/{crashing}" for r in rows)
    assert "BackOff" in {r["REASON"] for r in rows}
    # the deployment itself has no warnings: kubectl says so on stderr
    quiet = k.shell(
        f"kubectl get events -n {NS} --field-selector involvedObject.name=checkout,type=Warning "
        "--sort-by='.lastTimestamp'"
    )
    assert quiet.returncode == 0 and all(r["TYPE"] == "Warning" for r in parse_table(quiet.stdout))


def test_events_custom_columns_sorted_by_last_timestamp(shared: Shared) -> None:
    _, k = shared("bad-deploy")
    out = k.shell(
        f"kubectl get events -n {NS} --sort-by='.lastTimestamp' "
        "-o custom-columns=TIME:.lastTimestamp,TYPE:.type,REASON:.reason,MESSAGE:.message"
    ).stdout
    rows = parse_table(out)
    assert out.split("\n", 1)[0].split() == ["TIME", "TYPE", "REASON", "MESSAGE"]
    times = [r["TIME"] for r in rows]
    assert times == sorted(times) and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t in times)
    reasons = {r["REASON"] for r in rows}
    assert {"ScalingReplicaSet", "BackOff"} <= reasons
    assert {r["TYPE"] for r in rows} <= {"Normal", "Warning"}


def test_restart_counts_in_custom_columns(shared: Shared) -> None:
    sim, k = shared("bad-deploy")
    before = {
        p["metadata"]["name"]: p["status"]["containerStatuses"][0]["restartCount"]
        for p in store_pods(sim, {"app": "checkout"})
    }
    out = k.shell(
        f"kubectl get pods -n {NS} -l app=checkout "
        "-o custom-columns=NAME:.metadata.name,RESTARTS:.status.containerStatuses[*].restartCount"
    ).stdout
    rows = {r["NAME"]: int(r["RESTARTS"]) for r in parse_table(out)}
    assert set(rows) == set(before)
    assert all(rows[name] >= count for name, count in before.items())
    assert sorted(rows.values())[-1] >= 1 and sorted(rows.values())[0] == 0


def test_logs_of_a_deployment_with_tail_and_timestamps(shared: Shared) -> None:
    _, k = shared("bad-deploy")
    done = k.shell(f"kubectl logs deployment/checkout -n {NS} --tail=50 --timestamps")
    lines = done.stdout.splitlines()
    assert 0 < len(lines) <= 50
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ", line) for line in lines), lines[:3]
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert stamps == sorted(stamps)
    assert "Found 5 pods, using pod/checkout-" in done.stderr or "Found" not in done.stderr


def test_get_pods_watch_is_bounded_by_the_request_timeout(shared: Shared) -> None:
    _, k = shared("bad-deploy")
    # A watch nothing ends keeps kubectl running until run()'s bound (subprocess.TimeoutExpired fails the test); how
    # fast it ended is not asserted (a loaded machine is slow, not wrong).
    done = k.run("get", "pods", "-n", NS, "-l", "app=checkout", "-w", "--request-timeout=2s", check=False, timeout=60)
    names = {line.split()[0] for line in done.stdout.splitlines()[1:] if line.strip()}
    assert len(names) >= 5 and all(name.startswith("checkout-") for name in names)


def test_get_all_across_namespaces(shared: Shared) -> None:
    _, k = shared("bad-deploy")
    out = k.shell("kubectl get all -A").stdout
    sections = [block.splitlines() for block in out.strip().split("\n\n")]
    kinds = {rows[1].split()[1].split("/")[0] for rows in sections if len(rows) > 1}
    assert kinds == {"pod", "service", "deployment.apps", "replicaset.apps", "horizontalpodautoscaler.autoscaling"}
    assert "shop          deployment.apps/checkout" in out
    assert "kube-system   pod/coredns-" in out


# ----- STATUS parity: the server's Table agrees with pod_status for every pod of every scenario -----


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_status_column_equals_pod_status_for_every_pod(shared: Shared, scenario: str) -> None:
    sim, k = shared(scenario)
    # Hold the controllers still so the Table and the stored pods are the same moment.
    with sim.cluster._tick_lock:
        out = k.run("get", "pods", "-A").stdout
        stored = {(p["metadata"]["namespace"], p["metadata"]["name"]): pod_status(p) for p in sim.store.items(PODS)}
    shown = {(r["NAMESPACE"], r["NAME"]): r["STATUS"] for r in parse_table(out)}
    assert shown == stored
