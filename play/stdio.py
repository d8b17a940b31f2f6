"""Over stdio with the real binaries: `incident-response-mcp serve --namespace shop --approvals cli` as a process
(the SDK's stdio client), the human's `incident-response-mcp approve TOKEN --yes` as another. Incident: G1's renamed
port (api's revision 3 renames http -> web; Service api targets http), plus a re-check of F22 (two bad deploys:
payments 5.1.0 then 5.1.1 both crash, revision 1 still serving: the rollback goes to revision 1)."""
import json
import os
import tempfile
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from harness import BIN, HERE, Play
from incident_response.sim.serve import run_sim


async def main(p: Play) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    server = StdioServerParameters(command=str(BIN), args=[
        "serve", "--kubeconfig", str(p.sim.kubeconfig_path), "--context", "sim", "--namespace", "shop",
        "--state-dir", str(p.state), "--approvals", "cli", "--log-level", "WARNING"], env=env)
    async with Client(server) as client:
        p.client = client
        init = client.initialize_result if hasattr(client, "initialize_result") else None
        tools = (await client.list_tools()).tools
        p.say(f"tools/list: {len(tools)} tools, {len(json.dumps([t.model_dump(mode='json', exclude_none=True) for t in tools]))} B as JSON")
        dep = p.jget("deploy", "api", "-n", "shop")
        ports = [dict(pt, name="web") for pt in dep["spec"]["template"]["spec"]["containers"][0]["ports"]]
        p.kubectl("patch", "deploy", "api", "-n", "shop", "-p", json.dumps({"spec": {"template": {"spec": {"containers": [
            {"name": "api", "image": "registry.example.com/shop/api:3.4.0", "ports": ports}]}}}}))
        p.wait(lambda: all(x["spec"]["containers"][0]["image"].endswith("3.4.0") for x in p.pods("shop", "app=api")) and len(p.pods("shop", "app=api")) == 3, what="rollout")
        p.sim.wait_ticks(20)
        p.kubectl("get", "endpoints", "api", "-n", "shop")
        a = await p.call("assess_namespace", namespace="shop")
        d = a["decision"]
        plan = await p.call(d["next_tool"], **d["next_arguments"])
        await p.confirm(plan)
        p.wait(lambda: all(x["spec"]["containers"][0]["image"].endswith("3.3.0") for x in p.pods("shop", "app=api")), what="rollback")
        p.sim.wait_ticks(20)
        p.kubectl("get", "endpoints", "api", "-n", "shop")
        await p.call("verify_recovery", namespace="shop", deployment="api")
        # F22 re-check: two bad deploys of payments in a row (maxUnavailable 0: revision 1's pods keep serving)
        for v in ("5.1.0", "5.1.1"):
            p.kubectl("patch", "deploy", "payments", "-n", "shop", "-p", json.dumps({"spec": {"strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}, "template": {
                "metadata": {"annotations": {"sim.incident-response.dev/behavior": "crashloop"}},
                "spec": {"containers": [{"name": "payments", "image": f"registry.example.com/shop/payments:{v}"}]}}}}))
            p.sim.wait_ticks(30)
        p.kubectl("get", "pods", "-n", "shop", "-l", "app=payments")
        a = await p.call("assess_namespace", namespace="shop")
        d = a["decision"]
        if d.get("next_tool") == "rollback_deployment":
            plan = await p.call(d["next_tool"], **d["next_arguments"])
            await p.confirm(plan)
            p.sim.wait_ticks(60)
            p.kubectl("get", "pods", "-n", "shop", "-l", "app=payments")
        await p.call("incident_handoff", namespace="shop")


def go() -> None:
    with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp, open(HERE / "stdio.out", "w") as out:
        root = Path(tmp)
        with run_sim("healthy", kubeconfig_path=root / "kubeconfig") as sim:
            p = Play(sim, root, out)
            anyio.run(main, p)
    print("transcript: play/stdio.out")


go()
