"""Probe (sim-8): what the tools say when a LimitRange refuses a rollout's pods. python play/sim8_limitrange_probe.py"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, "tests")
from mcp import Client  # noqa: E402
from support.mitigation_env import NS, make_env  # noqa: E402

from incident_response.sim.serve import run_sim  # noqa: E402


async def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    with run_sim("healthy", kubeconfig_path=tmp / "kc") as sim:
        env = make_env(sim, tmp / "state")
        bounds = {"metadata": {"name": "bounds", "namespace": NS},
                  "spec": {"limits": [{"type": "Container", "min": {"memory": "64Mi"}, "max": {"memory": "1Gi"}}]}}
        env.kube.create("limitranges", bounds, NS)
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "payments", "resources": {"limits": {"memory": "2Gi"}}}]}}}}
        env.kube.patch("deployments", "payments", patch, NS, patch_type="strategic")
        await env.until(lambda: any(c.get("type") == "ReplicaFailure" for c in (env.get("deployments", "payments").get("status") or {}).get("conditions") or []), 30)
        async with Client(env.server("full")) as client:
            for tool, args in (("assess_namespace", {"namespace": NS}), ("evaluate_decision", {"namespace": NS}),
                               ("verify_recovery", {"namespace": NS, "deployment": "payments"})):
                result = await client.call_tool(tool, args)
                print("=====", tool)
                print(" ".join(getattr(c, "text", "") for c in result.content)[:2000])


asyncio.run(main())
