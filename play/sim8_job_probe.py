"""Probe (sim-8): what the tools say of a failed migration Job beside api's rollout. python play/sim8_job_probe.py"""

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

BAD = "registry.example.com/shop/api:3.4.0"
MIGRATE = "registry.example.com/shop/api-migrate:3.4.0"


async def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    with run_sim("healthy", kubeconfig_path=tmp / "kc") as sim:
        env = make_env(sim, tmp / "state")
        sim.cluster.images[MIGRATE] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
        sim.cluster.images[BAD] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
        job = {"metadata": {"name": "api-migrate-3-4-0", "namespace": NS, "labels": {"app": "api"}},
               "spec": {"backoffLimit": 1, "template": {"spec": {"restartPolicy": "Never",
                        "containers": [{"name": "migrate", "image": MIGRATE, "args": ["migrate", "up"]}]}}}}
        env.kube.create("jobs", job, NS)
        sim.cluster.advance(15, step=1.0)
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": BAD}]}}}}
        env.kube.patch("deployments", "api", patch, NS, patch_type="strategic")
        await env.until(lambda: any(c.get("type") == "Failed" for c in (env.get("jobs", "api-migrate-3-4-0").get("status") or {}).get("conditions") or []), 30)
        await env.until(lambda: any(p["status"].get("containerStatuses", [{}])[0].get("restartCount", 0) > 0 for p in env.pods("app=api")), 30)
        async with Client(env.server("full")) as client:
            for tool, args in (("assess_namespace", {"namespace": NS}), ("check_rollback_safety", {"namespace": NS, "deployment": "api"}),
                               ("evaluate_decision", {"namespace": NS, "action": "ROLLBACK", "deployment": "api"})):
                result = await client.call_tool(tool, args)
                print("=====", tool)
                print(" ".join(getattr(c, "text", "") for c in result.content)[:2500])


asyncio.run(main())
