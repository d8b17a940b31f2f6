"""The Kubernetes seam: the `Kube` protocol every tool uses, and `RealKube`, its only implementation over HTTP.

This is the only module that imports the `kubernetes` client library, and it does so inside functions so that the
MCP handshake never pays for the import. Objects cross the seam as plain dicts (the API's JSON); failures cross it
as the typed errors of `tools.core.errors`, translated by `tools.kube.api_errors`. Paths come from
`tools.kube.resources`.

Layer: tools.kube.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from incident_response.tools.core import errors
from incident_response.tools.kube.api_errors import api_error, translate_transport_errors
from incident_response.tools.kube.resources import RESOURCES, resource_info

if TYPE_CHECKING:
    from kubernetes.client.api_client import ApiClient

FIELD_MANAGER = "incident-response-mcp"
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 30.0

PatchType = Literal["json", "merge", "strategic"]
PATCH_CONTENT_TYPES: dict[str, str] = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}
# Aliases keep the builtin `list` usable inside classes that define a `list` method.
Body = dict[str, Any] | list[Any]
Query = list[tuple[str, str]]
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@dataclass
class ListResult:
    """One page of a list. `truncated` is true when the server holds more items than `limit` let through."""

    items: list[dict[str, Any]]
    truncated: bool = False
    remaining: int | None = field(default=None)
    resource_version: str | None = None
    continue_token: str | None = None  # give it back as `continue_token` to read the next page


class Kube(Protocol):
    """Dict-level, synchronous access to one cluster. Every method raises `tools.core.errors` types only."""

    context: str | None

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]: ...

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> ListResult: ...

    def table(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict[str, Any]: ...

    def create(
        self, resource: str, body: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]: ...

    def patch(
        self,
        resource: str,
        name: str,
        body: Body,
        namespace: str | None = None,
        *,
        patch_type: PatchType,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> dict[str, Any]: ...

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
    ) -> dict[str, Any]: ...

    def evict(self, name: str, namespace: str, *, dry_run: bool = False, uid: str | None = None) -> None:
        """policy/v1 Eviction; with `uid`, only of the pod with that uid (409 Conflict when the name is another's)."""
        ...

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
    ) -> str: ...

    def version(self) -> dict[str, Any]: ...

    def access_review(
        self, verb: str, resource: str, group: str, namespace: str | None, subresource: str | None = None
    ) -> bool: ...

    def rules_review(self, namespace: str) -> dict[str, Any]: ...

    def whoami(self) -> str | None:
        """The authenticated user name (SelfSubjectReview), or None when the cluster does not say."""
        ...

    def endpoint(self) -> tuple[str, str | None]:
        """(the API server URL, the SHA-256 of the CA certificate this client trusts or None without TLS
        verification), from the configuration: no request is made."""
        ...


@dataclass(frozen=True)
class ClusterSource:
    """Where RealKube gets its connection: a kubeconfig file (and context), or the pod's service account."""

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False


