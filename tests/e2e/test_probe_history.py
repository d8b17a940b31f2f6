"""What the current deploy changed, when it is only a probe (review-assist8 I5), built with real kubectl.

api's chart moves its readiness probe to port 9090, which no container serves; the new pod never gets Ready. The
on-call engineer asks rollout_history for the current revision: it said "revision 3 is the same template as the
current" (compared with itself), and for the previous one only "readinessProbe changed". Now the current revision is
told against the one before it, and a probe's port, path and timing are shown.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"
PROBE_PORT = [{"op": "replace", "path": "/spec/template/spec/containers/0/readinessProbe/httpGet/port", "value": 9090}]


async def test_the_current_revision_says_what_it_changed_down_to_the_probe_port(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("patch", "deployment/api", "-n", NS, "--type=json", "-p", json.dumps(PROBE_PORT))
    await env.until(lambda: env.observed("api"))
    current = int(env.get("deployments", "api")["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
    async with Client(env.server("safe")) as client:
        now = await call(client, "rollout_history", namespace=NS, deployment="api", revision=current)
        before = await call(client, "rollout_history", namespace=NS, deployment="api", revision=current - 1)

    probe = "container api readinessProbe: httpGet :http/healthz -> httpGet :9090/healthz"
    assert (
        f"revision {current} is the current one; against revision {current - 1} it changed: {probe}" in (now["summary"])
    ), now["summary"]
    assert now["detail"]["differences_from_current"] == []
    assert (
        "differs from current in 1 way: container api readinessProbe: httpGet :9090/healthz -> httpGet :http/healthz"
        in (before["summary"])
    ), before["summary"]
