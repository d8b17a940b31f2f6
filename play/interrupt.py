"""review-assist7 H-build: a mitigation interrupted. payments 5.0.2 -> 5.1.0 crash-loops (old pods serve). The real
`incident-response-mcp serve` runs as a process (stdio) and is killed with SIGKILL:
  between: after the rollback is planned, before it is confirmed (the human approves while no server runs), then a
           new server on the same state dir confirms it;
  during:  after the human approved and confirm_command was sent, while the PATCH is held 4 s by a sim latency fault
           (the write lands after the server is dead); a new server is asked what happened.
  landed:  the PATCH is committed and the server is killed (from the sim's store listener) before the answer.
Usage: python play/interrupt.py between|during|landed"""
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from harness import BIN, HERE, Play
from incident_response.sim.serve import run_sim

V = sys.argv[1] if len(sys.argv) > 1 else "between"


def params(p: Play, pidfile: Path) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    cmd = (f"echo $$ > {pidfile}; exec {BIN} serve --kubeconfig {p.sim.kubeconfig_path} --context sim "
           f"--namespace shop --state-dir {p.state} --approvals cli --log-level WARNING")
    return StdioServerParameters(command="sh", args=["-c", cmd], env=env)


def bad_deploy(p: Play) -> None:
    p.kubectl("patch", "deploy", "payments", "-n", "shop", "-p", json.dumps({"spec": {"template": {
        "metadata": {"annotations": {"sim.incident-response.dev/behavior": "crashloop"}},
        "spec": {"containers": [{"name": "payments", "image": "registry.example.com/shop/payments:5.1.0"}]}}}}))
    p.sim.wait_ticks(60)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=payments")


def kill(p: Play, pidfile: Path) -> None:
    pid = int(pidfile.read_text().strip())
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    p.say(f"\n!!! server pid {pid} killed with SIGKILL")


async def session(p: Play, pidfile: Path, body) -> None:
    """Run body(client) against a fresh server process; tolerate the server dying under us."""
    try:
        async with Client(params(p, pidfile)) as client:
            p.client = client
            await body()
    except BaseException as exc:  # noqa: BLE001 - the server was killed on purpose
        p.say(f"(client closed: {type(exc).__name__}: {str(exc)[:200]})")


async def main(p: Play) -> None:
    pidfile = p.root / "pid"
    bad_deploy(p)
    box: dict = {}

    async def first() -> None:
        a = await p.call("assess_namespace", namespace="shop")
        d = a["decision"]
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        box["token"] = plan.get("token")
        if V == "between":
            kill(p, pidfile)
            await anyio.sleep(1)
            return
        # during: the human approves, the PATCH is held, the server dies while it waits
        p.approve(box["token"])
        if V == "during":
            p.sim.faults.add("latency", verb="patch", resource="deployments", name="payments", seconds=4.0, times=1)
        else:  # landed: the write is committed, the server dies before it hears the answer
            def on_event(ev) -> None:
                if ev.type == "MODIFIED" and ev.object["metadata"]["name"] == "payments" and "5.0.2" in str(
                        ev.object["spec"]["template"]["spec"]["containers"][0]["image"]) and pidfile.exists() \
                        and not box.get("killed"):
                    box["killed"] = True
                    kill(p, pidfile)
            p.sim.cluster.store.add_listener(on_event)
        async with anyio.create_task_group() as tg:
            async def confirm() -> None:
                await p.call("confirm_command", token=box["token"])
            tg.start_soon(confirm)
            await anyio.sleep(1.5)
            kill(p, pidfile)
            await anyio.sleep(1)
            tg.cancel_scope.cancel()

    await session(p, pidfile, first)
    token = box.get("token")
    if V == "between":
        p.say("\n(no server running) the human looks and approves:")
        done = os.popen(f"{BIN} pending --state-dir {p.state} 2>&1").read()
        p.say(f"$ incident-response-mcp pending\n{done}")
        p.approve(token)
    else:
        time.sleep(4)
        p.kubectl("get", "deploy", "payments", "-n", "shop", "-o", "wide")
        p.kubectl("rollout", "history", "deploy/payments", "-n", "shop")
        done = os.popen(f"{BIN} pending --state-dir {p.state} 2>&1").read()
        p.say(f"$ incident-response-mcp pending\n{done}")

    async def second() -> None:
        await p.call("list_pending_commands")
        await p.call("confirm_command", token=token)
        p.sim.wait_ticks(60)
        p.kubectl("get", "pods", "-n", "shop", "-l", "app=payments")
        await p.call("list_temporary_measures")
        await p.call("assess_namespace", namespace="shop")
        await p.call("verify_recovery", namespace="shop", deployment="payments")
        await p.call("incident_handoff", namespace="shop")

    await session(p, pidfile, second)


def go() -> None:
    with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp, open(HERE / f"interrupt-{V}.out", "w") as out:
        root = Path(tmp)
        with run_sim("healthy", kubeconfig_path=root / "kubeconfig") as sim:
            p = Play(sim, root, out)
            anyio.run(main, p)
    print(f"transcript: play/interrupt-{V}.out")


go()
