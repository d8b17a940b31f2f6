"""PATCH bodies: content-type dispatch, JSON patch, merge patch and strategic merge patch with its directives."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from incident_response.sim.patching import (
    GENERIC_INVALID_MESSAGE,
    JSON_PATCH,
    MERGE_PATCH,
    PATCH_CONTENT_TYPES,
    STRATEGIC_MERGE_PATCH,
    PatchError,
    UnsupportedPatchType,
    apply_patch,
    list_merge_key,
)

SMP = STRATEGIC_MERGE_PATCH


def smp(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a strategic merge patch and check the original was left alone."""
    before = copy.deepcopy(original)
    result: dict[str, Any] = apply_patch(original, json.dumps(patch), SMP)
    assert original == before
    return result


def deployment(*containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "prod", "labels": {"app": "shop", "tier": "web"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": list(containers)}}},
    }


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


SHOP = {"name": "shop", "image": "shop:1", "resources": {"limits": {"cpu": "1"}}}
SIDECAR = {"name": "proxy", "image": "envoy:1"}


# ---------------------------------------------------------------------------------------------------------------
# Content types and malformed bodies


def test_patch_content_types_are_the_three_supported_ones() -> None:
    assert set(PATCH_CONTENT_TYPES) == {JSON_PATCH, MERGE_PATCH, SMP}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/merge-patch+json; charset=utf-8",
        "Application/Merge-Patch+JSON",
        " application/merge-patch+json ;charset=UTF-8",
    ],
)
def test_content_type_parameters_and_case_are_ignored(content_type: str) -> None:
    assert apply_patch({"a": 1}, '{"b": 2}', content_type) == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    "content_type",
    ["application/apply-patch+yaml", "application/json", "text/plain", "", "application/yaml"],
)
def test_unsupported_content_type_raises_415(content_type: str) -> None:
    with pytest.raises(UnsupportedPatchType) as err:
        apply_patch({"a": 1}, '{"b": 2}', content_type)
    assert err.value.code == 415
    status = err.value.api_error().status()
    assert status["reason"] == "UnsupportedMediaType"
    assert "accepted media types include" in status["message"]


@pytest.mark.parametrize("content_type", PATCH_CONTENT_TYPES)
@pytest.mark.parametrize("body", ["", "{", "not json", b"\xff\xfe", "{'a': 1}"])
def test_malformed_body_is_a_400(content_type: str, body: str | bytes) -> None:
    with pytest.raises(PatchError) as err:
        apply_patch({"a": 1}, body, content_type)
    assert err.value.code == 400
    assert err.value.api_error().status()["reason"] == "BadRequest"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (JSON_PATCH, '{"op": "add", "path": "/a", "value": 1}'),
        (JSON_PATCH, '["add"]'),
        (MERGE_PATCH, "[1, 2]"),
        (MERGE_PATCH, '"text"'),
        (SMP, "[]"),
        (SMP, "null"),
    ],
)
def test_body_of_the_wrong_json_shape_is_a_400(content_type: str, body: str) -> None:
    with pytest.raises(PatchError) as err:
        apply_patch({"a": 1}, body, content_type)
    assert err.value.code == 400


def test_bytes_and_str_bodies_are_both_accepted() -> None:
    assert apply_patch({}, b'{"a": "\xc3\xa9"}', MERGE_PATCH) == {"a": "é"}
    assert apply_patch({}, '{"a": "é"}', MERGE_PATCH) == {"a": "é"}


