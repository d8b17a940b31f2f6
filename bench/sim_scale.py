"""How the simulated cluster copes with many pods: seed time, list latency, kubectl wall time, ticks, memory.

    python bench/sim_scale.py [PODS]        (default 10000)

Starts `run_sim("healthy", extra_pods=PODS)` in this process and prints one line per measurement. Latencies are
medians of several runs. Memory is this process's resident set (the server runs in it, in threads).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from kubernetes import client, config

from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim, run_sim

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def median_seconds(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return float(statistics.median(samples))


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def table_list(sim: RunningSim) -> int:
    rows = 0
    path = "/api/v1/pods?limit=500"
    while True:
        request = urllib.request.Request(sim.url + path, headers={"Accept": TABLE_ACCEPT})
        with urllib.request.urlopen(request, timeout=120) as response:
            table = json.loads(response.read())
        rows += len(table["rows"])
        token = table["metadata"].get("continue")
        if not token:
            return rows
        path = f"/api/v1/pods?limit=500&continue={token}"


def tick_seconds(sim: RunningSim, samples: int = 20) -> float:
    seen = []
    for _ in range(samples):
        sim.wait_ticks(1)
        seen.append(sim.cluster.last_tick_seconds)
    return float(statistics.median(seen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pods", nargs="?", type=int, default=10_000, help="extra healthy pods to seed")
    parser.add_argument("--runs", type=int, default=5, help="runs per latency measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        started = time.perf_counter()
        with run_sim("healthy", kubeconfig_path=kubeconfig, extra_pods=args.pods) as sim:
            seed = time.perf_counter() - started
            total = sum(1 for _ in sim.store.items(PODS))
            print(f"pods in the cluster:            {total}")
            print(f"seed + settle + listen:         {seed:.2f} s")

            api = config.new_client_from_config(config_file=str(kubeconfig), context=sim.context)  # type: ignore[no-untyped-call]
            core = client.CoreV1Api(api)
            listed = len(core.list_pod_for_all_namespaces().items)
            assert listed == total, (listed, total)
            py = median_seconds(core.list_pod_for_all_namespaces, args.runs)
            print(f"python client list all pods:    {py * 1000:.0f} ms (median of {args.runs})")
            raw = median_seconds(
                lambda: core.list_pod_for_all_namespaces(_preload_content=False).read(),  # type: ignore[attr-defined]
                args.runs,
            )
            print(f"  same, raw JSON (no models):   {raw * 1000:.0f} ms")
            rows = table_list(sim)
            assert rows == total, (rows, total)
            table = median_seconds(lambda: table_list(sim), args.runs)
            print(f"Table list, 500 per page:       {table * 1000:.0f} ms (median of {args.runs}, as kubectl pages)")

            kubectl = shutil.which("kubectl")
            if kubectl:
                cmd = [
                    kubectl,
                    "--kubeconfig",
                    str(kubeconfig),
                    "--cache-dir",
                    str(Path(tmp) / "cache"),
                    "get",
                    "pods",
                    "-A",
                    "--no-headers",
                ]
                subprocess.run(cmd, capture_output=True, check=True, timeout=300)  # warm the discovery cache
                lines = 0

                def run_kubectl() -> None:
                    nonlocal lines
                    done = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=300)
                    lines = len(done.stdout.splitlines())

                wall = median_seconds(run_kubectl, 3)
                print(f"kubectl get pods -A:            {wall:.2f} s wall (median of 3, {lines} lines)")
            else:
                print("kubectl get pods -A:            skipped (no kubectl on PATH)")
            print(f"controller tick:                {tick_seconds(sim) * 1000:.0f} ms (median of 20)")
            current, peak = rss_mib()
            print(f"server process RSS:             {current:.0f} MiB (peak {peak:.0f} MiB)")
            api.close()


if __name__ == "__main__":
    main()
