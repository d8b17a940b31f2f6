"""The watch stream: a list's objects as ADDED events (or the history since a resourceVersion), then live events.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from incident_response.sim import errors
from incident_response.sim.errors import ApiError
from incident_response.sim.requests import Target, predicates, table, wants_table
from incident_response.sim.store import Obj, Store, WatchEvent

log = logging.getLogger(__name__)


def _watch_object(
    request: web.Request, target: Target, event: WatchEvent, first: bool, clock: Callable[[], datetime]
) -> Obj:
    """The event's object; a one-row Table when the client asked for Tables (kubectl get -w).

    As the real server does, only the first Table of a watch carries column definitions.
    """
    if not wants_table(request):
        return target.to_served(event.object)
    rv = event.object["metadata"].get("resourceVersion", "")
    shown = table(request, target.res, [event.object], {"resourceVersion": rv}, clock())
    if not first:
        shown["columnDefinitions"] = []
    return shown


async def watch(request: web.Request, target: Target, store: Store, stopping: asyncio.Event) -> web.StreamResponse:
    """Stream the target's events as JSON lines until timeoutSeconds, the client leaves, or the server stops."""
    res = target.res
    checks = predicates(request)
    timeout_text = request.query.get("timeoutSeconds")
    try:
        timeout = float(timeout_text) if timeout_text else 1800.0
    except ValueError as e:
        raise errors.bad_request(f"invalid timeoutSeconds: {timeout_text!r}") from e
    rv_text = request.query.get("resourceVersion") or "0"
    try:
        since = int(rv_text)
    except ValueError as e:
        raise errors.bad_request(f"invalid resourceVersion: {rv_text!r}") from e

    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def listener(_: WatchEvent) -> None:
        loop.call_soon_threadsafe(wake.set)

    def wanted(obj: Obj) -> bool:
        if target.namespace is not None and obj["metadata"].get("namespace") != target.namespace:
            return False
        if target.name is not None and obj["metadata"].get("name") != target.name:
            return False
        return all(check(obj) for check in checks)

    with store.lock:
        if since == 0:
            initial, since, _ = store.list(res, target.namespace, checks)
            backlog = [WatchEvent(since, res.key, "ADDED", obj) for obj in initial]
        else:
            backlog = [e for e in store.events_since(since) if e.resource == res.key]
        store.add_listener(listener)

    response = web.StreamResponse(headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    await response.prepare(request)
    deadline = loop.time() + timeout
    sent = 0
    try:
        pending = backlog
        while True:
            for event in pending:
                since = max(since, event.resource_version)
                if event.resource == res.key and wanted(event.object):
                    shown = _watch_object(request, target, event, sent == 0, store.clock)
                    line = json.dumps({"type": event.type, "object": shown}, separators=(",", ":"))
                    sent += 1
                    await response.write(line.encode() + b"\n")
            remaining = deadline - loop.time()
            if remaining <= 0 or stopping.is_set():
                break
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), timeout=min(remaining, 1.0))
            except TimeoutError:
                pass
            try:
                pending = store.events_since(since)
            except ApiError:
                break
    except (ConnectionResetError, asyncio.CancelledError):
        log.debug("watch client went away")
    finally:
        store.remove_listener(listener)
    return response
