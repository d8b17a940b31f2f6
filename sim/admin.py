"""The simulator's admin endpoint, /sim/faults: inject latency, error statuses and dropped connections.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from incident_response.sim import errors
from incident_response.sim.faults import Fault, Faults
from incident_response.sim.requests import json_response, read_body

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
