"""bench/startup.py's `ours` n times (no bare server) with play/fl_trace.py as launcher (or FC_LAUNCHER), printing per
run the first and warm calls, then the medians: python play/fl_runs.py [n] [think]. FL_TRACE names the timeline file."""
import os, statistics, sys, tempfile
from pathlib import Path
import anyio
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench"))
import startup
from mcp.client.stdio import StdioServerParameters
from incident_response.sim.serve import run_sim

async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    think = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    launcher = os.environ.get("FC_LAUNCHER", open(HERE / "fl_trace.py").read())
    os.environ.setdefault("FL_TRACE", "/tmp/fl_trace.txt")
    with tempfile.TemporaryDirectory() as home, run_sim("healthy", kubeconfig_path=Path(home) / "kubeconfig") as sim:
        env = startup.environment(home)
        env["FL_TRACE"] = os.environ["FL_TRACE"]
        params = StdioServerParameters(command=sys.executable, args=["-c", launcher, "--kubeconfig", str(sim.kubeconfig_path), "--state-dir", f"{home}/state"], env=env)
        firsts, warms = [], []
        for _ in range(n):
            r = await startup.ours(params, "legacy", think)
            firsts.append(r.first_call); warms += r.warm_calls
            print(f"first {r.first_call*1000:.1f} warm " + " ".join(f"{w*1000:.1f}" for w in r.warm_calls) + f" load {os.getloadavg()[0]:.2f}", flush=True)
        f, w = statistics.median(firsts), statistics.median(warms)
        print(f"median first {f*1000:.1f} warm {w*1000:.1f} ratio {f/w:.2f} load {os.getloadavg()[0]:.2f}")

anyio.run(main)
