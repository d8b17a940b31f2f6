"""Probe (sim-8): what the tools say about a registry 401 vs a missing tag. Run: python play/sim8_pull_probe.py auth|tag"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, "tests")
from mcp import Client  # noqa: E402
from support.mitigation_env import NS, call, make_env  # noqa: E402

from incident_response.sim import registries  # noqa: E402
from incident_response.sim.behaviors import BEHAVIOR, IMAGE_PULL_ERROR  # noqa: E402
from incident_response.sim.scenarios.builders import deployment_body  # noqa: E402
from incident_response.sim.serve import run_sim  # noqa: E402

HOST = "registry.corp.example"


async def main(kind: str) -> None:
    tmp = Path(tempfile.mkdtemp())
    with run_sim("healthy", kubeconfig_path=tmp / "kc") as sim:
        env = make_env(sim, tmp / "state")
        sim.cluster.registries[HOST] = frozenset({"ci:right"})
        secret = {
            "metadata": {"name": "regcred", "namespace": NS},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": registries.dockerconfigjson(HOST, "ci", "right")},
        }
        env.kube.create("secrets", secret, NS)
        body = deployment_body("ledger", namespace=NS, replicas=2, image=f"{HOST}/shop/ledger:1.0")
        body["spec"]["template"]["spec"]["imagePullSecrets"] = [{"name": "regcred"}]
        env.kube.create("deployments", body, NS)
        await env.until(lambda: env.rolled_out("ledger", 2))
        if kind == "auth":
            env.kube.delete("secrets", "regcred", NS)
        else:
            sim.cluster.images[f"{HOST}/shop/ledger:1.1"] = {BEHAVIOR: IMAGE_PULL_ERROR}
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "ledger", "image": f"{HOST}/shop/ledger:1.1"}]}}}}
        env.kube.patch("deployments", "ledger", patch, NS, patch_type="strategic")

        def failing() -> bool:
            return any(
                (cs.get("state") or {}).get("waiting", {}).get("reason") == "ImagePullBackOff"
                for p in env.pods("app=ledger")
                for cs in (p.get("status") or {}).get("containerStatuses") or []
            )

        await env.until(failing, 30)
        async with Client(env.server("full")) as client:
            for tool, args in (
                ("assess_namespace", {"namespace": NS}),
                ("evaluate_decision", {"namespace": NS}),
                ("check_rollback_safety", {"namespace": NS, "deployment": "ledger"}),
                ("verify_recovery", {"namespace": NS, "deployment": "ledger"}),
            ):
                result = await client.call_tool(tool, args)
                print("=====", tool)
                print(" ".join(getattr(c, "text", "") for c in result.content)[:3000])


asyncio.run(main(sys.argv[1]))
