"""bench/startup.py's first and warm calls, with where the CPU goes: the server process (all its threads, from
/proc/<pid>/task/*/schedstat), the client's main thread, and the wall time.

    python play/fc_stdio.py [runs] [think]
"""
import os, sys, time, statistics, tempfile, pathlib
import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from incident_response.sim.serve import run_sim

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "bench"))
from startup import LAUNCHER, environment  # noqa: E402

def children() -> list[int]:
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                found.append(int(entry))
    return found

def minflt(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[7])

def cpu_ns(pid: int) -> int:
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
        except OSError:
            pass
    return total

idle = []

async def one(params, think):
    rows = []
    async with Client(params, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        schema = next(t.output_schema for t in tools if t.name == "list_pods")
        client.session._output_schema_validator("list_pods", schema or {})
        await anyio.sleep(think)
        [pid] = [p for p in children() if "python" in open(f"/proc/{p}/cmdline").read()]
        for _ in range(6):
            f0 = minflt(pid)
            s0, c0, w0, m0 = cpu_ns(pid), time.thread_time(), time.perf_counter(), cpu_ns(os.getpid())
            await client.call_tool("list_pods", {"namespace": "shop"})
            c1 = time.thread_time()
            sim = (cpu_ns(os.getpid()) - m0) / 1e6 - (c1 - c0) * 1e3
            rows.append(((time.perf_counter() - w0) * 1e3, (cpu_ns(pid) - s0) / 1e6, (c1 - c0) * 1e3, sim, minflt(pid) - f0))
        await anyio.sleep(think)
        s0, c0, w0 = cpu_ns(pid), time.thread_time(), time.perf_counter()
        await client.call_tool("list_pods", {"namespace": "shop"})
        idle.append(((time.perf_counter() - w0) * 1e3, (cpu_ns(pid) - s0) / 1e6, (time.thread_time() - c0) * 1e3))
    return rows

async def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    think = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    firsts, warms = [], []
    with tempfile.TemporaryDirectory() as home, run_sim("healthy", kubeconfig_path=pathlib.Path(home) / "kubeconfig") as sim:
        launcher = ["-c", LAUNCHER] if not os.environ.get("FC_LAUNCHER") else [os.environ["FC_LAUNCHER"]]
        env = {**environment(home), **{k: v for k, v in os.environ.items() if k.startswith("FC_")}}
        params = StdioServerParameters(command=sys.executable, args=[*launcher, "--kubeconfig", str(sim.kubeconfig_path), "--state-dir", f"{home}/state"], env=env)
        for _ in range(runs):
            rows = await one(params, think)
            firsts.append(rows[0]); warms += rows[1:]
            print("  first wall %.1f server %.1f client %.1f sim %.1f faults %d | warm wall %.1f server %.1f client %.1f sim %.1f faults %d" % (*rows[0], *[statistics.median(r[i] for r in rows[1:]) for i in range(5)]))
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print(f"median first: wall {med(firsts,0):.1f} ms, server cpu {med(firsts,1):.1f}, client cpu {med(firsts,2):.1f}")
    print(f"median warm:  wall {med(warms,0):.1f} ms, server cpu {med(warms,1):.1f}, client cpu {med(warms,2):.1f}")
    print(f"median after idle again: wall {med(idle,0):.1f} ms, server cpu {med(idle,1):.1f}, client cpu {med(idle,2):.1f}")
    print(f"ratio {med(firsts,0)/med(warms,0):.2f}; load {os.getloadavg()}")

anyio.run(main)
