"""Every kubectl command of the incident-response playbook, run with real kubectl against the simulated scenarios.

Each test checks what a real cluster would answer. The command lines are the playbook's, with its placeholders
filled from the scenario (namespace `shop`; see sim/scenarios/shop.py). Shell pipes (`| grep -v Running`,
`| tail -3`, `| grep -A 5 ...`) are applied in Python to kubectl's output. Read-only checks share one cluster per
scenario; a test that changes the cluster gets a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from support.kubectl_runner import Kubectl
from support.sims import SimFactory

from incident_response.sim.resources import DEPLOYMENTS, NODES, PODS, REPLICASETS
from incident_response.sim.scenarios import SCENARIOS
from incident_response.sim.serve import RunningSim, run_sim
from incident_response.sim.tables import pod_status

NS = "shop"
IMAGE = "registry.example.com/shop/{}"
T = TypeVar("T")
Shared = Callable[[str], tuple[RunningSim, Kubectl]]


# ----- helpers -----


def eventually(check: Callable[[], T | None], timeout: float = 20.0, what: str = "the condition") -> T:
    """Poll `check` every 0.2 s until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            result = check()
        except AssertionError as e:
            result, last = None, e
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last}")
        time.sleep(0.2)


def parse_table(text: str) -> list[dict[str, str]]:
    """kubectl's column output as rows keyed by header (cells are split at the header's column starts)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    # kubectl pads columns with at least three spaces; one space is part of a header ("ACCESS MODES")
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[max(i - 2, 0) : i] == "  ")]
    names = [header[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
    return [
        dict(zip(names, [line[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)], strict=True))
        for line in lines[1:]
    ]


def grep_v(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word not in line]


def tail(text: str, count: int) -> list[str]:
    return text.splitlines()[-count:]


def grep_after(text: str, pattern: str, after: int) -> list[list[str]]:
    """`grep -A <after> <pattern>`: each match with the lines that follow it."""
    lines = text.splitlines()
    return [lines[i : i + after + 1] for i, line in enumerate(lines) if pattern in line]


def millicores(text: str) -> int:
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def store_pods(sim: RunningSim, selector: dict[str, str] | None = None, live: bool = True) -> list[dict[str, Any]]:
    out = []
    for pod in sim.store.items(PODS, NS):
        labels = pod["metadata"].get("labels") or {}
        if selector and any(labels.get(k) != v for k, v in selector.items()):
            continue
        if live and "deletionTimestamp" in pod["metadata"]:
            continue
        out.append(pod)
    return out


def ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def endpoint_ips(k: Kubectl, service: str) -> set[str]:
    """Addresses of `kubectl get endpoints <service>` (ip:port pairs, `<none>` when empty)."""
    out = k.run("get", "endpoints", service, "-n", NS).stdout
    rows = parse_table(out)
    assert len(rows) == 1, out
    cell = rows[0]["ENDPOINTS"]
    assert not cell.endswith("more..."), "more than three endpoints are not listed"
    return set() if cell == "<none>" else {entry.rsplit(":", 1)[0] for entry in cell.split(",")}


def endpoints_json_ips(k: Kubectl, service: str) -> set[str]:
    obj = k.json("get", "endpoints", service, "-n", NS)
    return {a["ip"] for s in obj.get("subsets") or [] for a in s.get("addresses") or []}


def pods_table(k: Kubectl, *args: str) -> list[dict[str, str]]:
    return parse_table(k.run("get", "pods", "-n", NS, *args).stdout)


def replicaset_by_revision(sim: RunningSim, deployment: str) -> dict[int, dict[str, Any]]:
    out = {}
    for rs in sim.store.items(REPLICASETS, NS):
        owners = rs["metadata"].get("ownerReferences") or []
        if any(o.get("name") == deployment for o in owners):
            out[int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])] = rs
    return out


def metrics(sim: RunningSim, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{sim.url}/apis/metrics.k8s.io/v1beta1/{path}", timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def all_running_and_ready(k: Kubectl, app: str, count: int, image: str | None = None) -> bool:
    rows = pods_table(k, "-l", f"app={app}")
    if len(rows) != count or any(r["STATUS"] != "Running" or r["READY"] != "1/1" for r in rows):
        return False
    if image is not None:
        images = k.run(
            "get", "pods", "-n", NS, "-l", f"app={app}", "-o", "jsonpath={.items[*].spec.containers[0].image}"
        ).stdout.split()
        return bool(images == [image] * count)
    return True


# ----- fixtures -----


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One cluster per scenario for the tests that only read (started on first use, stopped with the module)."""
    with contextlib.ExitStack() as stack:
        running: dict[str, tuple[RunningSim, Kubectl]] = {}

        def get(scenario: str) -> tuple[RunningSim, Kubectl]:
            if scenario not in running:
                folder = tmp_path_factory.mktemp(f"shared-{scenario}")
                sim = stack.enter_context(run_sim(scenario, kubeconfig_path=folder / "kubeconfig"))
                running[scenario] = (sim, Kubectl(folder / "kubeconfig", folder / "cache"))
            return running[scenario]

        yield get


@pytest.fixture
def fresh(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> Callable[[str], tuple[RunningSim, Kubectl]]:
    """A new cluster for a test that changes it."""

    def start(scenario: str) -> tuple[RunningSim, Kubectl]:
        sim = sim_factory(scenario)
        return sim, kubectl_for(sim)

    return start


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
    started = time.monotonic()
    done = k.run("get", "pods", "-n", NS, "-l", "app=checkout", "-w", "--request-timeout=2s", check=False, timeout=30)
    assert time.monotonic() - started < 20
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
