"""Probe (sim-8): what assess says of a leak the sim's kubelet produces (memory-growth). python play/sim8_leak_probe.py"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, "tests")
from mcp import Client  # noqa: E402
from support.mitigation_env import NS, make_env  # noqa: E402

from incident_response.sim import behaviors  # noqa: E402
from incident_response.sim.scenarios.builders import deployment_body  # noqa: E402
from incident_response.sim.serve import run_sim  # noqa: E402

IMAGE = "registry.example.com/shop/recommender:3.2.0"


async def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    with run_sim("healthy", kubeconfig_path=tmp / "kc") as sim:
        env = make_env(sim, tmp / "state")
        sim.cluster.images[IMAGE] = {behaviors.MEMORY_BYTES: "64Mi", behaviors.MEMORY_GROWTH: "64Mi"}
        body = deployment_body("recommender", namespace=NS, replicas=1, image=IMAGE, memory=("128Mi", "256Mi"))
        env.kube.create("deployments", body, NS)
        await env.until(lambda: env.rolled_out("recommender", 1))
        sim.cluster.advance(3600, step=60.0)
        env.kube.patch("deployments", "recommender", {"spec": {"replicas": 2}}, NS, patch_type="merge")
        await env.until(lambda: env.rolled_out("recommender", 2))
        sim.cluster.advance(2 * 3600 + 600, step=60.0)
        async with Client(env.server("full")) as client:
            for tool, args in (("assess_namespace", {"namespace": NS}), ("top_pods", {"namespace": NS})):
                result = await client.call_tool(tool, args)
                print("=====", tool)
                print(" ".join(getattr(c, "text", "") for c in result.content)[:2500])


asyncio.run(main())
