"""Reading a Kubernetes API request: its target, verb, query, body and selectors; writing its JSON response.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from aiohttp import web

from incident_response.sim import conversion, errors, patching, selectors, tables
from incident_response.sim.errors import ApiError
from incident_response.sim.resources import ResourceType, lookup
from incident_response.sim.store import Obj, Predicate
from incident_response.sim.tables import custom as custom_tables
from incident_response.sim.validation import shape_problems


@dataclass(frozen=True)
class Target:
    """What a resource request is about, parsed from its path."""

    res: ResourceType  # in its storage version
    namespace: str | None
    name: str | None
    subresource: str | None
    version: str = ""  # the version the request's path names: another than res.version is converted

    @property
    def converted(self) -> bool:
        return bool(self.version) and self.version != self.res.version

    def to_served(self, obj: Obj) -> Obj:
        """A stored object as the request's version shows it."""
        return conversion.to_served(self.res, self.version, obj) if self.converted else obj

    def to_storage(self, obj: Any) -> Any:
        """A body in the request's version as the store keeps it."""
        return conversion.to_storage(self.res, self.version, obj) if self.converted else obj


def unknown_resource() -> ApiError:
    return errors.ApiError(404, "NotFound", "the server could not find the requested resource")


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(), status=status, content_type="application/json"
    )


def error_response(err: ApiError) -> web.Response:
    return json_response(err.status(), err.code)


def parse_target(segments: list[str], group: str, version: str, extra: Iterable[ResourceType] = ()) -> Target:
    """Resolve the path after `/api/v1` or `/apis/<g>/<v>` to a resource, namespace, name and subresource.

    `extra`: the resource types the cluster's CustomResourceDefinitions define.
    """
    extra = tuple(extra)

    def resolve(plural: str) -> ResourceType:
        res = lookup(group, version, plural, extra)
        if res is None:
            raise unknown_resource()
        return res

    if not segments:
        raise unknown_resource()
    if segments[0] == "namespaces" and len(segments) >= 3 and lookup(group, version, segments[2], extra):
        res = resolve(segments[2])
        if not res.namespaced:
            raise unknown_resource()
        rest = segments[3:]
        if len(rest) > 2:
            raise unknown_resource()
        return Target(res, segments[1], rest[0] if rest else None, rest[1] if len(rest) > 1 else None, version)
    if len(segments) > 3:
        raise unknown_resource()
    res = resolve(segments[0])
    name = segments[1] if len(segments) > 1 else None
    sub = segments[2] if len(segments) > 2 else None
    if res.namespaced and name is not None:
        raise unknown_resource()
    return Target(res, None, name, sub, version)


def verb_of(method: str, target: Target, watch: bool) -> str:
    """The authorization verb of a request: `GET` on a collection is list or watch, `DELETE` on one deletecollection."""
    if method == "GET":
        if target.name is None:
            return "watch" if watch else "list"
        return "get"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if target.name is not None else "deletecollection",
    }.get(method, method.lower())


def truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


def is_dry_run(request: web.Request) -> bool:
    return request.query.get("dryRun") == "All"


def wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def encode_continue(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_continue(token: str) -> tuple[str, str]:
    try:
        ns, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(ns), str(name)
    except (ValueError, TypeError) as e:
        raise errors.bad_request(f"invalid continue token: {token!r}") from e


def list_limit(request: web.Request) -> int | None:
    """The page size a list asked for; none (everything) when absent or not positive."""
    limit_text = request.query.get("limit")
    limit: int | None = None
    if limit_text:
        try:
            limit = int(limit_text)
        except ValueError as e:
            raise errors.bad_request(f"invalid limit: {limit_text!r}") from e
        limit = limit if limit > 0 else None
    return limit


def field_manager(request: web.Request) -> str:
    if request.query.get("fieldManager"):
        return request.query["fieldManager"]
    agent = request.headers.get("User-Agent", "unknown")
    return agent.split("/")[0] or "unknown"


def predicates(request: web.Request) -> list[Predicate]:
    """The request's label and field selectors, as checks on an object."""
    checks: list[Predicate] = []
    label_text = request.query.get("labelSelector")
    field_text = request.query.get("fieldSelector")
    try:
        if label_text:
            label_sel = selectors.parse_label_selector(label_text)
            checks.append(lambda obj: label_sel.matches((obj.get("metadata") or {}).get("labels") or {}))
        if field_text:
            field_sel = selectors.parse_field_selector(field_text)
            checks.append(field_sel.matches)
    except selectors.SelectorError as e:
        raise errors.bad_request(str(e)) from e
    return checks


def table(request: web.Request, res: ResourceType, items: list[Obj], list_meta: dict[str, Any], now: datetime) -> Obj:
    """A meta.k8s.io Table of the items, with the objects included as the request's `includeObject` asks."""
    include = request.query.get("includeObject", "")
    try:
        printer = custom_tables.printer(res.printer_columns) if res.custom else None
        return tables.render_table(
            res.key, items, now=now, include_object=include, list_meta=list_meta, printer=printer
        )
    except ValueError as e:
        raise errors.bad_request(f"invalid includeObject: {include!r}") from e


async def read_body(request: web.Request) -> Any:
    """The decoded JSON, YAML or protobuf body (protobuf as the JSON object it stands for)."""
    content_type = request.headers.get("Content-Type", "application/json")
    raw = await request.read()
    if not raw:
        raise errors.bad_request("the request body is empty")
    if "protobuf" in content_type:
        from incident_response.sim import protowire  # the protobuf runtime loads on the first protobuf body

        return protowire.decode(raw)
    try:
        if "yaml" in content_type:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as e:
        raise errors.bad_request(f"the request body could not be decoded: {e}") from e


def apply_configuration(raw: bytes, target: Target) -> Obj:
    """A server-side apply body (YAML or JSON): an object of the target's kind named as the URL names it."""
    try:
        config = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise errors.bad_request(f"error decoding YAML: {e}") from e
    if not isinstance(config, dict):
        raise errors.bad_request("the apply configuration must be an object")
    res = target.res
    served = f"{res.group}/{target.version or res.version}" if res.group else target.version or res.version
    if config.get("kind") != res.kind or config.get("apiVersion") != served:
        raise errors.bad_request(
            f"the apply configuration must have apiVersion {served!r} and kind {res.kind!r}, "
            f"got {config.get('apiVersion')!r} and {config.get('kind')!r}"
        )
    meta = config.get("metadata")
    if not isinstance(meta, dict) or meta.get("name") != target.name:
        raise errors.bad_request(f"the apply configuration's metadata.name must be {target.name!r}")
    given = meta.get("namespace")
    if res.namespaced and given and given != target.namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if res.namespaced:
        meta["namespace"] = target.namespace
    problems = shape_problems(res, config)
    if problems:
        field, message = problems[0]
        raise errors.bad_request(f"{field}: {message}")
    return config


def apply_patch(current: Obj, raw: bytes, content_type: str) -> Obj:
    try:
        result = patching.apply_patch(current, raw, content_type)
    except patching.PatchError as e:
        raise e.api_error() from e
    if not isinstance(result, dict):
        raise errors.bad_request("the patch must leave an object")
    return result


def delete_options(request: web.Request, raw: bytes) -> tuple[Obj, bool]:
    """The DeleteOptions body (if any) and whether the delete is immediate (a grace period of 0)."""
    options: Obj = {}
    if raw:
        try:
            loaded = json.loads(raw)
        except ValueError as e:
            raise errors.bad_request(f"invalid delete options: {e}") from e
        if isinstance(loaded, dict):
            options = loaded
    grace = request.query.get("gracePeriodSeconds", options.get("gracePeriodSeconds"))
    try:
        immediate = grace is not None and int(grace) == 0
    except (TypeError, ValueError) as e:
        raise errors.bad_request(f"invalid gracePeriodSeconds: {grace!r}") from e
    if not isinstance(options.get("preconditions") or {}, dict):
        raise errors.bad_request("DeleteOptions.preconditions must be an object")
    return options, immediate