# ---------------------------------------------------------------------------------------------------------------
# JSON patch (RFC 6902)


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        ([{"op": "add", "path": "/spec/replicas", "value": 5}], {"spec": {"replicas": 5, "paused": False}}),
        ([{"op": "replace", "path": "/spec/paused", "value": True}], {"spec": {"replicas": 2, "paused": True}}),
        ([{"op": "remove", "path": "/spec/paused"}], {"spec": {"replicas": 2}}),
        (
            [
                {"op": "test", "path": "/spec/replicas", "value": 2},
                {"op": "replace", "path": "/spec/replicas", "value": 3},
            ],
            {"spec": {"replicas": 3, "paused": False}},
        ),
        (
            [{"op": "copy", "from": "/spec/replicas", "path": "/spec/min"}],
            {"spec": {"replicas": 2, "paused": False, "min": 2}},
        ),
        ([], {"spec": {"replicas": 2, "paused": False}}),
    ],
)
def test_json_patch_applies_operations(ops: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    original = {"spec": {"replicas": 2, "paused": False}}
    assert apply_patch(original, json.dumps(ops), JSON_PATCH) == expected
    assert original == {"spec": {"replicas": 2, "paused": False}}


def test_json_patch_adds_to_a_list_by_index_and_append() -> None:
    original = {"metadata": {"finalizers": ["a"]}}
    ops = [
        {"op": "add", "path": "/metadata/finalizers/-", "value": "c"},
        {"op": "add", "path": "/metadata/finalizers/1", "value": "b"},
    ]
    assert apply_patch(original, json.dumps(ops), JSON_PATCH) == {"metadata": {"finalizers": ["a", "b", "c"]}}


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/spec/replicas", "value": 3}],
        [{"op": "test", "path": "/spec/missing", "value": 3}],
        [{"op": "replace", "path": "/spec/missing", "value": 1}],
        [{"op": "remove", "path": "/spec/missing"}],
        [{"op": "add", "path": "/nope/deeper", "value": 1}],
        [{"op": "bogus", "path": "/spec"}],
        [{"op": "add", "path": "/spec/x"}],
        [{"path": "/spec"}],
        [{"op": "add", "path": 5, "value": 1}],
        [{"op": "replace", "path": "", "value": [1]}],
    ],
)
def test_json_patch_that_does_not_apply_is_a_422_with_the_generic_message(ops: list[dict[str, Any]]) -> None:
    original = {"spec": {"replicas": 2}}
    with pytest.raises(PatchError) as err:
        apply_patch(original, json.dumps(ops), JSON_PATCH)
    assert err.value.code == 422
    status = err.value.api_error().status()
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": GENERIC_INVALID_MESSAGE,
        "reason": "Invalid",
        "code": 422,
    }
    assert original == {"spec": {"replicas": 2}}


def test_json_patch_failing_test_op_leaves_no_partial_change() -> None:
    original = {"spec": {"replicas": 2}}
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 9},
        {"op": "test", "path": "/spec/replicas", "value": 2},
    ]
    with pytest.raises(PatchError):
        apply_patch(original, json.dumps(ops), JSON_PATCH)
    assert original == {"spec": {"replicas": 2}}


# ---------------------------------------------------------------------------------------------------------------
# Merge patch (RFC 7386)


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"a": {"b": "c"}}, {"a": {"d": {"e": None, "f": 1}}}, {"a": {"b": "c", "d": {"f": 1}}}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        (
            {"spec": {"containers": [SHOP, SIDECAR]}},
            {"spec": {"containers": [{"name": "x"}]}},
            {"spec": {"containers": [{"name": "x"}]}},
        ),
        ({"a": 1}, {}, {"a": 1}),
    ],
)
def test_merge_patch_follows_rfc_7386(
    original: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    before = copy.deepcopy(original)
    assert apply_patch(original, json.dumps(patch), MERGE_PATCH) == expected
    assert original == before


def test_merge_patch_result_shares_nothing_with_the_input() -> None:
    original = {"a": {"b": [1]}, "c": {"d": 1}}
    result = apply_patch(original, '{"e": 1}', MERGE_PATCH)
    result["a"]["b"].append(2)
    result["c"]["d"] = 2
    assert original == {"a": {"b": [1]}, "c": {"d": 1}}


# ---------------------------------------------------------------------------------------------------------------
# Strategic merge patch: the patches kubectl sends (traced against kubectl 1.32)


def test_set_image_patch_from_kubectl_changes_only_the_image() -> None:
    original = deployment(SHOP)
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "shop"}],
                    "containers": [{"image": "x", "name": "shop"}],
                }
            }
        }
    }
    result = smp(original, patch)
    assert containers_of(result) == [{"name": "shop", "image": "x", "resources": {"limits": {"cpu": "1"}}}]
    assert result["spec"]["replicas"] == 2
    assert "$setElementOrder/containers" not in json.dumps(result)


