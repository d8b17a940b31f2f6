"""The views over API object dicts read what the API left out as empty, and never copy what they show."""

from __future__ import annotations

from incident_response.tools.k8s.views import meta


def test_a_missing_or_null_metadata_reads_as_empty() -> None:
    for obj in ({}, {"metadata": None}, {"metadata": {"labels": None, "annotations": None, "ownerReferences": None}}):
        view = meta(obj)
        assert (view.name, view.namespace, view.uid, view.creation_timestamp) == (None, None, None, None)
        assert (view.labels, view.annotations, view.owner_references) == ({}, {}, [])


def test_fields_are_the_objects_own_values() -> None:
    pod = {
        "metadata": {
            "name": "web-1",
            "namespace": "shop",
            "uid": "u1",
            "labels": {"app": "web"},
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "ownerReferences": [{"kind": "ReplicaSet"}],
        }
    }
    view = meta(pod)
    assert (view.name, view.namespace, view.uid) == ("web-1", "shop", "u1")
    assert view.creation_timestamp == "2026-01-01T00:00:00Z"
    assert view.owner_references == [{"kind": "ReplicaSet"}]
    view.labels.pop("app")  # the object's own dict, as `(pod.get("metadata") or {}).get("labels")` was
    assert pod["metadata"]["labels"] == {}
