"""A dict-backed stand-in for the Kube seam, for unit tests of planners and the engine (the sim covers the wire).

Objects live where the real API keeps them (`tools.kube.resources` says which resources are namespaced); label selectors
and patches follow the simulated API server's own rules (`sim.selectors`, `sim.patching`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from incident_response.sim import patching
from incident_response.sim.selectors import parse_label_selector
from incident_response.tools.core import errors
from incident_response.tools.core.modes import Mode
from incident_response.tools.engine.binding import Binding, ClusterIdentity
from incident_response.tools.kube.client import ListResult
from incident_response.tools.kube.resources import resource_info

Write = tuple[str, str, str, Any]  # (verb, resource, name, body)
SERVER = "https://fake.invalid"


def seat(mode: Mode = "standard", namespaces: tuple[str, ...] = ()) -> Binding:
    """A server on a FakeKube, as the pending engine's propose and confirm take it."""
    return Binding(
        cluster=ClusterIdentity(server=SERVER, context=FakeKube.context), mode=mode, namespaces=list(namespaces)
    )


class FakeKube:
    context: str | None = "test"

    def __init__(self, *objects: tuple[str, dict[str, Any]]) -> None:
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.writes: list[Write] = []
        self.dry_runs: list[Write] = []
        self.fail_writes: errors.IncidentError | None = None
        self.fail_reads: errors.IncidentError | None = None
        self.before_write: Callable[[], None] | None = None
        self._rv = 0
        for resource, obj in objects:
            self.put(resource, obj)

    def put(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store `obj` as the server would: a new resourceVersion, a uid and generation if it has none."""
        self._rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self._rv)
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("generation", 1)
        namespace = meta.get("namespace") if resource_info(resource).namespaced else None
        self.objects[(resource, namespace, meta["name"])] = obj
        return obj

    def _before_write(self, dry_run: bool) -> None:
        """Fail or race as the test asked, before a write that is not a dry run."""
        if dry_run:
            return
        if self.fail_writes:
            raise self.fail_writes
        if self.before_write:
            self.before_write()

    def _record(self, verb: str, resource: str, name: str, body: Any, *, dry_run: bool) -> None:
        (self.dry_runs if dry_run else self.writes).append((verb, resource, name, body))

    # -- reads ---------------------------------------------------------------------------------------------------

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if self.fail_reads:
            raise self.fail_reads
        try:
            return copy.deepcopy(self.objects[(resource, namespace, name)])
        except KeyError:
            raise errors.NotFound(f"{resource} {name!r} not found", code=404, reason="NotFound") from None

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
    ) -> ListResult:
        if self.fail_reads:
            raise self.fail_reads
        selector = parse_label_selector(label_selector or "")
        fields = dict(p.split("=", 1) for p in (field_selector or "").split(",") if p)
        items = []
        for (r, ns, _), obj in sorted(self.objects.items(), key=lambda kv: str(kv[0])):
            if r != resource or (namespace is not None and ns != namespace):
                continue
            if not selector.matches(obj["metadata"].get("labels") or {}):
                continue
            if "spec.nodeName" in fields and (obj.get("spec") or {}).get("nodeName") != fields["spec.nodeName"]:
                continue
            items.append(copy.deepcopy(obj))
        return ListResult(items=items)

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

    def endpoint(self) -> tuple[str, str | None]:
        return SERVER, None

    # -- writes --------------------------------------------------------------------------------------------------

    @staticmethod
    def _patched(current: dict[str, Any], body: Any, patch_type: str) -> dict[str, Any]:
        try:
            if patch_type == "json":
                return patching.json_patch(current, body)
            if patch_type == "merge":
                return patching.merge_patch(current, body)
            return patching.strategic_merge_patch(current, body)
        except patching.PatchError as e:
            raise errors.Invalid(str(e), code=422, reason="Invalid") from e

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
        self._before_write(dry_run)
        current = self.get(resource, name, namespace)
        if subresource == "scale":
            scale = {
                "kind": "Scale",
                "metadata": current["metadata"],
                "spec": {"replicas": current["spec"]["replicas"]},
            }
            scale = self._patched(scale, body, patch_type)
            new = copy.deepcopy(current)
            new["spec"]["replicas"] = scale["spec"]["replicas"]
            self._record("patch", resource, name, body, dry_run=dry_run)
            if not dry_run:
                self.put(resource, new)
            return {**scale, "spec": {"replicas": new["spec"]["replicas"]}}
        new = self._patched(current, body, patch_type)
        if new.get("spec") != current.get("spec"):
            new["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        self._record("patch", resource, name, body, dry_run=dry_run)
        if dry_run:
            return new
        return copy.deepcopy(self.put(resource, new))

    def create(
        self, resource: str, body: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        name = body["metadata"]["name"]
        self._before_write(dry_run)
        if (resource, namespace, name) in self.objects:
            raise errors.Conflict(f"{resource} {name!r} already exists", code=409, reason="AlreadyExists")
        obj = copy.deepcopy(body)
        obj["metadata"].setdefault("namespace", namespace)
        self._record("create", resource, name, body, dry_run=dry_run)
        if dry_run:
            return obj
        return copy.deepcopy(self.put(resource, obj))

    def delete(
        self,
        resource: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        uid: str | None = None,
        resource_version: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> dict[str, Any]:
        self._before_write(dry_run)
        current = self.get(resource, name, namespace)
        if uid is not None and current["metadata"]["uid"] != uid:
            raise errors.Conflict("uid precondition failed", code=409, reason="Conflict")
        self._record("delete", resource, name, None, dry_run=dry_run)
        if not dry_run:
            del self.objects[(resource, namespace, name)]
        return current

    def evict(self, name: str, namespace: str, *, dry_run: bool = False, uid: str | None = None) -> None:
        self._before_write(dry_run)
        pod = self.get("pods", name, namespace)
        if uid and pod["metadata"].get("uid") != uid:
            raise errors.Conflict("uid precondition failed", code=409, reason="Conflict")
        self._record("evict", "pods", name, None, dry_run=dry_run)
        if not dry_run:
            del self.objects[("pods", namespace, name)]
