"""A rollback when pods cannot mount a ConfigMap every revision mounts (review-assist6 G8, the volume half).

checkout mounts ConfigMap checkout-files (added two revisions ago); 2.5.1 rolled out minutes ago; then someone deletes
checkout-files with real kubectl. A pod replaced since stays ContainerCreating: the kubelet reports FailedMount
('MountVolume.SetUp failed for volume "files" : configmap "checkout-files" not found'; real `kubectl describe pod`
shows it). Asked about revision 3 (kubectl's default: it added the mount), check_rollback_safety and the plan
said nothing of config and evaluate_decision PROCEEDed (they read only CreateContainerConfigError), although its
pods would hang the same way and replace the three still running: all now say restore it. Revision 2, which ran for
days without the mount, is the target the tools pick on their own: rolling back there is a fix, and
assess_namespace proposes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, ready
from support.plan_warnings import proses, wholes
from support.result_rule import budgeted, budgeted_text

from incident_response.server import budget

pytestmark = pytest.mark.anyio

IMAGE = "registry.example.com/shop/checkout:2.5.1"
FAILED = 'MountVolume.SetUp failed for volume "files" : configmap "checkout-files" not found'


def live(env: Env) -> list[dict[str, Any]]:
    return [p for p in env.pods("app=checkout") if not p["metadata"].get("deletionTimestamp")]


def rolled_out(env: Env, image: str | None = None) -> Callable[[], bool]:
    def check() -> bool:
        deploy = env.get("deployments", "checkout")
        status = deploy.get("status") or {}
        want = image or deploy["spec"]["template"]["spec"]["containers"][0]["image"]
        return (
            status.get("observedGeneration") == deploy["metadata"]["generation"]
            and status.get("updatedReplicas") == status.get("readyReplicas") == deploy["spec"]["replicas"]
            and len(live(env)) == deploy["spec"]["replicas"]
            and all(p["spec"]["containers"][0]["image"] == want and ready(p) for p in live(env))
            and all(any(v["name"] == "files" for v in p["spec"].get("volumes") or []) for p in live(env))
        )

    return check


async def test_every_tool_says_restore_the_configmap_every_revision_mounts(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("create", "configmap", "checkout-files", "-n", NS, "--from-literal=rates.json={}")
    volume = {"name": "files", "configMap": {"name": "checkout-files"}}
    mounted = {"name": "files", "mountPath": "/etc/checkout"}
    mount = [
        {"op": "add", "path": "/spec/template/spec/volumes", "value": [volume]},
        {"op": "add", "path": "/spec/template/spec/containers/0/volumeMounts", "value": [mounted]},
    ]  # fmt: skip
    kubectl.run("patch", "deployment/checkout", "-n", NS, "--type=json", "-p", json.dumps(mount))
    await env.until(rolled_out(env), 40)
    kubectl.run("set", "image", "deployment/checkout", f"checkout={IMAGE}", "-n", NS)
    await env.until(rolled_out(env, IMAGE), 40)
    kubectl.run("delete", "configmap", "checkout-files", "-n", NS)
    first = live(env)[0]["metadata"]["name"]
    kubectl.run("delete", "pod", first, "-n", NS, "--wait=false")
    await env.until(lambda: len(live(env)) == 4 and first not in [p["metadata"]["name"] for p in live(env)])
    stuck = max(live(env), key=lambda p: p["metadata"]["creationTimestamp"])["metadata"]["name"]
    described = ""

    def mount_failed() -> bool:
        nonlocal described
        described = kubectl.run("describe", "pod", stuck, "-n", NS).stdout
        return "FailedMount" in described

    await env.until(mount_failed)
    assert FAILED in described and "ContainerCreating" in described, described
    assert sum(ready(p) for p in live(env)) == 3

    # Revision 3 added the mount and is kubectl's default; revision 2 (which ran for days, without it) is the target
    # the tools pick on their own, and rolling back to it is a fix: asked for revision 3, they must say restore it.
    three = {"namespace": NS, "deployment": "checkout", "to_revision": 3}
    async with Client(env.server("safe")) as client:
        safety = await budgeted(client, "check_rollback_safety", **three)
        plan = await budgeted(client, "rollback_deployment", **three)
        # (revision 3 served seconds: the walk first asks whether it worked; the human says it did)
        walked = await budgeted(client, "evaluate_decision", action="ROLLBACK", revision_known_good=True, **three)
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        default = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="checkout")
        # kubectl's default target (revision 3): the plan carries two warnings, the shared config and the doubt that
        # its target is known good; its text says each as `check: brief` (the detail is the structured content's).
        kubectl_default, text = await budgeted_text(client, "rollback_deployment", namespace=NS, deployment="checkout")

    target = safety["target_revision"]
    said = f"revision {target}'s pods read ConfigMap checkout-files too, which pods fail on now"
    move = "restore it (from source control) instead of rolling back"
    assert safety["verdict"] == "CHECK_FIRST", safety["summary"]
    (item,) = [i for i in safety["items"] if i["check"] == "config"]
    assert item["detail"].startswith(f"{said}: {move}"), item["detail"]
    assert any(FAILED in line for line in item["evidence"]), item["evidence"]
    assert any(w.startswith(f"config: {said}") for w in wholes(plan["warnings"])), wholes(plan["warnings"])
    assert walked["verdict"] == "FIX_FIRST" and f"{said}: {move}" in walked["reason"], walked["summary"]
    decision = assessed["decision"]
    assert decision["primary_action"] == "ROLLBACK" and decision["next_arguments"].get("to_revision") == 2, decision
    assert default["target_revision"] == 2 and not [i for i in default["items"] if i["check"] == "config"], default
    doubt = "revision 3 is kubectl's default target but not known to be good"
    assert any(w.startswith(f"config: {said}") for w in wholes(kubectl_default["warnings"])), wholes(
        kubectl_default["warnings"]
    )
    assert any(w.startswith(doubt) and "to_revision=2" in w for w in proses(kubectl_default["warnings"])), (
        kubectl_default
    )
    # The text says both briefly (what to do, with its names and numbers): the ConfigMap to restore instead, and the
    # revision to pass instead of kubectl's default.
    lines = text.splitlines()
    assert "- config: revision 3 reads ConfigMap checkout-files too, failing now: restore it, do not roll back" in lines
    (doubted,) = [line for line in lines if line.startswith("- default_target: revision 3 served ")]
    assert doubted.endswith("use to_revision=2, not kubectl's default 3"), text
    assert not any(w["detail"] in text for w in kubectl_default["warnings"]), text  # the evidence: structured only

    # The most cautions a rollback plan carries: a PVC labelled for the app (stateful) and a migration Job since the
    # rollout (migrations) beside the shared config and the default-target doubt, within issue 13's rule: 901/3003 =
    # 1.30 (933/2429 = 1.38 when the text said each warning's prose in fewer words; tests/unit/
    # test_plan_warnings_text.py holds every combination).
    claim = {
        "metadata": {"name": "checkout-sessions", "labels": {"app": "checkout"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    env.kube.create("persistentvolumeclaims", claim, NS)
    migrate = {"name": "migrate", "image": IMAGE, "command": ["migrate"]}
    job = {
        "metadata": {"name": "checkout-db-migrate", "labels": {"app": "checkout"}},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [migrate]}}},
    }
    env.kube.create("jobs", job, NS)
    async with Client(env.server("safe")) as client:
        cautious = await client.call_tool("rollback_deployment", {"namespace": NS, "deployment": "checkout"})
    assert not cautious.is_error and cautious.structured_content is not None, cautious.content
    checks = [w["check"] for w in cautious.structured_content["warnings"]]
    assert checks == ["migrations", "stateful", "config", "default_target"], checks
    text, structured = budget.result_bytes(cautious)
    assert (text + structured) / max(text, structured) <= budget.RESULT_OVERLAP_LIMIT, (text, structured)
