"""/sim/registries: which image registries want credentials, over HTTP (sim/registries.py), so an incident made with
kubectl from outside can be a refused pull: enter a registry with the credentials it accepts, create or break the
pull Secret, and roll an image from it out. Passwords are never answered back (GET lists the users only).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from incident_response.sim import errors
from incident_response.sim.requests import json_response, read_body

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

USAGE = (
    'send {"registry": HOST, "credentials": ["USER:PASSWORD", ...]} (the credentials it accepts; an empty list '
    "lets it pull anonymously again)"
)


def problem(spec: Any) -> str | None:
    """What is wrong with a POST body, if anything."""
    if not isinstance(spec, dict) or set(spec) != {"registry", "credentials"}:
        return USAGE
    host, credentials = spec["registry"], spec["credentials"]
    if not isinstance(host, str) or not host.strip() or any(ch.isspace() or ch == "/" for ch in host):
        return f"registry must be a host such as registry.example.com (no path, no spaces), not {host!r}"
    if not isinstance(credentials, list) or not all(isinstance(c, str) for c in credentials):
        return USAGE
    if any(":" not in c or not c.split(":", 1)[0] for c in credentials):
        return 'each credential is "USER:PASSWORD" with a user'
    return None


def shown(cluster: Cluster) -> dict[str, dict[str, list[str]]]:
    return {
        host: {"users": sorted(c.split(":", 1)[0] for c in accepted)} for host, accepted in cluster.registries.items()
    }


async def registries_endpoint(request: web.Request, cluster: Cluster) -> web.Response:
    """GET lists the registries (users only), POST sets one, DELETE empties the list."""
    if request.method == "GET":
        return json_response({"registries": shown(cluster)})
    if request.method == "DELETE":
        cluster.registries = {}
        return json_response({"registries": {}})
    if request.method != "POST":
        raise errors.method_not_allowed("use GET, POST or DELETE on /sim/registries")
    spec = await read_body(request)
    why = problem(spec)
    if why is not None:
        raise errors.bad_request(why)
    # A new map, swapped in whole: a tick reading the old one never sees it change under it.
    registries = dict(cluster.registries)
    if spec["credentials"]:
        registries[spec["registry"].strip()] = frozenset(spec["credentials"])
    else:
        registries.pop(spec["registry"].strip(), None)
    cluster.registries = registries
    return json_response({"registries": shown(cluster)})