def test_memory_limit_patch_keeps_other_container_fields_and_other_containers() -> None:
    original = deployment(SIDECAR, {**SHOP, "name": "c"})
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "1Gi"}}}]}}}
    }
    result = smp(original, patch)
    assert containers_of(result) == [
        SIDECAR,
        {"name": "c", "image": "shop:1", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
    ]


def test_uncordon_patch_removes_unschedulable() -> None:
    node = {"kind": "Node", "metadata": {"name": "n1"}, "spec": {"unschedulable": True, "podCIDR": "10.0.0.0/24"}}
    assert smp(node, {"spec": {"unschedulable": None}}) == {
        "kind": "Node",
        "metadata": {"name": "n1"},
        "spec": {"podCIDR": "10.0.0.0/24"},
    }


def test_cordon_patch_sets_unschedulable() -> None:
    node = {"kind": "Node", "metadata": {"name": "n1"}, "spec": {}}
    assert smp(node, {"spec": {"unschedulable": True}})["spec"] == {"unschedulable": True}


def test_service_selector_patch_merges_the_map_keeping_app_as_a_real_cluster_does() -> None:
    # ServiceSpec.selector has no patch strategy, so a strategic patch merges it (kubernetes/website#26166 removes
    # stale keys with $retainKeys for that reason); only server-side apply treats it as atomic.
    svc = {"kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web", "version": "canary"}}}
    result = smp(svc, {"spec": {"selector": {"version": "stable"}}})
    assert result["spec"]["selector"] == {"app": "web", "version": "stable"}


def test_label_removal_patch_deletes_only_that_label() -> None:
    result = smp(deployment(SHOP), {"metadata": {"labels": {"tier": None}}})
    assert result["metadata"]["labels"] == {"app": "shop"}


def test_null_for_a_missing_key_is_ignored() -> None:
    result = smp(deployment(SHOP), {"metadata": {"annotations": {"gone": None}}, "spec": {"paused": None}})
    assert result["metadata"]["annotations"] == {}
    assert "paused" not in result["spec"]


def test_pdb_selector_patch_replaces_the_selector() -> None:
    pdb = {"kind": "PodDisruptionBudget", "spec": {"selector": {"matchLabels": {"app": "web", "v": "1"}}}}
    result = smp(pdb, {"spec": {"selector": {"matchLabels": {"app": "api"}}}})
    assert result["spec"]["selector"] == {"matchLabels": {"app": "api"}}


