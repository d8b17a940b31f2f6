"""bench/startup.py's `ours` with variants alternating per server (paired in time): python play/fl_variants.py N
[think]. FL_VARIANTS: ';'-separated variants, each 'name:python:ENV=V,ENV=V' (python: the interpreter, so a variant
may be another tree's venv). Prints per variant the medians of first and warm calls and their ratio."""
import os, statistics, sys, tempfile
from pathlib import Path
import anyio
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench"))
import startup
from mcp import Client

TOOL = os.environ.get("FL_TOOL", "list_pods")
SETTLED: dict[str, list[float]] = {}
CURRENT = ['']


async def ours(params, think):
    """startup.ours with FL_TOOL (default list_pods) as the called tool: (first, warm calls)."""
    import time
    async with Client(params, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        schema = next(t.output_schema for t in tools if t.name == TOOL)
        client.session._output_schema_validator(TOOL, schema or {})
        await anyio.sleep(think)
        calls = []
        for _ in range(1 + startup.WARM_CALLS):
            began = time.perf_counter()
            result = await client.call_tool(TOOL, {"namespace": "shop"})
            calls.append(time.perf_counter() - began)
            if os.environ.get("FL_CLIENT_TIMES"):
                with open(os.environ["FL_CLIENT_TIMES"], "a") as out:
                    out.write(f"{began:.6f} {time.perf_counter():.6f}\n")
            if result.is_error:
                raise SystemExit(f"{TOOL} failed: {result.content}")
        settle = float(os.environ.get("FL_SETTLE", "0"))
        if settle:  # FL_SETTLE=s: also 5 calls after s more seconds (the warm-up done), reported as "settled"
            await anyio.sleep(settle)
            for _ in range(startup.WARM_CALLS):
                began = time.perf_counter()
                await client.call_tool(TOOL, {"namespace": "shop"})
                SETTLED.setdefault(CURRENT[0], []).append(time.perf_counter() - began)
        return calls[0], calls[1:]
from mcp.client.stdio import StdioServerParameters
from incident_response.sim.serve import run_sim

async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    think = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    variants = []
    for spec in os.environ["FL_VARIANTS"].split(";"):
        name, python, envs = (spec.split(":", 2) + [""])[:3]
        variants.append((name, python or sys.executable, dict(e.split("=", 1) for e in envs.split(",") if e)))
    results = {name: ([], []) for name, _, _ in variants}
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as home, run_sim("healthy", kubeconfig_path=Path(home) / "kubeconfig") as sim:
        for i in range(n):
            order = variants if i % 2 == 0 else variants[::-1]
            for name, python, extra in order:
                env = {**startup.environment(home), **extra}
                if "FL_TRACE" in os.environ:
                    env["FL_TRACE"] = os.environ["FL_TRACE"]
                params = StdioServerParameters(command=python, args=["-c", open(os.environ["FL_LAUNCHER"]).read() if os.environ.get("FL_LAUNCHER") else startup.LAUNCHER, "--kubeconfig", str(sim.kubeconfig_path), "--state-dir", f"{home}/state-{name}"], env=env)
                CURRENT[0] = name
                first, warm = await ours(params, think)
                results[name][0].append(first); results[name][1].extend(warm)
    print(f"{TOOL} n={n} think={think} load {load0:.2f} -> {os.getloadavg()[0]:.2f}")
    for name, settled in SETTLED.items():
        print(f"  {name:12} settled calls: median {statistics.median(settled)*1000:.1f} ms")
    for name, (firsts, warms) in results.items():
        f, w = statistics.median(firsts), statistics.median(warms)
        print(f"  {name:12} first {f*1000:6.1f} warm {w*1000:6.1f} ratio {f/w:.2f}   firsts " + " ".join(f"{x*1000:.0f}" for x in firsts))

anyio.run(main)
