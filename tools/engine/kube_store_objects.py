"""The team-mode store's access to its objects on the Kubernetes API (tools/engine/kube_store.py builds on it): reads
through the tool call's memo, creates, deletes and merges at the version read (optimistic concurrency), journal
entries, the seal key kept in a Secret, and who the credentials are.

Layer: tools.engine.
"""

from __future__ import annotations

import base64
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine import call_reads
from incident_response.tools.engine import kube_objects as objects
from incident_response.tools.engine.kube_objects import ENTRIES
from incident_response.tools.engine.pod_identity import own_pod
from incident_response.tools.kube.client import Kube

logger = logging.getLogger(__name__)

# Reads of the seal-key Secret when other replicas keep winning the write that fills it (one win ends the race).
SEAL_KEY_ATTEMPTS = 5


class KubeObjects:
    """The objects of the store in `namespace`: what KubeIncidents and KubeStore read and write through."""

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        *,
        approver: bool = False,
        context: str | None = None,
        retention: float | None = None,
        scope: Callable[[], str] | None = None,
        pod: tuple[str, str] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`scope`: the incident scope of the server this store serves (tools.engine.incident_scope), asked when an
        incident is read or opened; without it (the approve CLI, retention) the store reads every scope's. `clock`:
        the server's time in epoch seconds, which dates what it writes (default the wall clock's; entry names keep
        the wall clock's order)."""
        self.kube = kube
        self.clock = clock or time.time
        self.scope = scope
        self.retention = retention
        # (name, namespace) of this replica's pod; claims record it so other replicas can tell when it is gone.
        self.pod = pod if pod is not None else own_pod()
        self._next_compaction = 0.0
        self.namespace = namespace
        self.approver = approver
        self.context = context
        self._key: bytes | None = None
        self._count = itertools.count()
        self._lock = threading.Lock()

    def approve_flags(self) -> str:
        context = f" --context {self.context}" if self.context else ""
        return f"--store kubernetes --store-namespace {self.namespace}{context}"

    def seal_key(self) -> bytes:
        """Kept in the Secret deploy/ ships empty beside the journal; the first replica to read it empty fills it in.
        The server may not create Secrets (on a real cluster that would let it mint any local account's token), so a
        missing Secret is refused, not made."""
        if self._key is None:
            self._key = self._read_or_fill_key()
        return self._key

    def _read_or_fill_key(self) -> bytes:
        where = f"secret {objects.SEAL_SECRET} in namespace {self.namespace}"
        for _ in range(SEAL_KEY_ATTEMPTS):
            try:
                found = self.kube.get("secrets", objects.SEAL_SECRET, self.namespace)
            except errors.NotFound as e:
                raise errors.NotFound(
                    f"{where} does not exist: the server keeps its plan-sealing key there and may not create Secrets. "
                    "Apply deploy/ (`kubectl apply -k deploy/` ships it empty), or create it empty: `kubectl create "
                    f"secret generic {objects.SEAL_SECRET} -n {self.namespace}`; the server fills in the key",
                    code=404,
                    reason=e.reason,
                    verb="get",
                    resource="secrets",
                    name=objects.SEAL_SECRET,
                ) from e
            encoded = (found.get("data") or {}).get("key")
            if encoded:
                return _key_of(str(encoded), where, self.namespace)
            fresh = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
            # At the version read: of replicas filling it at once one write succeeds, the others read its key.
            change = {"metadata": {"resourceVersion": objects.resource_version(found)}, "data": {"key": fresh}}
            try:
                filled = self.kube.patch("secrets", objects.SEAL_SECRET, change, self.namespace, patch_type="merge")
            except errors.Conflict:
                continue
            return _key_of(str((filled.get("data") or {}).get("key") or ""), where, self.namespace)
        raise errors.Conflict(
            f"{where} kept changing while the server read it ({SEAL_KEY_ATTEMPTS} tries); try again",
            code=409,
            reason="Conflict",
            verb="patch",
            resource="secrets",
            name=objects.SEAL_SECRET,
        )

    def authenticated_user(self) -> str:
        """Who the API server says these credentials are (SelfSubjectReview): the approver the journal records."""
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            review = self.kube.create("selfsubjectreviews", body)
        except errors.NotFound as e:
            raise errors.InvalidArgument(
                "the API server does not answer SelfSubjectReview (authentication.k8s.io/v1, Kubernetes 1.28 and "
                "later), so it cannot say who you are. Approve on a cluster that does"
            ) from e
        user = ((review.get("status") or {}).get("userInfo") or {}).get("username")
        if not user:
            raise errors.InvalidArgument("the API server's SelfSubjectReview named no user")
        return str(user)

    # --- reading and writing objects -----------------------------------------------------------------------------

    # Reads go through the tool call's memo (call_reads): one request per object or list per call.
    def get_object(self, resource: str, name: str) -> dict[str, Any] | None:
        return call_reads.remembered((id(self), resource, name), lambda: self._get_object(resource, name))

    def _get_object(self, resource: str, name: str) -> dict[str, Any] | None:
        try:
            return self.kube.get(resource, name, self.namespace)
        except errors.NotFound:
            return None

    def list_objects(self, resource: str, **labels: str | None) -> list[dict[str, Any]]:
        wanted = {f"{objects.GROUP}/{k}": objects.label_value(v) for k, v in labels.items() if v is not None}
        narrowed = self._narrowed(resource, wanted)
        if narrowed is not None:
            return narrowed
        selector = objects.selector(**labels)
        return list(call_reads.remembered(self._listed(resource, wanted), lambda: self._list(resource, selector)))

    def _listed(self, resource: str, labels: Mapping[str, str]) -> call_reads.Key:
        return (id(self), resource, "?", *sorted(labels.items()))

    def _narrowed(self, resource: str, wanted: Mapping[str, str]) -> list[dict[str, Any]] | None:
        """The list as a list with fewer of these labels that this call read already has it, filtered here as the API
        filters (label equality): no request. None when the call has no such list."""
        for size in range(len(wanted)):
            for keys in itertools.combinations(sorted(wanted), size):
                listed = call_reads.known(self._listed(resource, {k: wanted[k] for k in keys}))
                if listed is not None:
                    return [o for o in listed if wanted.items() <= _labels(o).items()]
        return None

    def _list(self, resource: str, selector: str | None) -> list[dict[str, Any]]:
        try:
            return self.kube.list(resource, self.namespace, label_selector=selector).items
        except errors.NotFound as e:
            # A list finds no namespace to miss: the resource type itself is not served.
            raise errors.NotFound(
                f"the cluster does not serve {resource}: the store's CustomResourceDefinitions are not installed. "
                "Install them with `kubectl apply -f deploy/crds/` (or the whole `kubectl apply -k deploy/`)",
                code=404,
                reason=e.reason,
                verb="list",
                resource=resource,
            ) from e

    def delete_object(self, resource: str, name: str, *, resource_version: str | None = None) -> bool:
        """Delete an object (with `resource_version`: only if unchanged since read at it); False when it changed."""
        try:
            self.kube.delete(resource, name, self.namespace, resource_version=resource_version)
        except errors.NotFound:
            pass  # another replica's compaction was first
        except errors.Conflict:
            return False
        finally:
            call_reads.forget()
        return True

    def _create(self, resource: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The created object, or None when one of that name exists already."""
        try:
            return self.kube.create(resource, body, self.namespace)
        except errors.Conflict:
            return None
        finally:
            call_reads.forget()

    def swap(self, resource: str, obj: dict[str, Any], change: dict[str, Any], *, status: bool = False) -> bool:
        """Merge `change` into `obj` if it is still at the version it was read at; False when another writer won."""
        patch = {**change, "metadata": {"resourceVersion": objects.resource_version(obj)}}
        try:
            self.kube.patch(
                resource,
                objects.name_of(obj),
                patch,
                self.namespace,
                patch_type="merge",
                subresource="status" if status else None,
            )
        except (errors.Conflict, errors.NotFound):
            return False
        finally:
            call_reads.forget()
        return True

    def _sequence(self) -> int:
        with self._lock:
            return objects.sequence_at(time.time(), next(self._count))

    def _entry(self, prefix: str, body: dict[str, Any], **labels: str | None) -> None:
        number = self._sequence()
        name = f"{prefix}-{number}-{secrets.token_hex(3)}"
        try:
            self.kube.create(ENTRIES, objects.new_object("JournalEntry", name, body, **labels), self.namespace)
        finally:
            call_reads.forget((id(self), ENTRIES))  # a tool call or an event: no incident, command or approval changed


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    labels = (obj.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _key_of(encoded: str, where: str, namespace: str) -> bytes:
    """The 32-byte key a Secret's data.key holds, or a refusal saying how to start over."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise errors.InvalidArgument(
            f"{where} holds no 32-byte key in data.key; remove it so the server makes a new one (plans sealed with "
            f"the old key then need planning again): `kubectl patch secret {objects.SEAL_SECRET} -n {namespace} "
            """--type json -p '[{"op": "remove", "path": "/data/key"}]'`"""
        )
    return key