# ---------------------------------------------------------------------------------------------------------------
# Strategic merge patch: merge keys


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (("spec", "template", "spec", "containers"), "name"),
        (("spec", "initContainers"), "name"),
        (("spec", "ephemeralContainers"), "name"),
        (("spec", "containers", "env"), "name"),
        (("spec", "volumes"), "name"),
        (("spec", "imagePullSecrets"), "name"),
        (("spec", "containers", "volumeMounts"), "mountPath"),
        (("spec", "containers", "volumeDevices"), "devicePath"),
        (("spec", "containers", "ports"), "containerPort"),
        (("spec", "initContainers", "ports"), "containerPort"),
        (("spec", "ports"), "port"),
        (("status", "conditions"), "type"),
        (("metadata", "ownerReferences"), "uid"),
        (("metadata", "finalizers"), ""),
        (("spec", "hostAliases"), "ip"),
        (("spec", "topologySpreadConstraints"), "topologyKey"),
        (("status", "addresses"), "type"),
        (("spec", "tolerations"), None),
        (("spec", "containers", "envFrom"), None),
        (("spec", "containers", "args"), None),
        (("spec", "taints"), None),
        (("spec", "ingress", "ports"), None),
        (("subsets", "ports"), None),
        (("spec", "rules"), None),
        (("spec", "finalizers"), None),
    ],
)
def test_list_merge_key_table(path: tuple[str, ...], key: str | None) -> None:
    assert list_merge_key(path) == key


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        pytest.param(
            {
                "spec": {
                    "containers": [{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]
                }
            },
            {"spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}]}]}},
            {
                "spec": {
                    "containers": [{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}]}]
                }
            },
            id="env-by-name-nested-in-container",
        ),
        pytest.param(
            {"spec": {"volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {"name": "c"}}]}},
            {"spec": {"volumes": [{"name": "b", "configMap": {"optional": True}}]}},
            {
                "spec": {
                    "volumes": [
                        {"name": "a", "emptyDir": {}},
                        {"name": "b", "configMap": {"name": "c", "optional": True}},
                    ]
                }
            },
            id="volumes-by-name",
        ),
        pytest.param(
            {"spec": {"imagePullSecrets": [{"name": "a"}]}},
            {"spec": {"imagePullSecrets": [{"name": "a"}, {"name": "b"}]}},
            {"spec": {"imagePullSecrets": [{"name": "a"}, {"name": "b"}]}},
            id="imagePullSecrets-by-name",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a", "volumeMounts": [{"mountPath": "/d", "name": "v"}]}]}},
            {"spec": {"containers": [{"name": "a", "volumeMounts": [{"mountPath": "/d", "readOnly": True}]}]}},
            {
                "spec": {
                    "containers": [{"name": "a", "volumeMounts": [{"mountPath": "/d", "name": "v", "readOnly": True}]}]
                }
            },
            id="volumeMounts-by-mountPath",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a", "volumeDevices": [{"devicePath": "/dev/x", "name": "v"}]}]}},
            {"spec": {"containers": [{"name": "a", "volumeDevices": [{"devicePath": "/dev/x", "name": "w"}]}]}},
            {"spec": {"containers": [{"name": "a", "volumeDevices": [{"devicePath": "/dev/x", "name": "w"}]}]}},
            id="volumeDevices-by-devicePath",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}},
            {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]}},
            {
                "spec": {
                    "containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}]}]
                }
            },
            id="container-ports-by-containerPort",
        ),
        pytest.param(
            {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}},
            {"spec": {"ports": [{"port": 443, "targetPort": 9443}]}},
            {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443}]}},
            id="service-ports-by-port",
        ),
        pytest.param(
            {
                "status": {
                    "conditions": [{"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}]
                }
            },
            {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            {
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}]
                }
            },
            id="conditions-by-type",
        ),
        pytest.param(
            {"metadata": {"ownerReferences": [{"uid": "u1", "kind": "ReplicaSet", "controller": True}]}},
            {"metadata": {"ownerReferences": [{"uid": "u1", "controller": False}]}},
            {"metadata": {"ownerReferences": [{"uid": "u1", "kind": "ReplicaSet", "controller": False}]}},
            id="ownerReferences-by-uid",
        ),
        pytest.param(
            {"metadata": {"finalizers": ["a", "b"]}},
            {"metadata": {"finalizers": ["b", "c"]}},
            {"metadata": {"finalizers": ["a", "b", "c"]}},
            id="finalizers-as-a-set",
        ),
        pytest.param(
            {"spec": {"hostAliases": [{"ip": "1.1.1.1", "hostnames": ["a"]}]}},
            {"spec": {"hostAliases": [{"ip": "1.1.1.1", "hostnames": ["b"]}]}},
            {"spec": {"hostAliases": [{"ip": "1.1.1.1", "hostnames": ["b"]}]}},
            id="hostAliases-by-ip",
        ),
        pytest.param(
            {"spec": {"topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 1}]}},
            {"spec": {"topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 2}]}},
            {"spec": {"topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 2}]}},
            id="topologySpreadConstraints-by-topologyKey",
        ),
        pytest.param(
            {
                "status": {
                    "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "n"}]
                }
            },
            {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}},
            {
                "status": {
                    "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}, {"type": "Hostname", "address": "n"}]
                }
            },
            id="node-addresses-by-type",
        ),
        pytest.param(
            {"spec": {"tolerations": [{"key": "a", "operator": "Exists"}]}},
            {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}},
            {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}},
            id="tolerations-atomic",
        ),
        pytest.param(
            {"spec": {"taints": [{"key": "a", "effect": "NoSchedule"}, {"key": "b", "effect": "NoSchedule"}]}},
            {"spec": {"taints": [{"key": "b", "effect": "NoSchedule"}]}},
            {"spec": {"taints": [{"key": "b", "effect": "NoSchedule"}]}},
            id="taints-atomic-so-kubectl-taint-removal-works",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a", "envFrom": [{"configMapRef": {"name": "x"}}], "args": ["1", "2"]}]}},
            {"spec": {"containers": [{"name": "a", "envFrom": [{"secretRef": {"name": "y"}}], "args": ["3"]}]}},
            {"spec": {"containers": [{"name": "a", "envFrom": [{"secretRef": {"name": "y"}}], "args": ["3"]}]}},
            id="envFrom-and-args-atomic",
        ),
        pytest.param(
            {"spec": {"ingress": [{"ports": [{"port": 80}]}]}},
            {"spec": {"ingress": [{"ports": [{"port": 443}]}]}},
            {"spec": {"ingress": [{"ports": [{"port": 443}]}]}},
            id="networkpolicy-ingress-atomic",
        ),
        pytest.param(
            {
                "spec": {
                    "initContainers": [{"name": "init", "image": "a"}],
                    "containers": [{"name": "init", "image": "b"}],
                }
            },
            {"spec": {"initContainers": [{"name": "init", "image": "c"}]}},
            {
                "spec": {
                    "initContainers": [{"name": "init", "image": "c"}],
                    "containers": [{"name": "init", "image": "b"}],
                }
            },
            id="initContainers-by-name-independent-of-containers",
        ),
        pytest.param(
            {"spec": {"ephemeralContainers": [{"name": "dbg", "image": "a"}]}},
            {"spec": {"ephemeralContainers": [{"name": "dbg", "stdin": True}]}},
            {"spec": {"ephemeralContainers": [{"name": "dbg", "image": "a", "stdin": True}]}},
            id="ephemeralContainers-by-name",
        ),
    ],
)
def test_strategic_merge_by_merge_key(
    original: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert smp(original, patch) == expected


def test_new_list_item_without_element_order_goes_first_as_upstream() -> None:
    # Upstream normalizeElementOrder puts an item the server did not have before the server-only ones
    # (the kubernetes.io "update-api-object-kubectl-patch" tutorial shows the added container first).
    result = smp(deployment(SHOP), {"spec": {"template": {"spec": {"containers": [SIDECAR]}}}})
    assert [c["name"] for c in containers_of(result)] == ["proxy", "shop"]


def test_new_finalizer_goes_before_existing_ones_without_element_order() -> None:
    assert smp({"metadata": {"finalizers": ["a"]}}, {"metadata": {"finalizers": ["b"]}}) == {
        "metadata": {"finalizers": ["b", "a"]}
    }


def test_empty_patch_list_on_a_merged_list_changes_nothing() -> None:
    original = deployment(SHOP, SIDECAR)
    assert smp(original, {"spec": {"template": {"spec": {"containers": []}}}}) == original


def test_null_list_deletes_the_list() -> None:
    result = smp(deployment(SHOP), {"spec": {"template": {"spec": {"containers": None}}}})
    assert result["spec"]["template"]["spec"] == {}


def test_list_item_without_the_merge_key_is_a_422() -> None:
    with pytest.raises(PatchError, match="does not contain declared merge key: name") as err:
        smp(deployment(SHOP), {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})
    assert err.value.code == 422


def test_list_item_that_is_not_an_object_in_a_merged_list_is_a_400() -> None:
    with pytest.raises(PatchError) as err:
        smp(deployment(SHOP), {"spec": {"template": {"spec": {"containers": ["shop"]}}}})
    assert err.value.code == 400


def test_patch_into_a_missing_subtree_creates_it_without_nulls_or_directives() -> None:
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"a": "1", "b": None}},
                "spec": {"$setElementOrder/volumes": [{"name": "v"}], "volumes": [{"name": "v", "emptyDir": {}}]},
            }
        }
    }
    result = smp({"spec": {}}, patch)
    assert result == {
        "spec": {
            "template": {"metadata": {"annotations": {"a": "1"}}, "spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}
        }
    }


def test_type_change_replaces_the_value() -> None:
    assert smp({"a": {"b": 1}}, {"a": "text"}) == {"a": "text"}
    assert smp({"a": "text"}, {"a": {"b": 1, "c": None}}) == {"a": {"b": 1}}


def test_strategic_merge_result_shares_nothing_with_the_input() -> None:
    original = deployment(SHOP)
    result = smp(original, {"spec": {"replicas": 3}})
    containers_of(result)[0]["resources"]["limits"]["cpu"] = "9"
    assert SHOP["resources"] == {"limits": {"cpu": "1"}}
    assert containers_of(original)[0]["resources"]["limits"]["cpu"] == "1"


# ---------------------------------------------------------------------------------------------------------------
# Strategic merge patch: directives


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        pytest.param(
            {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
            {"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}},
            {"spec": {"strategy": {"type": "Recreate"}}},
            id="patch-replace-on-a-map",
        ),
        pytest.param(
            {"spec": {"strategy": {"type": "RollingUpdate"}, "replicas": 1}},
            {"spec": {"strategy": {"$patch": "delete"}}},
            {"spec": {"replicas": 1}},
            id="patch-delete-on-a-map",
        ),
        pytest.param(
            {"metadata": {"labels": {"a": "1"}}},
            {"metadata": {"labels": {"$patch": "merge", "b": "2"}}},
            {"metadata": {"labels": {"a": "1", "b": "2"}}},
            id="patch-merge-on-a-map",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}},
            {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}},
            {"spec": {"containers": [{"name": "a"}, {"name": "c"}]}},
            id="patch-delete-in-a-list-item",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b"}]}},
            {"spec": {"containers": [{"name": "x", "image": "2"}, {"$patch": "replace"}]}},
            {"spec": {"containers": [{"name": "x", "image": "2"}]}},
            id="patch-replace-in-a-list-item",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a", "image": "1"}]}},
            {"spec": {"containers": [{"$patch": "merge"}, {"name": "a", "image": "2"}]}},
            {"spec": {"containers": [{"name": "a", "image": "2"}]}},
            id="patch-merge-in-a-list-item",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}},
            {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}},
            {"spec": {"containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}},
            id="setElementOrder-alone-reorders",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}},
            {
                "spec": {
                    "$setElementOrder/containers": [{"name": "a"}, {"name": "new"}, {"name": "b"}],
                    "containers": [{"name": "new", "image": "n"}],
                }
            },
            {"spec": {"containers": [{"name": "a"}, {"name": "new", "image": "n"}, {"name": "b"}]}},
            id="setElementOrder-places-a-new-item",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "server-only"}]}},
            {
                "spec": {
                    "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                    "containers": [{"name": "a", "image": "x"}],
                }
            },
            {"spec": {"containers": [{"name": "b"}, {"name": "a", "image": "x"}, {"name": "server-only"}]}},
            id="setElementOrder-keeps-server-only-items",
        ),
        pytest.param(
            {"metadata": {"finalizers": ["a", "b"]}},
            {"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}},
            {"metadata": {"finalizers": ["c", "b", "a"]}},
            id="setElementOrder-on-a-primitive-set",
        ),
        pytest.param(
            {"metadata": {"finalizers": ["a", "b", "c"]}},
            {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}},
            {"metadata": {"finalizers": ["a", "c"]}},
            id="deleteFromPrimitiveList",
        ),
        pytest.param(
            {"metadata": {"finalizers": ["a", "b"]}},
            {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["c"]}},
            {"metadata": {"finalizers": ["c", "b"]}},
            id="deleteFromPrimitiveList-with-an-addition",
        ),
        pytest.param(
            {"metadata": {}},
            {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
            {"metadata": {}},
            id="deleteFromPrimitiveList-on-a-missing-list",
        ),
        pytest.param(
            {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
            {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
            {"spec": {"strategy": {"type": "Recreate"}}},
            id="retainKeys-drops-unlisted-keys",
        ),
        pytest.param(
            {"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}},
            {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/x"}}]}},
            {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]}},
            id="retainKeys-in-a-list-item",
        ),
        pytest.param(
            {"spec": {"selector": {"app": "web", "version": "canary"}}},
            {"spec": {"selector": {"$retainKeys": ["app"]}}},
            {"spec": {"selector": {"app": "web"}}},
            id="retainKeys-on-a-service-selector",
        ),
        pytest.param(
            {"a": 1, "b": 2},
            {"$patch": "replace", "c": 3},
            {"c": 3},
            id="patch-replace-at-the-root",
        ),
    ],
)
def test_strategic_merge_directives(original: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]) -> None:
    result = smp(original, patch)
    assert result == expected
    assert "$" not in json.dumps(result)


