"""assess_namespace at 10,000 pods against the same list requests made by a bare HTTP client; the server's peak memory.

    python bench/assess_scale.py [PODS] [--runs 5]       (default 10000 pods in namespace `scale`)

The simulated cluster runs in its own process (`incident-response-mcp sim --pods PODS`), our MCP server in another
(over stdio, as a client starts it), this script is the client. Steps:

1. The requests: one assessment is made in this process through a recording seam, which notes every request it
   sends (method, path, query, Accept), continue tokens included.
2. Pairs, alternating which goes first so a loaded machine slows both alike:
   - bare: urllib replays exactly those requests with the same concurrency as the assessment (the pod pages one after
     another, every other request at once beside them), reading each body and decoding its JSON;
   - ours: `assess_namespace(namespace=scale)` through the MCP client, timed from call to result.
3. The server's peak resident memory (VmHWM of its process) after all calls, and what the assessment counted.

Targets (issue 11): every pod considered (pods_total is every pod the API lists), the median of ours at most 1.5x the
median of bare, peak RSS under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from incident_response.tools.assess.namespace import build_assessment
from incident_response.tools.assess.observation import CONCURRENT_READS
from incident_response.tools.kube.client import ClusterSource, RealKube

LAUNCHER = "from incident_response.server.cli import main; main()"
NAMESPACE = "scale"
SIM_START_SECONDS = 300.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    accept: str

    @property
    def is_pod_page(self) -> bool:
        return self.path.endswith("/pods") and any(k == "limit" for k, _ in self.query)


class RecordingKube(RealKube):
    """The real seam, noting every request it sends (from any thread)."""

    requests: list[Request]

    def _request(self, method: str, path: str, **kwargs: Any) -> bytes:
        self.requests.append(Request(method, path, list(kwargs.get("query") or []), kwargs.get("accept", "")))
        return super()._request(method, path, **kwargs)


def record(kubeconfig: Path) -> tuple[list[Request], int]:
    """The requests one assessment sends, and how many pods it counted."""
    kube = RecordingKube.connect(ClusterSource(kubeconfig=kubeconfig))
    kube.requests = []
    assessment = build_assessment(kube, NAMESPACE)
    return kube.requests, assessment.pods_total


def bare_once(url: str, requests: list[Request], decode: bool) -> float:
    def send(request: Request) -> None:
        query = urllib.parse.urlencode(request.query)
        target = url + request.path + (f"?{query}" if query else "")
        asked = urllib.request.Request(target, headers={"Accept": request.accept})
        with urllib.request.urlopen(asked, timeout=120) as response:
            body = response.read()
        if decode and body:
            json.loads(body)

    pages = [r for r in requests if r.is_pod_page]
    others = [r for r in requests if not r.is_pod_page]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENT_READS) as pool:
        beside = [pool.submit(send, r) for r in others]
        for page in pages:
            send(page)
        for done in beside:
            done.result()
    return time.perf_counter() - started


async def ours_once(client: Client) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = await client.call_tool("assess_namespace", {"namespace": NAMESPACE})
    took = time.perf_counter() - started
    if result.is_error or result.structured_content is None:
        raise SystemExit(f"assess_namespace failed: {result.content}")
    return took, result.structured_content


def child_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found.append(int(entry.name))
    return found


def server_pid() -> int:
    """Our server process (the child running the launcher that is not the simulated cluster)."""
    for pid in child_pids():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
        except OSError:
            continue
        if LAUNCHER in argv and "sim" not in argv:  # the simulated cluster is started the same way
            return pid
    raise SystemExit("the server process was not found among this process's children")


def server_memory_mib() -> tuple[float, float]:
    """(current, peak) resident memory of our server process."""
    status = Path(f"/proc/{server_pid()}/status").read_text()
    values = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status.splitlines() if line[:2] == "Vm"}
    return values["VmRSS"], values["VmHWM"]


def server_cpu_seconds() -> float:
    """CPU (user + system) our server process has used so far."""
    fields = Path(f"/proc/{server_pid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_sim(pods: int, folder: Path) -> tuple[subprocess.Popen[str], str, Path]:
    kubeconfig = folder / "kubeconfig"
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "sim", "--pods", str(pods), "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + SIM_START_SECONDS
    url = ""
    for line in process.stdout:  # the sim prints where it listens, then where the kubeconfig is
        if "listening on " in line:
            url = line.rsplit(" ", 1)[1].strip()
        if line.startswith("kubeconfig written"):
            return process, url, kubeconfig
        if time.monotonic() > deadline:
            break
    process.kill()
    raise SystemExit("the simulated cluster did not start")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pods", nargs="?", type=int, default=10_000, help="pods in namespace scale (default 10000)")
    parser.add_argument("--runs", type=int, default=5, help="pairs (default 5)")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average (1, 5, 15 min) at the start: {load()}")
    with tempfile.TemporaryDirectory(prefix="assess-bench-") as home:
        sim, url, kubeconfig = start_sim(args.pods, Path(home))
        try:
            requests, counted = record(kubeconfig)
            pages = sum(r.is_pod_page for r in requests)
            print(f"one assessment sends {len(requests)} requests: {pages} pod pages, {len(requests) - pages} others")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENT_RESPONSE_"))}
            env["HOME"] = home
            params = StdioServerParameters(
                command=sys.executable,
                args=["-c", LAUNCHER, "--kubeconfig", str(kubeconfig), "--state-dir", f"{home}/state"],
                env=env,
            )
            bare: list[float] = []
            fetch_only: list[float] = []
            mine: list[float] = []
            cpu: list[float] = []
            async with Client(params) as client:
                await ours_once(client)  # warm: imports, the client's schema validator, the sim's caches
                for pair in range(args.runs):
                    for which in ("ours", "bare") if pair % 2 == 0 else ("bare", "ours"):
                        if which == "ours":
                            before = server_cpu_seconds()
                            took, assessment = await ours_once(client)
                            cpu.append(server_cpu_seconds() - before)
                            mine.append(took)
                        else:
                            bare.append(bare_once(url, requests, decode=True))
                            fetch_only.append(bare_once(url, requests, decode=False))
                current, peak = server_memory_mib()
        finally:
            sim.terminate()
            sim.wait(30)
    total = sum(assessment["status_counts"].values())
    print(f"load average (1, 5, 15 min) at the end: {load()}")
    print(
        f"pods in {NAMESPACE}: {args.pods}; the assessment counted {assessment['pods_total']} "
        f"(status counts sum to {total}; the recording run counted {counted})"
    )
    ratio = statistics.median(mine) / statistics.median(bare)
    print(f"bare client, same requests, bodies read and JSON decoded: median {statistics.median(bare):.2f} s")
    print(f"bare client, same requests, bodies read only:              median {statistics.median(fetch_only):.2f} s")
    print(
        f"assess_namespace through MCP:                              median {statistics.median(mine):.2f} s "
        f"(min {min(mine):.2f}, max {max(mine):.2f}; {args.runs} runs)"
    )
    print(
        f"ratio to the decoding bare client {ratio:.2f}, to the reading one "
        f"{statistics.median(mine) / statistics.median(fetch_only):.2f} (target <= 1.5)"
    )
    print(f"server process CPU per assessment: median {statistics.median(cpu):.2f} s (user + system)")
    print(f"server process RSS after the calls {current:.0f} MiB, peak {peak:.0f} MiB (target < 200)")


if __name__ == "__main__":
    anyio.run(main)
