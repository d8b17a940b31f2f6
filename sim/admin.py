"""The simulator's admin endpoints: /sim/faults (inject latency, error statuses and dropped connections),
/sim/clock (let cluster time pass at once) and /sim/tokens (mint a person's bearer token); /sim/images is
image_admin.py's. Only system:masters reaches them.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from incident_response.sim import errors
from incident_response.sim.faults import Fault, Faults
from incident_response.sim.identity import Authenticator
from incident_response.sim.requests import json_response, read_body
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

MAX_ADVANCE = 86400  # one request moves the clock at most a day (each second of it is ticked through)

_FAULT_TYPES: dict[str, tuple[type, ...]] = {
    "verb": (str,),
    "resource": (str,),
    "group": (str,),
    "subresource": (str,),
    "namespace": (str,),
    "name": (str,),
    "status": (int,),
    "message": (str,),
    "seconds": (int, float),
    "times": (int,),
}


def fault_problem(spec: dict[str, Any]) -> str | None:
    """What is wrong with a fault rule's fields, if anything."""
    if spec.get("action") not in ("latency", "status", "drop_before", "drop_after"):
        return 'a fault needs an "action": latency, status, drop_before or drop_after'
    for key, types in _FAULT_TYPES.items():
        value = spec.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            return f"fault field {key!r} has the wrong type: {value!r}"
    status = spec.get("status", 500)
    if not 100 <= status <= 599:
        return f"fault status must be an HTTP status code, not {status}"
    if spec.get("seconds", 0) < 0:
        return "fault seconds must be >= 0"
    return None


async def faults_endpoint(request: web.Request, faults: Faults) -> web.Response:
    """/sim/faults: GET lists the fault rules, POST adds one (validated), DELETE clears them."""
    if request.method == "GET":
        return json_response({"faults": faults.rules()})
    if request.method == "DELETE":
        faults.clear()
        return json_response({"faults": []})
    if request.method == "POST":
        spec = await read_body(request)
        if not isinstance(spec, dict) or "action" not in spec:
            raise errors.bad_request('a fault needs an "action": latency, status, drop_before or drop_after')
        allowed = set(Fault.__dataclass_fields__) - {"id"}
        unknown = set(spec) - allowed
        if unknown:
            raise errors.bad_request(f"unknown fault fields: {sorted(unknown)}")
        problem = fault_problem(spec)
        if problem:
            raise errors.bad_request(problem)
        fault = faults.add(**spec)
        return json_response({"id": fault.id}, 201)
    raise errors.method_not_allowed("use GET, POST or DELETE on /sim/faults")


async def clock_endpoint(request: web.Request, cluster: Cluster) -> web.Response:
    """/sim/clock: GET the cluster's time; POST {"advanceSeconds": N} lets N seconds of it pass at once."""
    if request.method == "POST":
        spec = await read_body(request)
        seconds = spec.get("advanceSeconds") if isinstance(spec, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= MAX_ADVANCE:
            raise errors.bad_request(
                f'send {{"advanceSeconds": N}} with N a number of seconds above 0 and at most {MAX_ADVANCE}'
            )
        if set(spec) != {"advanceSeconds"}:
            raise errors.bad_request(f"unknown clock fields: {sorted(set(spec) - {'advanceSeconds'})}")
        if not cluster.can_advance:
            raise errors.bad_request(cluster.FIXED_CLOCK)
        await asyncio.get_running_loop().run_in_executor(None, cluster.advance, float(seconds))
    elif request.method != "GET":
        raise errors.method_not_allowed("use GET or POST on /sim/clock")
    return json_response({"time": timestamp(cluster.store.clock())})


async def tokens_endpoint(request: web.Request, authn: Authenticator) -> web.Response:
    """/sim/tokens: POST {"user": "alice", "groups": ["oncall"]} mints a bearer token for that person."""
    if request.method != "POST":
        raise errors.method_not_allowed("use POST on /sim/tokens")
    spec = await read_body(request)
    if not isinstance(spec, dict) or set(spec) - {"user", "groups"}:
        raise errors.bad_request('send {"user": NAME, "groups": [GROUP, ...]} (groups optional)')
    user, groups = spec.get("user"), spec.get("groups") or []
    if not isinstance(user, str) or not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise errors.bad_request('send {"user": NAME, "groups": [GROUP, ...]}: a name and a list of group names')
    try:
        token = authn.mint_user(user, tuple(groups))
    except ValueError as e:
        raise errors.bad_request(str(e)) from e
    return json_response({"token": token, "user": user, "groups": list(authn.user_of(token).groups)}, 201)