class RealKube:
    """`Kube` over the official client's ApiClient, using raw REST paths and JSON dicts (no typed models)."""

    def __init__(self, api_client: ApiClient, context: str | None, *, user: str | None = None) -> None:
        self._api = api_client
        self.context = context
        self._kubeconfig_user = user
        self._lock = threading.Lock()

    @staticmethod
    def import_library() -> None:
        """Import what `connect` uses, without connecting (the server's warm-up does it outside Deps' lock, where it
        can stop for a tool call)."""
        import kubernetes.client.api_client  # noqa: F401
        import kubernetes.client.configuration  # noqa: F401
        import kubernetes.config  # noqa: F401

    @classmethod
    def connect(cls, source: ClusterSource) -> RealKube:
        """Load the configuration (no network traffic yet). Raises NoClusterConfigured when it cannot."""
        from kubernetes import config

        kube_config: Any = config  # its loaders are unannotated
        from kubernetes.client.api_client import ApiClient
        from kubernetes.client.configuration import Configuration

        configuration = Configuration()
        context_name: str | None = None
        user: str | None = None
        try:
            if source.in_cluster:
                kube_config.load_incluster_config(client_configuration=configuration)
            elif source.kubeconfig is not None:
                if not source.kubeconfig.is_file():
                    raise errors.NoClusterConfigured(f"kubeconfig {source.kubeconfig} does not exist")
                contexts, current = kube_config.list_kube_config_contexts(config_file=str(source.kubeconfig))
                chosen = (
                    current
                    if source.context is None
                    else next((c for c in contexts if c.get("name") == source.context), None)
                )
                if chosen is None:
                    names = ", ".join(str(c.get("name")) for c in contexts) or "none"
                    raise errors.NoClusterConfigured(
                        f"context {source.context!r} is not in kubeconfig {source.kubeconfig} (contexts: {names})"
                    )
                context_name = str(chosen.get("name"))
                user = (chosen.get("context") or {}).get("user")
                kube_config.load_kube_config(
                    config_file=str(source.kubeconfig), context=context_name, client_configuration=configuration
                )
            else:
                raise errors.NoClusterConfigured("no kubeconfig was given and the server is not running in a pod")
        except kube_config.ConfigException as e:
            raise errors.NoClusterConfigured(f"the cluster configuration could not be loaded ({e})") from e
        # Fail fast: one connection attempt, no urllib3 retry storms against a dead API server.
        configuration.retries = False
        return cls(ApiClient(configuration), context_name, user=user)

    def endpoint(self) -> tuple[str, str | None]:
        configuration = self._api.configuration
        trusted = ca_fingerprint(configuration.ssl_ca_cert) if configuration.verify_ssl else None
        return str(configuration.host), trusted

    # -- reads ---------------------------------------------------------------------------------------------------

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        info = resource_info(resource)
        return self._json(
            "GET", info.path(resource, namespace, name), verb="get", resource=resource, name=name, namespace=namespace
        )

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> ListResult:
        info = resource_info(resource)
        query = _list_query(label_selector, field_selector, limit, continue_token)
        body = self._json(
            "GET", info.path(resource, namespace), query=query, verb="list", resource=resource, namespace=namespace
        )
        meta = body.get("metadata") or {}
        return ListResult(
            items=list(body.get("items") or []),
            truncated=bool(meta.get("continue")),
            remaining=meta.get("remainingItemCount"),
            resource_version=meta.get("resourceVersion"),
            continue_token=str(meta["continue"]) if meta.get("continue") else None,
        )

    def table(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict[str, Any]:
        raw = self.table_body(
            resource,
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
        )
        return decoded_object(raw, "GET", resource_info(resource).path(resource, namespace))

    def table_body(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> bytes:
        """`table`'s response body, not decoded (tools.kube.table_pages reads its continue token from the head and
        asks for the next page before decoding this one)."""
        info = resource_info(resource)
        query = [*_list_query(label_selector, field_selector, limit, continue_token), ("includeObject", "Object")]
        return self._request(
            "GET",
            info.path(resource, namespace),
            query=query,
            accept=TABLE_ACCEPT,
            verb="list",
            resource=resource,
            namespace=namespace,
        )

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
        query: Query = []
        if container:
            query.append(("container", container))
        if tail_lines is not None:
            query.append(("tailLines", str(tail_lines)))
        if since_seconds is not None:
            query.append(("sinceSeconds", str(since_seconds)))
        if previous:
            query.append(("previous", "true"))
        if timestamps:
            query.append(("timestamps", "true"))
        if limit_bytes is not None:
            query.append(("limitBytes", str(limit_bytes)))
        path = RESOURCES["pods"].path("pods", namespace, name, "log")
        raw = self._request(
            "GET",
            path,
            query=query,
            accept="text/plain",
            verb="get",
            resource="pods/log",
            name=name,
            namespace=namespace,
        )
        return raw.decode("utf-8", errors="replace")

    def version(self) -> dict[str, Any]:
        return self._json("GET", "/version", verb="get", resource="version")

    def whoami(self) -> str | None:
        try:
            review = self._review("authentication.k8s.io", "SelfSubjectReview")
        except (errors.NotFound, errors.Forbidden, errors.BadRequest):
            return self._kubeconfig_user
        user = ((review.get("status") or {}).get("userInfo") or {}).get("username")
        return str(user) if user else self._kubeconfig_user

    def access_review(
        self, verb: str, resource: str, group: str, namespace: str | None, subresource: str | None = None
    ) -> bool:
        attributes: dict[str, Any] = {"verb": verb, "resource": resource, "group": group}
        if namespace is not None:
            attributes["namespace"] = namespace
        if subresource is not None:
            attributes["subresource"] = subresource
        review = self._review("authorization.k8s.io", "SelfSubjectAccessReview", {"resourceAttributes": attributes})
        return bool((review.get("status") or {}).get("allowed"))

    def rules_review(self, namespace: str) -> dict[str, Any]:
        review = self._review("authorization.k8s.io", "SelfSubjectRulesReview", {"namespace": namespace})
        status: dict[str, Any] = review.get("status") or {}
        return status

    def review(self, group: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Create a review about someone else (TokenReview, SubjectAccessReview: nothing is stored) with this
        connection's credentials, and return the server's answer."""
        return self._review(group, kind, spec)

    def _review(self, group: str, kind: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create a SelfSubject*Review (nothing is stored) and return the server's answer."""
        plural = kind.lower() + "s"
        body: dict[str, Any] = {"apiVersion": f"{group}/v1", "kind": kind}
        if spec is not None:
            body["spec"] = spec
        return self._json("POST", f"/apis/{group}/v1/{plural}", body=body, verb="create", resource=plural)

    # -- writes --------------------------------------------------------------------------------------------------

    def create(
        self, resource: str, body: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        info = resource_info(resource)
        query = _write_query(dry_run, field_manager=True)
        name = (body.get("metadata") or {}).get("name")
        return self._json(
            "POST",
            info.path(resource, namespace),
            query=query,
            body=body,
            verb="create",
            resource=resource,
            name=name,
            namespace=namespace,
            write=True,
        )

    def patch(
        self,
        resource: str,
        name: str,
        body: Body,
        namespace: str | None = None,
        *,
        patch_type: PatchType,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        info = resource_info(resource)
        if patch_type == "json" and not isinstance(body, list):
            raise errors.InvalidArgument("a JSON patch is a list of operations")
        return self._json(
            "PATCH",
            info.path(resource, namespace, name, subresource),
            query=_write_query(dry_run, field_manager=True),
            body=body,
            content_type=PATCH_CONTENT_TYPES[patch_type],
            verb="patch",
            resource=f"{resource}/{subresource}" if subresource else resource,
            name=name,
            namespace=namespace,
            write=True,
        )

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
        info = resource_info(resource)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        preconditions = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v is not None}
        if preconditions:
            options["preconditions"] = preconditions
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        return self._json(
            "DELETE",
            info.path(resource, namespace, name),
            query=_write_query(dry_run),
            body=options,
            verb="delete",
            resource=resource,
            name=name,
            namespace=namespace,
            write=True,
        )

    def evict(self, name: str, namespace: str, *, dry_run: bool = False, uid: str | None = None) -> None:
        body: dict[str, Any] = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": namespace},
        }
        options: dict[str, Any] = {}
        if dry_run:
            options["dryRun"] = ["All"]
        if uid:
            options["preconditions"] = {"uid": uid}
        if options:
            body["deleteOptions"] = options
        path = RESOURCES["pods"].path("pods", namespace, name, "eviction")
        self._json(
            "POST",
            path,
            query=_write_query(dry_run),
            body=body,
            verb="create",
            resource="pods/eviction",
            name=name,
            namespace=namespace,
            write=True,
        )

    # -- transport -----------------------------------------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return decoded_object(self._request(method, path, **kwargs), method, path)

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        accept: str = "application/json",
        content_type: str = "application/json",
        verb: str,
        resource: str,
        name: str | None = None,
        namespace: str | None = None,
        write: bool = False,
    ) -> bytes:
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        method_, url, header_params, serialized, _ = self._api.param_serialize(
            method,
            path,
            query_params=query or None,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        with translate_transport_errors(
            verb,
            resource,
            name,
            namespace,
            write=write,
            read_timeout=READ_TIMEOUT_SECONDS,
            server=str(self._api.configuration.host),
        ):
            response: Any = self._api.call_api(
                method_,
                url,
                header_params=header_params,
                body=serialized,
                _request_timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )
            data: bytes = response.read() or b""
        if not 200 <= response.status <= 299:
            raise api_error(response.status, data, verb=verb, resource=resource, name=name, namespace=namespace)
        return data


def decoded_object(raw: bytes, method: str, path: str) -> dict[str, Any]:
    """A response body as the JSON object it must be ({} when empty)."""
    try:
        decoded = json.loads(raw) if raw else {}
    except ValueError as e:
        raise errors.ServerError(
            f"the API server sent a response that is not JSON for {method} {path}: {errors.truncate(repr(raw))}",
            code=200,
            reason="BadResponse",
        ) from e
    if not isinstance(decoded, dict):
        raise errors.ServerError(f"unexpected response for {method} {path}", code=200, reason="BadResponse")
    return decoded


def ca_fingerprint(path: str | None) -> str | None:
    """SHA-256 (hex) of the first certificate in a PEM file, as `openssl x509 -fingerprint -sha256` computes it;
    None when there is no readable certificate."""
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        return None
    try:
        der = ssl.PEM_cert_to_DER_cert(text[start : stop + len(end)])
    except ValueError:
        return None
    return hashlib.sha256(der).hexdigest()


def _list_query(
    label_selector: str | None, field_selector: str | None, limit: int | None, continue_token: str | None = None
) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    if limit is not None:
        query.append(("limit", str(limit)))
    if continue_token:
        query.append(("continue", continue_token))
    return query


def _write_query(dry_run: bool, *, field_manager: bool = False) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    if dry_run:
        query.append(("dryRun", "All"))
    if field_manager:
        query.append(("fieldManager", FIELD_MANAGER))
    return query
