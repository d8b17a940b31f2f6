"""template_differences compares the whole pod template: a rollout that changes only a checksum annotation, an
envFrom, a volume, a probe or the scheduling fields is a change, named (it was 'differs in 0 ways')."""

from __future__ import annotations

import copy
from typing import Any

from incident_response.tools.k8s.template_diff import config_refs
from incident_response.tools.k8s.workloads import template_differences


def template() -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "search"}, "annotations": {"checksum/config": "a1b2c3"}},
        "spec": {
            "containers": [
                {
                    "name": "search",
                    "image": "search:4.8.1",
                    "envFrom": [{"configMapRef": {"name": "search-config"}}],
                    "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "search-token", "key": "t"}}}],
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                    "volumeMounts": [{"name": "certs", "mountPath": "/certs"}],
                }
            ],
            "volumes": [
                {"name": "certs", "secret": {"secretName": "search-tls"}},
                {"name": "extra", "projected": {"sources": [{"configMap": {"name": "synonyms"}}]}},
            ],
            "serviceAccountName": "search",
        },
    }


def changed(edit: Any) -> list[str]:
    before = template()
    after = copy.deepcopy(before)
    edit(after)
    return template_differences(before, after)


def test_a_checksum_annotation_bump_is_a_named_difference() -> None:
    differences = changed(lambda t: t["metadata"]["annotations"].update({"checksum/config": "d4e5f6"}))
    assert differences == ["pod annotation checksum/config: a1b2c3 -> d4e5f6"]


def test_a_rollout_restart_stamp_is_a_named_difference() -> None:
    stamp = "kubectl.kubernetes.io/restartedAt"
    differences = changed(lambda t: t["metadata"]["annotations"].update({stamp: "2026-12-05T01:00:00Z"}))
    assert differences == [f"pod annotation {stamp}: absent -> 2026-12-05T01:00:00Z"]


def test_envfrom_probes_volumes_and_scheduling_fields_are_compared() -> None:
    def edit(t: dict[str, Any]) -> None:
        container = t["spec"]["containers"][0]
        container["envFrom"] = [{"configMapRef": {"name": "search-config-v2"}}]
        container["readinessProbe"]["httpGet"]["path"] = "/ready"
        t["spec"]["volumes"][0]["secret"]["secretName"] = "search-tls-2"
        t["spec"]["nodeSelector"] = {"pool": "highmem"}
        t["spec"]["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
        t["spec"]["serviceAccountName"] = "search-v2"

    differences = changed(edit)
    assert any(d.startswith("container search envFrom: ") and "search-config-v2" in d for d in differences)
    # A probe's port, path and timing are shown, only the parts that differ (review-assist8 I5).
    assert "container search readinessProbe: httpGet :8080/healthz -> httpGet :8080/ready" in differences
    assert any(d.startswith("pod spec volumes: ") and "search-tls-2" in d for d in differences)
    assert 'pod spec nodeSelector: absent -> {"pool":"highmem"}' in differences
    assert any(d.startswith("pod spec tolerations: absent -> ") for d in differences)
    assert "pod spec serviceAccountName: search -> search-v2" in differences
    assert len(differences) == 6, differences


def test_the_same_template_has_no_difference_and_the_hash_label_is_not_one() -> None:
    other = template()
    other["metadata"]["labels"]["pod-template-hash"] = "5d9f7c"
    assert template_differences(template(), other) == []


def test_a_probe_command_is_named_not_shown() -> None:
    """An exec probe's command may carry a credential: its value never appears."""
    differences = changed(
        lambda t: t["spec"]["containers"][0].update(
            {"livenessProbe": {"exec": {"command": ["check", "--password=hunter2"]}}}
        )
    )
    assert differences == ["container search livenessProbe added"]


def test_a_probe_on_another_port_says_both_ports_and_a_changed_command_only_that_it_changed() -> None:
    before = template()
    container = before["spec"]["containers"][0]
    container["readinessProbe"]["failureThreshold"] = 3
    container["livenessProbe"] = {"exec": {"command": ["check", "--password=old-one"]}}
    after = copy.deepcopy(before)
    after["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = 9090
    after["spec"]["containers"][0]["readinessProbe"]["failureThreshold"] = 10
    after["spec"]["containers"][0]["livenessProbe"]["exec"]["command"][1] = "--password=hunter2"
    differences = template_differences(before, after)
    assert (
        "container search readinessProbe: httpGet :8080/healthz, 3 failures -> httpGet :9090/healthz, 10 failures"
        in (differences)
    ), differences
    assert "container search livenessProbe changed" in differences
    assert not any("hunter2" in d or "old-one" in d for d in differences), differences


def test_the_configmaps_and_secrets_a_template_reads() -> None:
    assert config_refs(template()) == {
        "ConfigMap": {"search-config", "synonyms"},
        "Secret": {"search-token", "search-tls"},
    }


def test_a_credential_named_annotation_is_masked() -> None:
    differences = changed(lambda t: t["metadata"]["annotations"].update({"example.com/db-password": "plain0word"}))
    assert len(differences) == 1 and "plain0word" not in differences[0], differences
    assert differences[0].startswith("pod annotation example.com/db-password: absent -> [masked:"), differences


def test_a_statefulset_revision_reading_a_configmap_edited_since_is_a_warning() -> None:
    """revision_config (any kind): the ConfigMap changed after the target revision began; its number is given."""
    from datetime import UTC, datetime, timedelta

    from incident_response.tools.playbook.config_checks import revision_config

    now = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    edited = {
        "metadata": {
            "creationTimestamp": "2026-11-01T00:00:00Z",
            "managedFields": [{"manager": "kubectl-edit", "operation": "Update", "time": "2026-12-05T01:50:00Z"}],
        }
    }
    current = template()
    current["metadata"]["annotations"]["checksum/config"] = "d4e5f6"
    found = revision_config(current, template(), 4, now - timedelta(days=3), {"search-config": edited}, now)
    assert found is not None
    detail, evidence, brief = found
    assert brief.startswith(
        "revision 4's pods would read the CURRENT ConfigMap search-config: restore its previous data"
    )
    assert "revision 4's pod template" in detail and "CURRENT ConfigMap search-config (changed 10m ago" in detail
    assert "by kubectl-edit" in detail and "Secret search-token" in detail, detail
    # Unchanged since the revision began, and a rollout that changed the image too: nothing to warn about.
    moved = template()
    moved["spec"]["containers"][0]["image"] = "search:4.9.0"
    assert revision_config(moved, template(), 4, now - timedelta(minutes=5), {"search-config": edited}, now) is None
