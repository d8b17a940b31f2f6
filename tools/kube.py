"""The Kubernetes seam: the `Kube` protocol every tool uses, and `RealKube`, its only implementation over HTTP.

This is the only module that imports the `kubernetes` client library, and it does so inside functions so that the
MCP handshake never pays for the import. Objects cross the seam as plain dicts (the API's JSON); failures cross it
as the typed errors of `tools.errors`, translated once, here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote

from incident_response.tools import errors

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


@dataclass(frozen=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    namespaced: bool

    def path(self, plural: str, namespace: str | None, name: str | None = None, subresource: str | None = None) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else "/api/v1"
        parts = [prefix]
        if self.namespaced:
            if namespace is None:
                if name is not None:
                    raise errors.InvalidArgument(f"{plural} are namespaced: give a namespace")
            else:
                parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(plural.split(".", 1)[0])
        if name is not None:
            parts.append(quote(name, safe=""))
        if subresource is not None:
            parts.append(subresource)
        return "/".join(parts)


RESOURCES: dict[str, ResourceInfo] = {
    "namespaces": ResourceInfo("", "v1", "Namespace", False),
    "nodes": ResourceInfo("", "v1", "Node", False),
    "pods": ResourceInfo("", "v1", "Pod", True),
    "services": ResourceInfo("", "v1", "Service", True),
    "endpoints": ResourceInfo("", "v1", "Endpoints", True),
    "events": ResourceInfo("", "v1", "Event", True),
    "secrets": ResourceInfo("", "v1", "Secret", True),
    "configmaps": ResourceInfo("", "v1", "ConfigMap", True),
    "persistentvolumeclaims": ResourceInfo("", "v1", "PersistentVolumeClaim", True),
    "deployments": ResourceInfo("apps", "v1", "Deployment", True),
    "replicasets": ResourceInfo("apps", "v1", "ReplicaSet", True),
    "horizontalpodautoscalers": ResourceInfo("autoscaling", "v2", "HorizontalPodAutoscaler", True),
    "networkpolicies": ResourceInfo("networking.k8s.io", "v1", "NetworkPolicy", True),
    "ingresses": ResourceInfo("networking.k8s.io", "v1", "Ingress", True),
    "poddisruptionbudgets": ResourceInfo("policy", "v1", "PodDisruptionBudget", True),
    "pods.metrics.k8s.io": ResourceInfo("metrics.k8s.io", "v1beta1", "PodMetrics", True),
    "nodes.metrics.k8s.io": ResourceInfo("metrics.k8s.io", "v1beta1", "NodeMetrics", False),
}


def resource_info(resource: str) -> ResourceInfo:
    try:
        return RESOURCES[resource]
    except KeyError:
        raise errors.InvalidArgument(f"unknown resource {resource!r}; known: {', '.join(sorted(RESOURCES))}") from None


@dataclass
class ListResult:
    """One page of a list. `truncated` is true when the server holds more items than `limit` let through."""

    items: list[dict[str, Any]]
    truncated: bool = False
    remaining: int | None = field(default=None)
    resource_version: str | None = None


class Kube(Protocol):
    """Dict-level, synchronous access to one cluster. Every method raises `tools.errors` types only."""

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
    ) -> ListResult: ...

    def table(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
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
    ) -> dict[str, Any]: ...

    def evict(self, name: str, namespace: str, *, dry_run: bool = False) -> None: ...

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
    ) -> ListResult:
        info = resource_info(resource)
        query = _list_query(label_selector, field_selector, limit)
        body = self._json(
            "GET", info.path(resource, namespace), query=query, verb="list", resource=resource, namespace=namespace
        )
        meta = body.get("metadata") or {}
        return ListResult(
            items=list(body.get("items") or []),
            truncated=bool(meta.get("continue")),
            remaining=meta.get("remainingItemCount"),
            resource_version=meta.get("resourceVersion"),
        )

    def table(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        info = resource_info(resource)
        query = [*_list_query(label_selector, field_selector, limit), ("includeObject", "Object")]
        return self._json(
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
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            review = self._json(
                "POST",
                "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                body=body,
                verb="create",
                resource="selfsubjectreviews",
            )
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
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        review = self._json(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            body=body,
            verb="create",
            resource="selfsubjectaccessreviews",
        )
        return bool((review.get("status") or {}).get("allowed"))

    def rules_review(self, namespace: str) -> dict[str, Any]:
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": namespace},
        }
        review = self._json(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            body=body,
            verb="create",
            resource="selfsubjectrulesreviews",
        )
        status: dict[str, Any] = review.get("status") or {}
        return status

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
    ) -> dict[str, Any]:
        info = resource_info(resource)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        preconditions = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v is not None}
        if preconditions:
            options["preconditions"] = preconditions
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

    def evict(self, name: str, namespace: str, *, dry_run: bool = False) -> None:
        body: dict[str, Any] = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": namespace},
        }
        if dry_run:
            body["deleteOptions"] = {"dryRun": ["All"]}
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
        raw = self._request(method, path, **kwargs)
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
        where = _where(namespace)
        with _translate_transport_errors(method, verb, resource, name, where, write):
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


def _list_query(label_selector: str | None, field_selector: str | None, limit: int | None) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    if limit is not None:
        query.append(("limit", str(limit)))
    return query


def _write_query(dry_run: bool, *, field_manager: bool = False) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    if dry_run:
        query.append(("dryRun", "All"))
    if field_manager:
        query.append(("fieldManager", FIELD_MANAGER))
    return query


def _where(namespace: str | None) -> str:
    return f" in namespace {namespace!r}" if namespace else ""


@contextmanager
def _translate_transport_errors(
    method: str, verb: str, resource: str, name: str | None, where: str, write: bool
) -> Iterator[None]:
    """Map urllib3 failures: not sent -> ClusterUnreachable; sent but unanswered -> Timeout or OutcomeUnknown."""
    from urllib3 import exceptions as http

    target = f"{verb} {resource}{' ' + name if name else ''}{where}"
    try:
        yield
    except (http.ConnectTimeoutError, http.NewConnectionError, http.NameResolutionError) as e:
        raise errors.ClusterUnreachable(
            f"the Kubernetes API server is unreachable ({type(e).__name__}) while trying to {target}; nothing was "
            "changed. Check that the cluster is up and the kubeconfig points at it, then retry"
        ) from e
    except http.SSLError as e:
        raise errors.ClusterUnreachable(
            f"TLS to the Kubernetes API server failed while trying to {target}: {errors.truncate(str(e))}"
        ) from e
    except (http.ReadTimeoutError, http.ProtocolError, http.MaxRetryError) as e:
        if write:
            raise errors.OutcomeUnknown(
                f"the request to {target} was sent but no answer came back ({type(e).__name__}); it may or may not "
                "have been applied. Read the object again to see its current state before retrying"
            ) from e
        if isinstance(e, http.ReadTimeoutError):
            raise errors.Timeout(
                f"the Kubernetes API server did not answer in {READ_TIMEOUT_SECONDS:.0f}s to {target}; the cluster "
                "may be overloaded. Retry once, with a narrower selector or smaller limit if it was a list"
            ) from e
        raise errors.ClusterUnreachable(
            f"the connection to the Kubernetes API server was lost while trying to {target} ({type(e).__name__}); "
            "check that the cluster is up, then retry"
        ) from e


def _status_message(status: int, data: bytes) -> tuple[str, str]:
    """The (reason, message) of a failure Status body, or of a non-Status body."""
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        return str(body.get("reason") or ""), str(body.get("message") or "")
    text = data.decode("utf-8", errors="replace").strip()
    return "", text or f"HTTP {status}"


def api_error(
    status: int, data: bytes, *, verb: str, resource: str, name: str | None = None, namespace: str | None = None
) -> errors.ApiError:
    """Translate a failed HTTP answer into the typed error the model reads. Public for tests of the wording."""
    reason, message = _status_message(status, data)
    message = errors.truncate(message)
    where = _where(namespace)
    what = f"{resource} {name!r}" if name else resource
    common: dict[str, Any] = {"code": status, "reason": reason, "verb": verb, "resource": resource, "name": name}
    if status == 404:
        return errors.NotFound(
            f"{what} not found{where} ({message}); check the name and namespace, for example by listing them first",
            **common,
        )
    if status == 403:
        return errors.Forbidden(
            f"forbidden: the server's identity may not {verb} {resource}{where} ({message}). Run server_info to see "
            "what it may do; a human with more rights must do this, or grant the RBAC",
            **common,
        )
    if status == 401:
        return errors.Unauthorized(
            f"the cluster rejected the server's credentials ({message}); the kubeconfig's token or certificate may "
            "have expired. Ask the operator to refresh it and restart the server",
            **common,
        )
    if status == 409:
        return errors.Conflict(
            f"conflict on {what}{where}: {message}. Read it again and decide on the current state", **common
        )
    if status == 410:
        return errors.Gone(f"{message}; the listing went stale, run the tool again", **common)
    if status == 422:
        return errors.Invalid(f"the API server rejected {verb} {what}{where} as invalid: {message}", **common)
    if status == 400:
        return errors.BadRequest(f"the API server rejected {verb} {what}{where}: {message}", **common)
    if status == 429:
        return errors.TooManyRequests(
            f"the API server is throttling requests ({message}); wait a few seconds and retry", **common
        )
    return errors.ServerError(
        f"the API server failed to {verb} {what}{where} (HTTP {status} {reason}): {message}. Retry once; if it keeps "
        "failing the control plane itself may be part of the incident",
        **common,
    )
