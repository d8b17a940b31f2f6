"""core/v1 Events as the real event recorder writes them: deduplicated (count++) and pruned.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from incident_response.sim import errors
from incident_response.sim.controllers.common import Obj, meta, uid_of
from incident_response.sim.resources import EVENTS
from incident_response.sim.store import Store, timestamp

Key = tuple[str, str, str, str, str, str]


class EventRecorder:
    def __init__(self, store: Store, *, max_events: int = 5000, ttl_seconds: float = 3600.0) -> None:
        self.store = store
        self.max_events = max_events
        self.ttl_seconds = ttl_seconds
        # dedupe key -> (namespace, event name); insertion order is recency order for pruning.
        self._known: OrderedDict[Key, tuple[str, str]] = OrderedDict()
        self._counter = 0

    def record(
        self,
        obj: Obj,
        type_: str,
        reason: str,
        message: str,
        *,
        component: str,
        host: str | None = None,
        field_path: str | None = None,
        when: datetime | None = None,
        first: datetime | None = None,
        count: int = 1,
    ) -> None:
        """Record (or count again) an event at `when` (default now); a series seen `count` times since `first`
        can be recorded at once (a pod that has been crash-looping since before the simulator started)."""
        m = meta(obj)
        namespace = str(m.get("namespace") or "default")
        key: Key = (uid_of(obj), field_path or "", type_, reason, message, component)
        moment = timestamp(when or self.store.clock())
        known = self._known.get(key)
        if known is not None and self.store.peek(EVENTS, *known) is not None:

            def bump(event: Obj) -> None:
                event["count"] = int(event.get("count") or 1) + count
                event["lastTimestamp"] = moment

            self.store.mutate(EVENTS, known[0], known[1], bump)
            self._known.move_to_end(key)
            return
        self._counter += 1
        name = f"{m.get('name', '')}.{time.time_ns() + self._counter:x}"
        involved: Obj = {
            "kind": obj.get("kind", ""),
            "namespace": namespace if m.get("namespace") else None,
            "name": m.get("name", ""),
            "uid": uid_of(obj),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": m.get("resourceVersion", ""),
        }
        if involved["namespace"] is None:
            del involved["namespace"]
        if field_path:
            involved["fieldPath"] = field_path
        source: Obj = {"component": component}
        if host:
            source["host"] = host
        event: Obj = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": timestamp(first) if first is not None else moment,
            "lastTimestamp": moment,
            "count": count,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        try:
            self.store.create(EVENTS, event)
        except errors.ApiError:
            return
        self._known[key] = (namespace, name)
        self._prune()

    def _prune(self) -> None:
        while len(self._known) > self.max_events:
            _, (namespace, name) = self._known.popitem(last=False)
            if self.store.peek(EVENTS, namespace, name) is not None:
                self.store.remove(EVENTS, namespace, name)

    def expire(self, now: Callable[[], datetime]) -> None:
        """Drop events whose last occurrence is older than the TTL (the API server's events TTL is 1h)."""
        cutoff = timestamp(datetime.fromtimestamp(now().timestamp() - self.ttl_seconds, tz=now().tzinfo))
        stale = [
            (key, where)
            for key, where in self._known.items()
            if (ev := self.store.peek(EVENTS, *where)) is None or str(ev.get("lastTimestamp", "")) < cutoff
        ]
        for key, (namespace, name) in stale:
            del self._known[key]
            if self.store.peek(EVENTS, namespace, name) is not None:
                self.store.remove(EVENTS, namespace, name)
