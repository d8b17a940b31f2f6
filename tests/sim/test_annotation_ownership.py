"""`kubectl annotate` as a real API server records it (what the change list reads an nginx canary's weight edit from,
tools/k8s/changes.canary_change): an Update by field manager kubectl-annotate owning exactly the annotation it set,
taken from the manager that applied it, at the edit's time; an annotate that changes nothing writes nothing (no new
resourceVersion, no managedFields time moved)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim

NS = "shop"
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
INGRESS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {
        "name": "web-canary",
        "namespace": NS,
        "annotations": {"nginx.ingress.kubernetes.io/canary": "true", WEIGHT: "10"},
    },
    "spec": {
        "rules": [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "web", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    },
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RunningSim, Kubectl]]:
    with run_sim("healthy", kubeconfig_path=tmp_path / "kubeconfig") as sim:
        yield sim, Kubectl(tmp_path / "kubeconfig", tmp_path / "cache")


def read(k: Kubectl) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, managedFields by manager)."""
    found = k.json("get", "ingress", "web-canary", "-n", NS, "--show-managed-fields")["metadata"]
    return found, {f["manager"]: f for f in found["managedFields"]}


def test_annotate_owns_the_key_it_set_at_the_edits_time(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    k.run("apply", "-f", "-", stdin=json.dumps(INGRESS))
    sim.advance(60)
    k.run("annotate", "ingress", "web-canary", "-n", NS, "--overwrite", f"{WEIGHT}=100")
    meta, by = read(k)
    edit = by["kubectl-annotate"]
    assert (edit["operation"], edit["fieldsV1"]) == ("Update", {"f:metadata": {"f:annotations": {f"f:{WEIGHT}": {}}}})
    applied = by["kubectl-client-side-apply"]["fieldsV1"]["f:metadata"]["f:annotations"]
    assert f"f:{WEIGHT}" not in applied and "f:nginx.ingress.kubernetes.io/canary" in applied  # taken from it
    assert edit["time"] > by["kubectl-client-side-apply"]["time"]

    sim.advance(60)
    k.run("annotate", "ingress", "web-canary", "-n", NS, "--overwrite", f"{WEIGHT}=100")  # the same value again
    again, by_again = read(k)
    assert again["resourceVersion"] == meta["resourceVersion"]
    assert by_again["kubectl-annotate"]["time"] == edit["time"]
