"""A deployment whose pods were each OOMKilled once, at given times after given runs, built with real kubectl.

recommender's 3 pods use 470Mi of their 512Mi limit; each one's status is patched as the kubelet writes it after an
OOM kill (`kubectl patch --subresource=status`): restarted once, its last run OOMKilled `ago` before now after `ran`
of running, running again since. When the kills were and how long the runs lasted are what tell a slow leak from a
load peak (tools/k8s/oom_runs.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.sim import behaviors
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, ready

RECOMMENDER = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "recommender", "namespace": NS},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "recommender"}},
        "template": {
            "metadata": {"labels": {"app": "recommender"}, "annotations": {behaviors.MEMORY_BYTES: "470Mi"}},
            "spec": {
                "containers": [
                    {
                        "name": "recommender",
                        "image": "registry.example.com/shop/recommender:3.2.0",
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "256Mi"},
                            "limits": {"cpu": "500m", "memory": "512Mi"},
                        },
                    }
                ]
            },
        },
    },
}


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def recommenders(env: Env) -> list[dict[str, Any]]:
    return [p for p in env.pods("app=recommender") if not p["metadata"].get("deletionTimestamp")]


def restarted_after_oom(pod: dict[str, Any]) -> bool:
    [status] = pod["status"]["containerStatuses"]
    return (status.get("lastState") or {}).get("terminated", {}).get("reason") == "OOMKilled"


async def killed(env: Env, kubectl: Kubectl, runs: Sequence[tuple[timedelta, timedelta]]) -> None:
    """recommender applied, then its pods' last runs OOMKilled: `runs` is (how long ago, after how long) per pod."""
    kubectl.run("apply", "-f", "-", stdin=json.dumps(RECOMMENDER))
    await env.until(lambda: len([p for p in recommenders(env) if ready(p)]) == 3, 30)
    now = datetime.now(UTC)
    for (ago, ran), pod in zip(runs, recommenders(env), strict=True):
        kill = now - ago
        [status] = pod["status"]["containerStatuses"]
        status |= {
            "restartCount": 1,
            "state": {"running": {"startedAt": stamp(kill)}},
            "lastState": {
                "terminated": {
                    "reason": "OOMKilled",
                    "exitCode": 137,
                    "startedAt": stamp(kill - ran),
                    "finishedAt": stamp(kill),
                }
            },
        }
        body = json.dumps({"status": {"containerStatuses": [status]}})
        kubectl.run("patch", "pod", pod["metadata"]["name"], "-n", NS, "--subresource=status", "-p", body)
    await env.until(lambda: all(restarted_after_oom(p) and ready(p) for p in recommenders(env)), 20)
