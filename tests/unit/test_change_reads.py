"""The reads behind recent_changes (tools/assess/changes.py): ConfigMaps every workload template reads, and a
blind spot said when these credentials may not read them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.builders import NOW, deployment, ts
from support.fakekube import FakeKube

from incident_response.tools.assess.changes import recent_changes
from incident_response.tools.core import errors


def reading(config: str) -> dict[str, Any]:
    web = deployment("web")
    web["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"configMapRef": {"name": config}}]
    return web


def changes(kube: FakeKube, blind: list[str]) -> list[str]:
    web = reading("web-config")
    found = recent_changes(
        kube,
        "shop",
        NOW,
        ([], [], []),
        budgets=[],
        services=[],
        deployments=[web],
        replicasets=[],
        pods=[],
        components={},
        templates={"web": web["spec"]["template"]},
        rolled_out=set(),
        blind=blind,
    )
    return [c.text(NOW) for c in found]


def edited() -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web-config",
            "namespace": "shop",
            "creationTimestamp": ts(timedelta(days=3)),
            "managedFields": [{"manager": "kubectl-edit", "operation": "Update", "time": ts()}],
        },
        "data": {"URL": "http://payments:8081"},
    }


def test_an_edited_configmap_a_healthy_workload_reads_is_listed_with_its_readers() -> None:
    blind: list[str] = []
    assert changes(FakeKube(("configmaps", edited())), blind) == [
        "ConfigMap web-config updated (read by web) 0s ago by kubectl-edit"
    ]
    assert blind == []


class NoConfigMaps(FakeKube):
    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if resource == "configmaps":
            raise errors.Forbidden("configmaps is forbidden", code=403, reason="Forbidden")
        return super().get(resource, name, namespace)


def test_configmaps_these_credentials_may_not_read_are_a_blind_spot() -> None:
    blind: list[str] = []
    assert changes(NoConfigMaps(("configmaps", edited())), blind) == []
    assert blind == ["configmaps"]
