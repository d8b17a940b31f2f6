"""judge-cause play: a bad deploy still rolling out; the human denies the rollback; what every tool says after, the
pause, verify and the handoff. Transcript: play/jc_deny.out."""
import json
import subprocess

from harness import BIN, Play, run

NS = "shop"
BAD = "registry.example.com/shop/payments:5.1.0"


def deny(p: Play, token: str, reason: str) -> None:
    done = subprocess.run([str(BIN), "deny", token, "--reason", reason, "--state-dir", str(p.state)],
                          capture_output=True, text=True, timeout=60)
    p.say(f"$ incident-response-mcp deny {token[:8]}... --reason {reason!r}  (rc {done.returncode})\n{done.stdout}{done.stderr}")


async def play(p: Play) -> None:
    p.sim.cluster.images[BAD] = {"sim.incident-response.dev/behavior": "crashloop"}
    p.kubectl("set", "image", "deployment/payments", f"payments={BAD}", "-n", NS)
    p.sim.wait_ticks(80)
    p.kubectl("get", "pods", "-n", NS, "-l", "app=payments")
    p.say("\n[human] payments is flapping since the 5.1.0 deploy. What now?")
    a = await p.call("assess_namespace", namespace=NS)
    d = a["decision"]
    plan = await p.call(d["next_tool"], **d["next_arguments"])
    await p.call("confirm_command", token=plan["token"])
    deny(p, plan["token"], "not yet: 5.1.0 carries the PCI fix, payments team is looking")
    await p.call("confirm_command", token=plan["token"])
    p.say("\n[human] OK, not a rollback. What else?")
    await p.call("evaluate_decision", namespace=NS)
    await p.call("assess_namespace", namespace=NS)
    p.say("\n[human] Pause it, as you suggest.")
    pause = await p.call("pause_rollout", namespace=NS, deployment="payments")
    await p.confirm(pause)
    p.sim.wait_ticks(40)
    p.kubectl("get", "deploy", "payments", "-n", NS)
    await p.call("verify_recovery", namespace=NS, deployment="payments")
    await p.call("assess_namespace", namespace=NS)
    await p.call("evaluate_decision", namespace=NS)
    await p.call("list_temporary_measures")
    await p.call("incident_handoff", namespace=NS)

run(play, "jc_deny")
