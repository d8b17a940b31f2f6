"""The simulated cluster's HTTP API: Kubernetes REST semantics over the store, as kubectl and client-go expect.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web

from incident_response.sim import (
    admin,
    crd_schema,
    crds,
    discovery,
    errors,
    image_admin,
    limitranges,
    managed_fields,
    pod_admission,
    quota,
    rbac_defaults,
    rbac_escalation,
    registry_admin,
    reviews,
    subresources,
)
from incident_response.sim.authz import Authorizer
from incident_response.sim.cluster import Cluster
from incident_response.sim.crds import CustomResources
from incident_response.sim.defaults import apply_defaults
from incident_response.sim.errors import ApiError
from incident_response.sim.faults import Faults
from incident_response.sim.identity import ANONYMOUS_USER, Authenticator, Unauthorized, UserInfo
from incident_response.sim.impersonation import impersonated
from incident_response.sim.patching import APPLY_PATCH, media_type
from incident_response.sim.rbac import Attributes
from incident_response.sim.requests import (
    Target,
    apply_configuration,
    apply_patch,
    decode_continue,
    delete_options,
    encode_continue,
    error_response,
    field_manager,
    is_dry_run,
    json_response,
    list_limit,
    parse_target,
    predicates,
    read_body,
    table,
    truthy,
    unknown_resource,
    verb_of,
    wants_table,
)
from incident_response.sim.resources import (
    CRDS,
    NAMESPACES,
    PODS,
    REPLICASETS,
    RESOURCEQUOTAS,
    SERVICEACCOUNTS,
    SERVICES,
)
from incident_response.sim.store import Obj
from incident_response.sim.validation import check_body, check_patched, shape_problems, validate
from incident_response.sim.watch import watch

__all__ = ["MAX_BODY", "ApiServer", "Target", "parse_target", "shape_problems"]  # what other code imports from here

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024

# Who sent the request being handled: set by the auth middleware, read by the handler (same task, same context).
# Unset (no request in this context) reads as anonymous: fail closed.
_USER: contextvars.ContextVar[UserInfo] = contextvars.ContextVar("sim_user", default=ANONYMOUS_USER)


def _set_owners(refs: list[Any], obj: Obj) -> None:
    obj["metadata"]["ownerReferences"] = refs


class ApiServer:
    """Routes Kubernetes API requests to the store, the controllers' runtime and the admin hooks."""

    def __init__(
        self,
        cluster: Cluster,
        faults: Faults | None = None,
        authz: Authorizer | None = None,
        authn: Authenticator | None = None,
    ) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.faults = faults or Faults()
        self.authz = authz or Authorizer()
        self.authz.attach(self.store)
        self.authn = authn or Authenticator(self.store.clock)
        self.authn.account_exists = self._account_exists
        rbac_defaults.bootstrap(self.store)
        self.custom = CustomResources(self.store)
        self._stopping = asyncio.Event()

    # ----- application wiring -----

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors_middleware, self._auth_middleware])
        app.router.add_get("/version", self._version)
        app.router.add_get("/version/", self._version)  # the Python client's VersionApi asks with the slash
        app.router.add_get("/healthz", self._ok)
        app.router.add_get("/readyz", self._ok)
        app.router.add_get("/livez", self._ok)
        app.router.add_get("/api", self._core_versions)
        app.router.add_get("/apis", self._api_groups)
        app.router.add_get("/openapi/v2", self._openapi_v2)
        app.router.add_get("/openapi/v3", self._openapi_root)
        app.router.add_get("/openapi/v3/{path:.*}", self._openapi_document)
        app.router.add_route("*", "/sim/faults", self._admin_faults)
        app.router.add_route("*", "/sim/clock", self._admin_clock)
        app.router.add_route("*", "/sim/tokens", self._admin_tokens)
        app.router.add_route("*", "/sim/images", self._admin_images)
        app.router.add_route("*", "/sim/registries", self._admin_registries)
        app.router.add_route("*", "/api/v1", self._core_resources)
        app.router.add_route("*", "/api/v1/{path:.*}", self._core)
        app.router.add_route("*", "/apis/{group}/{version}", self._group_resources)
        app.router.add_route("*", "/apis/{group}/{version}/{path:.*}", self._grouped)
        return app

    def stop_watches(self) -> None:
        self._stopping.set()

    @web.middleware
    async def _errors_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as err:
            return error_response(err)
        except web.HTTPException as exc:
            if exc.status == 404:
                return error_response(unknown_resource())
            if exc.status == 405:
                return error_response(
                    errors.method_not_allowed(f"the server does not allow this method on {request.path}")
                )
            raise
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception:  # a bug must not take the connection down: answer as the real server does (500 Status)
            log.exception("request failed: %s %s", request.method, request.path_qs)
            return error_response(
                errors.internal(
                    f"an error on the server has prevented the request from succeeding "
                    f"({request.method} {request.path})"
                )
            )

    def _account_exists(self, namespace: str, name: str, uid: str) -> bool:
        account = self.store.peek(SERVICEACCOUNTS, namespace, name)
        return account is not None and account["metadata"].get("uid") == uid

    @web.middleware
    async def _auth_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Who is asking (401 for a token that names nobody); non-resource URLs are authorized here, resource
        requests in _dispatch once their target is known. /sim/ is for system:masters only."""
        try:
            user = self.authn.authenticate(request.headers.get("Authorization"))
        except Unauthorized as e:
            raise errors.unauthorized() from e
        user = impersonated(request, user, self.authz)
        _USER.set(user)
        parts = [p for p in request.path.split("/") if p]
        resource_request = len(parts) >= 3 and (parts[0] == "api" or (parts[0] == "apis" and len(parts) >= 4))
        if not resource_request:
            verb = request.method.lower()
            if parts[:1] == ["sim"]:
                allowed = user.privileged
            else:
                allowed = self.authz.decide(user, Attributes(verb, path=request.path)).allowed
            if not allowed:
                raise errors.forbidden_path(user.name, verb, request.path)
        return await handler(request)

    async def _core_versions(self, _: web.Request) -> web.Response:
        return json_response(discovery.core_versions())

    async def _api_groups(self, _: web.Request) -> web.Response:
        return json_response(discovery.api_groups(self.custom.types()))

    async def _openapi_root(self, _: web.Request) -> web.Response:
        return json_response(discovery.openapi_root(self.custom.types()))

    async def _openapi_v2(self, _: web.Request) -> web.Response:
        """An OpenAPI v2 document with no schemas (an empty protobuf message: every field at its default).

        kubectl validates a `kind: List` file against the v2 schemas (its field-validation check skips Lists);
        a kind without a schema is not checked, as on a server with no schema for it, and the server-side
        validation of each item's create or patch still applies.
        """
        return web.Response(
            body=b"", headers={"Content-Type": "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"}
        )

    async def _ok(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _version(self, _: web.Request) -> web.Response:
        return json_response(discovery.VERSION_INFO)

    async def _openapi_document(self, request: web.Request) -> web.Response:
        parts = request.match_info["path"].split("/")
        if parts[:2] == ["api", "v1"]:
            doc = discovery.openapi_document("", "v1")
        elif len(parts) == 3 and parts[0] == "apis":
            doc = discovery.openapi_document(parts[1], parts[2], self.custom.types())
        else:
            doc = None
        if doc is None:
            raise unknown_resource()
        return json_response(doc)

    async def _core_resources(self, request: web.Request) -> web.Response:
        body = discovery.resource_list("", "v1")
        return json_response(body)

    async def _group_resources(self, request: web.Request) -> web.Response:
        group, version = request.match_info["group"], request.match_info["version"]
        body = discovery.resource_list(group, version, self.custom.types())
        if body is None:
            raise unknown_resource()
        return json_response(body)

    async def _core(self, request: web.Request) -> web.StreamResponse:
        segments = [s for s in request.match_info["path"].split("/") if s]
        return await self._dispatch(request, parse_target(segments, "", "v1"))

    async def _grouped(self, request: web.Request) -> web.StreamResponse:
        segments = [s for s in request.match_info["path"].split("/") if s]
        group, version = request.match_info["group"], request.match_info["version"]
        return await self._dispatch(request, parse_target(segments, group, version, self.custom.types()))

    async def _admin_faults(self, request: web.Request) -> web.Response:
        return await admin.faults_endpoint(request, self.faults)

    async def _admin_clock(self, request: web.Request) -> web.Response:
        return await admin.clock_endpoint(request, self.cluster)

    async def _admin_tokens(self, request: web.Request) -> web.Response:
        return await admin.tokens_endpoint(request, self.authn)

    async def _admin_images(self, request: web.Request) -> web.Response:
        return await image_admin.images_endpoint(request, self.cluster)

    async def _admin_registries(self, request: web.Request) -> web.Response:
        return await registry_admin.registries_endpoint(request, self.cluster)

    # ----- resource requests -----

    async def _dispatch(self, request: web.Request, target: Target) -> web.StreamResponse:
        verb = verb_of(request.method, target, truthy(request.query.get("watch")))
        if target.subresource == "log" and verb == "get":
            pass
        elif verb not in target.res.verbs and not (target.subresource and verb in ("get", "update", "patch", "create")):
            raise errors.method_not_allowed(f"{verb} is not supported on {target.res.key}")
        user: UserInfo = _USER.get()
        attrs = Attributes(
            verb,
            target.res.plural,
            target.res.group,
            target.subresource or "",
            target.namespace or "",
            target.name or "",
        )
        decision = self.authz.decide(user, attrs)
        if not decision.allowed:
            raise errors.forbidden(
                user.name,
                verb,
                target.res.plural,
                target.res.group,
                target.namespace,
                target.name,
                target.subresource,
            )

        drop_after = False
        res = target.res
        for fault in self.faults.take(verb, res.plural, target.subresource, target.namespace, target.name, res.group):
            if fault.action == "latency":
                await asyncio.sleep(fault.seconds)
            elif fault.action == "status":
                reason = {
                    500: "InternalError",
                    503: "ServiceUnavailable",
                    504: "Timeout",
                    429: "TooManyRequests",
                    409: "Conflict",
                    403: "Forbidden",
                }.get(fault.status, "InternalError")
                raise errors.ApiError(fault.status, reason, fault.message)
            elif fault.action == "drop_before":
                return self._drop(request)
            elif fault.action == "drop_after":
                drop_after = True

        response = await self._handle(request, target, verb)
        if drop_after:
            return self._drop(request)
        return response

    def _drop(self, request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError()

    async def _handle(self, request: web.Request, target: Target, verb: str) -> web.StreamResponse:
        res = target.res
        if res.group == "metrics.k8s.io":
            return subresources.read_metrics(request, target, self.cluster)
        if res.group == "authorization.k8s.io":
            if res.kind == "SelfSubjectRulesReview":
                return await reviews.rules_review(request, target, self.authz, _USER.get())
            return await reviews.access_review(request, target, self.authz, _USER.get())
        if res.group == "authentication.k8s.io":
            if res.kind == "TokenReview":
                return await reviews.token_review(request, target, self.authn)
            return await reviews.self_subject_review(request, target, _USER.get())
        if target.subresource == "token" and res is SERVICEACCOUNTS and verb == "create":
            return await reviews.token_request(request, target, self.store, self.authn)
        if res.group == "coordination.k8s.io":
            return subresources.read_leases(request, target, self.store)
        if verb == "watch":
            return await watch(request, target, self.store, self._stopping)
        if verb == "list":
            return self._list(request, target)
        if target.subresource == "log":
            return subresources.logs(request, target, self.cluster)
        if target.subresource == "scale":
            return await subresources.scale(request, target, verb, self.store)
        if target.subresource == "eviction":
            return await subresources.evict(request, target, self.cluster)
        if target.subresource is not None and target.subresource not in target.res.subresources:
            raise unknown_resource()
        if verb == "get":
            return self._get(request, target)
        if verb == "create":
            return await self._create(request, target)
        if verb == "update":
            return await self._update(request, target)
        if verb == "patch":
            return await self._patch(request, target)
        if verb == "delete":
            return await self._delete(request, target)
        if verb == "deletecollection":
            return self._delete_collection(request, target)
        raise errors.method_not_allowed(f"{verb} is not supported")

    def _object_response(self, request: web.Request, target: Target, obj: Obj, status: int = 200) -> web.Response:
        if wants_table(request):
            list_meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            return json_response(table(request, target.res, [obj], list_meta, self.store.clock()), status)
        return json_response(target.to_served(obj), status)

    def _get(self, request: web.Request, target: Target) -> web.Response:
        assert target.name is not None
        obj = self.store.get(target.res, target.namespace, target.name)
        return self._object_response(request, target, obj)

    def _list(self, request: web.Request, target: Target) -> web.Response:
        res = target.res
        limit = list_limit(request)
        cont = request.query.get("continue")
        after = decode_continue(cont) if cont else None
        checks = predicates(request)
        items, rv, next_key = self.store.list(res, target.namespace, checks, limit, after)
        list_meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if next_key is not None:
            list_meta["continue"] = encode_continue(next_key)
            if not checks:  # as upstream: the count is only given when it is exact, i.e. nothing filters the list
                list_meta["remainingItemCount"] = self.store.count_after(res, target.namespace, next_key)
        if wants_table(request):
            return json_response(table(request, res, items, list_meta, self.store.clock()))
        if target.converted:
            items = [target.to_served(item) for item in items]
        api_version = f"{res.group}/{target.version}" if target.converted else res.api_version
        return json_response({"kind": res.list_kind, "apiVersion": api_version, "metadata": list_meta, "items": items})

    async def _create(self, request: web.Request, target: Target) -> web.Response:
        if target.name is not None:
            raise errors.method_not_allowed("POST is not allowed on a named object")
        body = check_body(target, target.to_storage(await read_body(request)), require_name=False)
        res = target.res
        taken = {str((s.get("spec") or {}).get("clusterIP")) for s in self.store.items(SERVICES)}
        apply_defaults(res, body, taken)
        self._admit(request, target, body)
        if res is PODS:
            pod_admission.admit_pod(self.store, body)
        quota.admit(self.store, res, body)
        obj = self.store.create(res, body, dry_run=is_dry_run(request), field_manager=field_manager(request))
        return self._object_response(request, target, obj, 201)

    def _admit(self, request: web.Request, target: Target, obj: Obj) -> None:
        """The checks (and server-set fields) of a create or a main-resource update, per kind."""
        res = target.res
        validate(res, obj)
        if res in rbac_escalation.RBAC_KINDS and self.authz.policy is not None:
            rbac_escalation.check(self.authz, self.authz.policy, _USER.get(), res, obj)
        if res is RESOURCEQUOTAS:
            quota.canonical_hard(obj)
        if res is limitranges.LIMITRANGES:
            limitranges.default_items(obj)
        if res is CRDS:
            crds.validate(obj)
            crds.with_defaults_and_status(obj, self.store.clock())
        definition = self.custom.definition(res)
        schema = crds.version_schema(definition, target.version or res.version) if definition else None
        if schema is not None:
            problems, unknown = crd_schema.admit(schema, obj)
            if unknown and request.query.get("fieldValidation") == "Strict":
                fields = ", ".join(f'unknown field "{path}"' for path in unknown)
                raise errors.bad_request(
                    f'{res.kind} in version "{target.version or res.version}" cannot be handled as a {res.kind}: '
                    f"strict decoding error: {fields}"
                )
            if problems:
                raise errors.invalid(res.kind, res.group, str(obj["metadata"].get("name", "")), problems)

    async def _update(self, request: web.Request, target: Target) -> web.Response:
        body = check_body(target, target.to_storage(await read_body(request)), require_name=True)
        if target.subresource is None:
            self._admit(request, target, body)
        obj = self.store.replace(
            target.res,
            body,
            dry_run=is_dry_run(request),
            field_manager=field_manager(request),
            subresource=target.subresource,
        )
        return self._object_response(request, target, obj)

    async def _patch(self, request: web.Request, target: Target) -> web.Response:
        assert target.name is not None
        raw = await request.read()
        content_type = request.headers.get("Content-Type", "")
        if media_type(content_type) == APPLY_PATCH:
            return self._server_side_apply(request, target, raw)
        with self.store.lock:
            current = self.store.get(target.res, target.namespace, target.name)
            patched = target.to_storage(apply_patch(target.to_served(current), raw, content_type))
            check_patched(target, current, patched)
            if target.subresource is None:
                self._admit(request, target, patched)
            obj = self.store.replace(
                target.res,
                patched,
                dry_run=is_dry_run(request),
                field_manager=field_manager(request),
                subresource=target.subresource,
            )
        return self._object_response(request, target, obj)

    def _server_side_apply(self, request: web.Request, target: Target, raw: bytes) -> web.Response:
        """PATCH application/apply-patch+yaml: create or merge the manager's configuration (managed_fields.py)."""
        assert target.name is not None
        res = target.res
        manager = request.query.get("fieldManager")
        if not manager:
            raise errors.invalid(
                "PatchOptions", "meta.k8s.io", "", [("fieldManager", "Required value: is required for apply patch")]
            )
        config = target.to_storage(apply_configuration(raw, target))
        dry_run = is_dry_run(request)
        with self.store.lock:
            live = self.store.peek(res, target.namespace, target.name)
            if target.subresource is not None and live is None:
                raise errors.not_found(res.plural, res.group, target.name)
            merged = managed_fields.apply(
                live, config, manager, truthy(request.query.get("force")), res, self.store.clock()
            )
            if live is None:
                taken = {str((s.get("spec") or {}).get("clusterIP")) for s in self.store.items(SERVICES)}
                apply_defaults(res, merged, taken)
                self._admit(request, target, merged)
                if res is PODS:
                    pod_admission.admit_pod(self.store, merged)
                quota.admit(self.store, res, merged)
                obj = self.store.create(res, merged, dry_run=dry_run)
                return self._object_response(request, target, obj, 201)
            check_patched(target, live, merged)
            if target.subresource is None:
                self._admit(request, target, merged)
            obj = self.store.replace(res, merged, dry_run=dry_run, subresource=target.subresource)
        return self._object_response(request, target, obj)

    async def _delete(self, request: web.Request, target: Target) -> web.Response:
        assert target.name is not None
        options, immediate = delete_options(request, await request.read())
        dry_run = is_dry_run(request) or options.get("dryRun") == ["All"]
        pre = options.get("preconditions") or {}
        res = target.res
        current = self.store.get(res, target.namespace, target.name)
        graceful = res is PODS and bool((current.get("spec") or {}).get("nodeName")) and not immediate
        propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
        obj = self.store.delete(
            res,
            target.namespace,
            target.name,
            dry_run=dry_run,
            graceful=graceful,
            uid=pre.get("uid"),
            resource_version=pre.get("resourceVersion"),
        )
        if propagation == "Orphan" and not dry_run:
            self._orphan_dependents(current)
        if res is CRDS and not dry_run:
            crds.instances_removed(self.store, current)
        if res is NAMESPACES and not dry_run:
            obj = dict(obj)
            obj["status"] = {"phase": "Terminating"}
        return json_response(target.to_served(obj))

    def _orphan_dependents(self, owner: Obj) -> None:
        uid = owner["metadata"].get("uid")
        for res in (REPLICASETS, PODS):
            for obj in list(self.store.items(res, owner["metadata"].get("namespace"))):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == uid for ref in refs):
                    kept = [r for r in refs if r.get("uid") != uid]
                    self.store.mutate(
                        res, obj["metadata"].get("namespace"), obj["metadata"]["name"], partial(_set_owners, kept)
                    )

    def _delete_collection(self, request: web.Request, target: Target) -> web.Response:
        items, _, _ = self.store.list(target.res, target.namespace, predicates(request))
        dry_run = is_dry_run(request)
        for item in list(items):
            meta = item["metadata"]
            graceful = target.res is PODS and bool((item.get("spec") or {}).get("nodeName"))
            self.store.delete(target.res, meta.get("namespace"), meta["name"], dry_run=dry_run, graceful=graceful)
        return json_response(
            {
                "kind": target.res.list_kind,
                "apiVersion": target.res.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": items,
            }
        )
