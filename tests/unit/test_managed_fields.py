"""Field ownership on its own: FieldsV1 encoding, Update ownership transfer, Apply merge and removal."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from incident_response.sim import managed_fields as mf
from incident_response.sim.errors import ApiError
from incident_response.sim.resources import DEPLOYMENTS

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def deployment(replicas: int = 1, image: str = "a:1", env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "web", "image": image}
    if env is not None:
        container["env"] = env
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "d", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [container]}}},
        "status": {"replicas": 1},
    }


def owners(obj: dict[str, Any]) -> dict[str, set[str]]:
    return {
        e["manager"] + "/" + e["operation"]: {mf.path_text(p) for p in mf.from_fields_v1(e["fieldsV1"])}
        for e in obj["metadata"]["managedFields"]
    }


def test_fields_v1_round_trips_and_paths_print_as_upstream() -> None:
    paths = mf.field_paths(deployment(env=[{"name": "MODE", "value": "x"}]), DEPLOYMENTS)
    assert mf.from_fields_v1(mf.to_fields_v1(paths)) == paths
    printed = {mf.path_text(p) for p in paths}
    assert '.spec.template.spec.containers[name="web"].env[name="MODE"].value' in printed
    assert ".status.replicas" not in printed  # status is written through /status
    assert ".metadata.labels.app" in printed and ".metadata.name" not in printed


def test_an_update_owns_what_it_changed_and_takes_it_from_the_others() -> None:
    created = deployment()
    mf.record_update(None, created, "creator", DEPLOYMENTS, "t0")
    scaled = copy.deepcopy(created)
    scaled["spec"]["replicas"] = 3
    mf.record_update(created, scaled, "scaler", DEPLOYMENTS, "t1", "scale")
    owned = owners(scaled)
    assert owned["scaler/Update"] == {".spec.replicas"}
    assert (
        ".spec.replicas" not in owned["creator/Update"]
        and '.spec.template.spec.containers[name="web"].image' in owned["creator/Update"]
    )


def test_apply_conflicts_name_managers_and_removal_spares_fields_others_own() -> None:
    live = mf.apply(None, deployment(), "ci", False, DEPLOYMENTS, NOW)
    other = copy.deepcopy(live)
    other["metadata"]["labels"]["owner"] = "me"
    mf.record_update(live, other, "kubectl-label", DEPLOYMENTS, "t1")
    with pytest.raises(ApiError) as refused:
        mf.apply(other, deployment(replicas=2), "cd", False, DEPLOYMENTS, NOW)
    assert refused.value.code == 409
    assert refused.value.message == 'Apply failed with 1 conflict: conflict with "ci": .spec.replicas'
    assert other["spec"]["replicas"] == 1  # a refused apply leaves the live object alone
    config = deployment()
    config["metadata"]["labels"] = {"owner": "me"}
    del config["spec"]["replicas"]
    trimmed = mf.apply(other, config, "ci", False, DEPLOYMENTS, NOW)  # ci stops applying app and replicas
    assert trimmed["metadata"]["labels"] == {"owner": "me"}
    assert "replicas" not in trimmed["spec"]
    forced = mf.apply(other, deployment(replicas=2), "cd", True, DEPLOYMENTS, NOW)
    assert forced["spec"]["replicas"] == 2 and ".spec.replicas" not in owners(forced)["ci/Apply"]
