"""The simulated cluster's object store: versioned, namespaced objects with a replayable change log.

Stored objects are never mutated in place: every write stores a new dict. Readers that take live objects
(`peek`, `items`, `list`) must treat them as read-only; `get` returns a private copy.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import bisect
import builtins
import copy
import os
import random
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from incident_response.sim import errors, managed_fields
from incident_response.sim.resources import NAMESPACES, ResourceType

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class WatchEvent:
    resource_version: int
    resource: str  # ResourceType.key
    type: str  # ADDED, MODIFIED, DELETED
    object: Obj


def name_problem(res: ResourceType, name: str) -> str | None:
    """Why `name` is not a valid name for this kind, or None."""
    if not name:
        return "name or generateName is required"
    if len(name) > 253:
        return "must be no more than 253 characters"
    if res.group == "rbac.authorization.k8s.io":  # RBAC names are path segments (system:discovery is one)
        if name in (".", ".."):
            return f"may not be '{name}'"
        return "may not contain '/' or '%'" if "/" in name or "%" in name else None
    # Namespaces and services need DNS-1123 labels; most other kinds take subdomains.
    label_only = res.kind in ("Namespace", "Service")
    pattern = _DNS1123_LABEL if label_only else _DNS1123_SUBDOMAIN
    if label_only and len(name) > 63:
        return "must be no more than 63 characters"
    if not pattern.match(name):
        what = "RFC 1123 label" if label_only else "RFC 1123 subdomain"
        return (
            f"a lowercase {what} must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def _drop_empty_maps(meta: Obj) -> None:
    """Empty labels or annotations are not kept: the API server's ObjectMeta omits them (omitempty), so a patch
    that leaves `annotations: {}` changes nothing (kubectl diff after a server-side apply sends one)."""
    for key in ("labels", "annotations"):
        if meta.get(key) == {}:
            del meta[key]


def _spec_of(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}


class Store:
    def __init__(self, clock: Callable[[], datetime] = utcnow, history: int = 200_000) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._rv = 1
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        # Each type's keys in list order, kept until one is added or removed: a paged list of 20,000 pods (40 pages)
        # sorted and skipped through every key for each page.
        self._order: dict[str, builtins.list[tuple[str, str]]] = {}
        self._log: deque[WatchEvent] = deque(maxlen=history)
        self._listeners: list[Callable[[WatchEvent], None]] = []
        # uids and generated names: random as upstream's, from one generator seeded once (uuid4() reads the OS's
        # randomness per call, a fifth of seeding 10,000 pods)
        self._random = random.Random(os.urandom(16))

    # ----- reading -----

    @property
    def resource_version(self) -> int:
        return self._rv

    def peek(self, res: ResourceType, namespace: str | None, name: str) -> Obj | None:
        return self._objects.get(res.key, {}).get((namespace or "", name))

    def get(self, res: ResourceType, namespace: str | None, name: str) -> Obj:
        with self.lock:
            obj = self.peek(res, namespace, name)
            if obj is None:
                raise errors.not_found(res.plural, res.group, name)
            return copy.deepcopy(obj)

    def items(self, res: ResourceType, namespace: str | None = None) -> Iterator[Obj]:
        """Live objects of a type (snapshot of the index, so writes during iteration are safe)."""
        for (ns, _), obj in list(self._objects.get(res.key, {}).items()):
            if namespace is None or ns == namespace:
                yield obj

    def values(self, res: ResourceType) -> list[Obj]:
        """Every live object of a type, as one list copied at C speed (controllers scan 10k pods per tick)."""
        return list(self._objects.get(res.key, {}).values())

    def list(
        self,
        res: ResourceType,
        namespace: str | None = None,
        predicates: Iterable[Predicate] = (),
        limit: int | None = None,
        continue_after: tuple[str, str] | None = None,
    ) -> tuple[list[Obj], int, tuple[str, str] | None]:
        """Matching live objects sorted by (namespace, name); returns (items, list RV, key to continue after)."""
        with self.lock:
            checks = list(predicates)
            bucket = self._objects.get(res.key, {})
            keys = self._keys(res)
            start = 0 if continue_after is None else bisect.bisect_right(keys, continue_after)
            if namespace is not None:
                start = max(start, bisect.bisect_left(keys, (namespace, "")))
            out: list[Obj] = []
            last: tuple[str, str] | None = None
            for index in range(start, len(keys)):
                key = keys[index]
                if namespace is not None and key[0] != namespace:
                    break
                obj = bucket[key]
                if all(check(obj) for check in checks):
                    if limit is not None and len(out) >= limit:
                        return out, self._rv, last
                    out.append(obj)
                    last = key
            return out, self._rv, None

    def count_after(self, res: ResourceType, namespace: str | None, key: tuple[str, str]) -> int:
        """How many objects of a type (in a namespace, or all) sort after `key`: a paged list's remainder."""
        with self.lock:
            keys = self._keys(res)
            start = bisect.bisect_right(keys, key)
            end = len(keys) if namespace is None else bisect.bisect_left(keys, (namespace, chr(0x10FFFF)))
            if namespace is not None:
                start = max(start, bisect.bisect_left(keys, (namespace, "")))
            return max(0, end - start)

    def _keys(self, res: ResourceType) -> builtins.list[tuple[str, str]]:
        """The type's keys sorted by (namespace, name) (the caller holds the lock)."""
        keys = self._order.get(res.key)
        if keys is None:
            keys = self._order[res.key] = sorted(self._objects.get(res.key, {}))
        return keys

    def events_since(self, resource_version: int) -> builtins.list[WatchEvent]:
        """Changes after `resource_version`; 410 Gone when the log no longer reaches back that far."""
        with self.lock:
            if len(self._log) == self._log.maxlen and resource_version < self._log[0].resource_version - 1:
                raise errors.gone(f"too old resource version: {resource_version} ({self._log[0].resource_version})")
            return [e for e in self._log if e.resource_version > resource_version]

    def add_listener(self, listener: Callable[[WatchEvent], None]) -> None:
        with self.lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[WatchEvent], None]) -> None:
        with self.lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # ----- writing -----

    def create(
        self,
        res: ResourceType,
        obj: Obj,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        owned: bool = False,
        created: datetime | None = None,
    ) -> Obj:
        """`owned`: the caller hands `obj` over and never touches it again (bulk seeding), so no defensive copy.
        `created`: the creationTimestamp to give it instead of now (controllers dating a revision in the past)."""
        with self.lock:
            obj = obj if owned else copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if not isinstance(meta, dict):
                raise errors.bad_request("metadata must be an object")
            name = meta.get("name") or ""
            if not name and meta.get("generateName"):
                name = self._generate_name(res, meta.get("namespace"), str(meta["generateName"]))
                meta["name"] = name
            problem = name_problem(res, str(name))
            if problem:
                raise errors.invalid(
                    res.kind, res.group, str(name), [("metadata.name", f"Invalid value: {name!r}: {problem}")]
                )
            namespace = self._namespace_for(res, meta)
            bucket = self._objects.setdefault(res.key, {})
            if (namespace, name) in bucket:
                raise errors.already_exists(res.plural, res.group, name)
            now = self.clock()
            obj["apiVersion"] = res.api_version
            obj["kind"] = res.kind
            meta["uid"] = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
            meta["creationTimestamp"] = timestamp(created or now)
            meta.pop("deletionTimestamp", None)
            if res.has_generation:
                meta["generation"] = 1
            _drop_empty_maps(meta)
            if field_manager:
                managed_fields.record_update(None, obj, field_manager, res, timestamp(now))
            if dry_run:
                meta["resourceVersion"] = str(self._rv)
                return obj
            self._commit(res, namespace, name, obj, "ADDED")
            return obj

    def replace(
        self,
        res: ResourceType,
        obj: Obj,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        subresource: str | None = None,
    ) -> Obj:
        """PUT semantics: a given resourceVersion must match; status is only written through `status`."""
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            name = str(meta.get("name") or "")
            namespace = self._namespace_for(res, meta)
            current = self._objects.get(res.key, {}).get((namespace, name))
            if current is None:
                raise errors.not_found(res.plural, res.group, name)
            given_rv = meta.get("resourceVersion")
            if given_rv and str(given_rv) != current["metadata"]["resourceVersion"]:
                raise errors.conflict(res.plural, res.group, name)
            cur_meta = current["metadata"]
            if subresource == "status":
                merged = copy.deepcopy(current)
                merged["status"] = obj.get("status", {})
                obj = merged
            else:
                # status is written through /status only; a custom resource without that subresource takes it here
                if res.custom and "status" not in res.subresources:
                    pass
                elif "status" in current:
                    obj["status"] = copy.deepcopy(current["status"])
                else:
                    obj.pop("status", None)
                # Immutable metadata is carried over from the stored object.
                for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
                    if key in cur_meta:
                        meta[key] = cur_meta[key]
                    else:
                        meta.pop(key, None)
                if "generation" in cur_meta:
                    changed = _spec_of(obj) != _spec_of(current)
                    meta["generation"] = int(cur_meta["generation"]) + (1 if changed else 0)
                meta.setdefault("managedFields", copy.deepcopy(cur_meta.get("managedFields", [])))
            obj["apiVersion"] = res.api_version
            obj["kind"] = res.kind
            obj["metadata"]["namespace" if res.namespaced else "_"] = namespace
            obj["metadata"].pop("_", None)
            _drop_empty_maps(obj["metadata"])
            if field_manager:
                managed_fields.record_update(current, obj, field_manager, res, timestamp(self.clock()), subresource)
            if obj == current:
                return copy.deepcopy(current)
            if dry_run:
                return obj
            self._commit(res, namespace, name, obj, "MODIFIED")
            return obj

    def mutate(self, res: ResourceType, namespace: str | None, name: str, change: Callable[[Obj], None]) -> Obj:
        """Controller write: apply `change` to a copy and store it (status included). No RV check."""
        with self.lock:
            current = self.peek(res, namespace, name)
            if current is None:
                raise errors.not_found(res.plural, res.group, name)
            obj = copy.deepcopy(current)
            change(obj)
            if obj == current:
                return current
            meta = obj["metadata"]
            if "generation" in meta and _spec_of(obj) != _spec_of(current):
                meta["generation"] = int(current["metadata"]["generation"]) + 1
            self._commit(res, namespace or "", name, obj, "MODIFIED")
            return obj

    def delete(
        self,
        res: ResourceType,
        namespace: str | None,
        name: str,
        *,
        dry_run: bool = False,
        graceful: bool = False,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> Obj:
        """Delete an object. `graceful` only marks it (deletionTimestamp); whoever owns it calls `remove` later."""
        with self.lock:
            current = self.peek(res, namespace, name)
            if current is None:
                raise errors.not_found(res.plural, res.group, name)
            if uid and current["metadata"].get("uid") != uid:
                raise errors.conflict(res.plural, res.group, name)
            if resource_version and current["metadata"].get("resourceVersion") != resource_version:
                raise errors.conflict(res.plural, res.group, name)
            if dry_run:
                return copy.deepcopy(current)
            if graceful:
                if "deletionTimestamp" in current["metadata"]:
                    return current

                def mark(obj: Obj) -> None:
                    obj["metadata"]["deletionTimestamp"] = timestamp(self.clock())
                    obj["metadata"]["deletionGracePeriodSeconds"] = 30

                return self.mutate(res, namespace, name, mark)
            return self.remove(res, namespace, name)

    def remove(self, res: ResourceType, namespace: str | None, name: str) -> Obj:
        with self.lock:
            bucket = self._objects.get(res.key, {})
            current = bucket.pop((namespace or "", name), None)
            if current is None:
                raise errors.not_found(res.plural, res.group, name)
            self._order.pop(res.key, None)
            self._rv += 1
            gone = copy.deepcopy(current)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._emit(WatchEvent(self._rv, res.key, "DELETED", gone))
            if res is NAMESPACES:
                for key, objects in self._objects.items():
                    for ns_name in [k for k in objects if k[0] == name]:
                        self._order.pop(key, None)
                        removed = objects.pop(ns_name)
                        self._rv += 1
                        self._emit(WatchEvent(self._rv, key, "DELETED", removed))
            return gone

    # ----- internals -----

    def _namespace_for(self, res: ResourceType, meta: Obj) -> str:
        if not res.namespaced:
            meta.pop("namespace", None)
            return ""
        namespace = str(meta.get("namespace") or "")
        if not namespace:
            raise errors.bad_request("the namespace of the object must be set")
        if (res is not NAMESPACES) and ("", namespace) not in self._objects.get(NAMESPACES.key, {}):
            raise errors.not_found("namespaces", "", namespace)
        return namespace

    def _generate_name(self, res: ResourceType, namespace: Any, prefix: str) -> str:
        alphabet = "bcdfghjklmnpqrstvwxz2456789"
        bucket = self._objects.get(res.key, {})
        while True:
            n = self._random.getrandbits(25)
            suffix = "".join([alphabet[(n >> (5 * i)) % 27] for i in range(5)])
            if (str(namespace or ""), prefix + suffix) not in bucket:
                return prefix + suffix

    def _commit(self, res: ResourceType, namespace: str, name: str, obj: Obj, kind: str) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        bucket = self._objects.setdefault(res.key, {})
        if (namespace, name) not in bucket:
            self._order.pop(res.key, None)
        bucket[(namespace, name)] = obj
        self._emit(WatchEvent(self._rv, res.key, kind, obj))

    def _emit(self, event: WatchEvent) -> None:
        self._log.append(event)
        for listener in list(self._listeners):
            listener(event)
