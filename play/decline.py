"""review-assist7: the human declines, then asks again. payments 5.1.0 crash-loops (old pods serve). The assistant
plans the rollback; the human denies it ("not yet: the payments team says 5.1.0 carries the PCI fix, we need it"),
the assistant asks what else it can do; later the human changes their mind ("roll it back after all") and the
assistant plans again; the handoff must tell both."""
import json
import subprocess

from harness import BIN, Play, run


def deny(p: Play, token: str, reason: str) -> None:
    done = subprocess.run([str(BIN), "deny", token, "--reason", reason, "--state-dir", str(p.state)],
                          capture_output=True, text=True, timeout=60)
    p.say(f"$ incident-response-mcp deny {token[:8]}... --reason {reason!r}  (rc {done.returncode})\n{done.stdout}{done.stderr}")


async def play(p: Play) -> None:
    p.kubectl("patch", "deploy", "payments", "-n", "shop", "-p", json.dumps({"spec": {"template": {
        "metadata": {"annotations": {"sim.incident-response.dev/behavior": "crashloop"}},
        "spec": {"containers": [{"name": "payments", "image": "registry.example.com/shop/payments:5.1.0"}]}}}}))
    p.sim.wait_ticks(60)
    a = await p.call("assess_namespace", namespace="shop")
    d = a["decision"]
    plan = await p.call(d["next_tool"], **d["next_arguments"])
    first = await p.call("confirm_command", token=plan["token"])
    deny(p, plan["token"], "not yet: 5.1.0 carries the PCI fix, payments team is looking")
    await p.call("confirm_command", token=plan["token"])
    p.say("\n[human] OK, not a rollback. What else can we do while the payments team looks?")
    await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop")
    await p.call("evaluate_decision", namespace="shop", deployment="payments", action="SCALE")
    await p.call("evaluate_decision", namespace="shop", deployment="payments", action="ISOLATE")
    await p.call("list_pending_commands")
    await p.call("incident_handoff", namespace="shop")
    p.say("\n[human] They can't fix it fast. Roll it back after all.")
    plan2 = await p.call("rollback_deployment", namespace="shop", deployment="payments")
    await p.confirm(plan2)
    p.sim.wait_ticks(60)
    await p.call("verify_recovery", namespace="shop", deployment="payments")
    await p.call("incident_handoff", namespace="shop")

run(play, "decline")
