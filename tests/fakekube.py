"""A dict-backed stand-in for the Kube seam, for unit tests of the engine (the sim covers the real wire)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import jsonpatch

from incident_response.tools import errors
from incident_response.tools.kube import ListResult


class FakeKube:
    context: str | None = "test"

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str, Any]] = []
        self.fail_writes: errors.IncidentError | None = None
        self.fail_reads: errors.IncidentError | None = None
        self.before_write: Callable[[], None] | None = None
        self._rv = 0

    def put(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self._rv)
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("generation", 1)
        self.objects[(resource, meta.get("namespace"), meta["name"])] = obj
        return obj

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if self.fail_reads:
            raise self.fail_reads
        try:
            return copy.deepcopy(self.objects[(resource, namespace, name)])
        except KeyError:
            raise errors.NotFound(f"{resource} {name} not found", code=404, reason="NotFound") from None

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
    ) -> ListResult:
        wanted = dict(p.split("=", 1) for p in (label_selector or "").split(",") if p)
        items = [
            copy.deepcopy(o)
            for (r, ns, _), o in self.objects.items()
            if r == resource
            and ns == namespace
            and all((o["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]
        return ListResult(items=items)

    def patch(
        self,
        resource: str,
        name: str,
        body: Any,
        namespace: str | None = None,
        *,
        patch_type: str,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        if self.fail_writes and not dry_run:
            raise self.fail_writes
        if self.before_write and not dry_run:
            self.before_write()
        current = self.get(resource, name, namespace)
        if patch_type == "json":
            try:
                new = jsonpatch.apply_patch(current, body)
            except jsonpatch.JsonPatchTestFailed as e:
                raise errors.Invalid(str(e), code=422, reason="Invalid") from e
        else:
            new = {**current, **body}
        if new.get("spec") != current.get("spec"):
            new["metadata"]["generation"] = current["metadata"]["generation"] + 1
        if dry_run:
            result: dict[str, Any] = new
            return result
        self.writes.append(("patch", name, body))
        return copy.deepcopy(self.put(resource, new))

    def create(
        self, resource: str, body: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        if self.fail_writes and not dry_run:
            raise self.fail_writes
        if not dry_run:
            self.writes.append(("create", body["metadata"]["name"], body))
            self.put(resource, copy.deepcopy(body))
        return body

    def delete(
        self,
        resource: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        if not dry_run:
            self.writes.append(("delete", name, None))
            self.objects.pop((resource, namespace, name))
        return {}

    def evict(self, name: str, namespace: str, *, dry_run: bool = False) -> None:
        self.delete("pods", name, namespace, dry_run=dry_run)

    def table(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def logs(
        self,
        name: str,
        namespace: str,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        previous: bool = False,
        timestamps: bool = False,
        limit_bytes: int | None = None,
    ) -> str:
        raise NotImplementedError

    def version(self) -> dict[str, Any]:
        return {"gitVersion": "v1.32.4"}

    def access_review(
        self, verb: str, resource: str, group: str, namespace: str | None, subresource: str | None = None
    ) -> bool:
        return True

    def rules_review(self, namespace: str) -> dict[str, Any]:
        return {}

    def whoami(self) -> str | None:
        return "tester"
