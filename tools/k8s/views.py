"""Small read-only views over API object dicts, in the manner of kopf's bodies: `meta(pod).labels` for
`(pod.get("metadata") or {}).get("labels") or {}`.

A view reads the dict it wraps (no copy: `meta(obj).labels` is the object's own labels dict), and a missing or null
section reads as empty. Fields the API may leave out stay optional (`meta(obj).name` is None when there is none).

Layer: tools.k8s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Meta:
    """An object's `metadata`."""

    __slots__ = ("raw",)

    def __init__(self, obj: Mapping[str, Any]) -> None:
        section = obj.get("metadata")
        self.raw: dict[str, Any] = section if isinstance(section, dict) else {}

    @property
    def name(self) -> str | None:
        return self.raw.get("name")

    @property
    def namespace(self) -> str | None:
        return self.raw.get("namespace")

    @property
    def uid(self) -> str | None:
        return self.raw.get("uid")

    @property
    def labels(self) -> dict[str, Any]:
        return self.raw.get("labels") or {}

    @property
    def annotations(self) -> dict[str, Any]:
        return self.raw.get("annotations") or {}

    @property
    def owner_references(self) -> list[dict[str, Any]]:
        return self.raw.get("ownerReferences") or []

    @property
    def creation_timestamp(self) -> str | None:
        return self.raw.get("creationTimestamp")

    @property
    def deletion_timestamp(self) -> str | None:
        return self.raw.get("deletionTimestamp")


def meta(obj: Mapping[str, Any]) -> Meta:
    return Meta(obj)