@pytest.mark.parametrize(
    ("patch", "code"),
    [
        ({"spec": {"$patch": "explode"}}, 400),
        ({"spec": {"containers": [{"name": "a", "$patch": "explode"}]}}, 400),
        ({"spec": {"containers": [{"$patch": "delete"}]}}, 422),
        ({"spec": {"$setElementOrder/containers": "a"}}, 400),
        ({"spec": {"$deleteFromPrimitiveList/args": "a"}}, 400),
        ({"spec": {"$retainKeys": "a"}}, 400),
        ({"spec": {"$retainKeys": ["a"], "b": 1}}, 422),
        ({"$patch": "delete"}, 422),
    ],
)
def test_malformed_directives_raise(patch: dict[str, Any], code: int) -> None:
    with pytest.raises(PatchError) as err:
        smp({"spec": {"containers": [{"name": "a"}]}}, patch)
    assert err.value.code == code


def test_nested_container_directives_in_a_deployment_template() -> None:
    original = deployment(
        {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        SIDECAR,
    )
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "app"}, {"name": "proxy"}],
                    "containers": [
                        {
                            "name": "app",
                            "$setElementOrder/env": [{"name": "B"}, {"name": "C"}],
                            "env": [{"name": "A", "$patch": "delete"}, {"name": "C", "value": "3"}],
                        }
                    ],
                }
            }
        }
    }
    result = smp(original, patch)
    assert containers_of(result) == [
        {"name": "app", "image": "a:1", "env": [{"name": "B", "value": "2"}, {"name": "C", "value": "3"}]},
        SIDECAR,
    ]
