"""Probe (sim-8): what the tools say about Multi-Attach. Run: python play/sim8_attach_probe.py scale|surge|node"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, "tests")
from mcp import Client  # noqa: E402
from support.mitigation_env import NS, make_env  # noqa: E402

from incident_response.sim import behaviors  # noqa: E402
from incident_response.sim.serve import run_sim  # noqa: E402


def attach_blocked(sim) -> bool:  # type: ignore[no-untyped-def]
    return bool(sim.cluster.attachments.blocked)


async def main(kind: str) -> None:
    tmp = Path(tempfile.mkdtemp())
    with run_sim("healthy", kubeconfig_path=tmp / "kc") as sim:
        env = make_env(sim, tmp / "state")
        (db,) = env.pods("app=orders-db")
        node = db["spec"]["nodeName"]
        if kind == "node":
            env.kube.patch("nodes", node, {"metadata": {"annotations": {behaviors.NODE_CONDITION: "NotReady"}}}, None, patch_type="merge")
            await env.until(lambda: True)
            sim.cluster.advance(360)
        else:
            env.kube.patch("nodes", node, {"spec": {"unschedulable": True}}, None, patch_type="merge")
            if kind == "scale":
                env.kube.patch("deployments", "orders-db", {"spec": {"replicas": 2}}, NS, patch_type="merge")
            else:
                surge = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                                  "template": {"spec": {"containers": [{"name": "orders-db", "image": "docker.io/library/postgres:16.5"}]}}}}
                env.kube.patch("deployments", "orders-db", surge, NS, patch_type="strategic")
        await env.until(lambda: attach_blocked(sim), 30)
        sim.cluster.advance(130)
        async with Client(env.server("full")) as client:
            for tool, args in (
                ("assess_namespace", {"namespace": NS}),
                ("evaluate_decision", {"namespace": NS}),
                ("evaluate_decision", {"namespace": NS, "action": "SCALE", "deployment": "orders-db"}),
                ("verify_recovery", {"namespace": NS, "deployment": "orders-db"}),
            ):
                result = await client.call_tool(tool, args)
                print("=====", tool, args)
                print(" ".join(getattr(c, "text", "") for c in result.content)[:2500])


asyncio.run(main(sys.argv[1]))
