"""Failures of a request to the API server, translated into `tools.core.errors` types (chained `from e`), once, here.

`api_error` reads a failure answer (a `Status` body, or any body) by HTTP code; `translate_transport_errors` maps
urllib3 failures by whether the request can have reached the server. Messages name the verb and object and say
what to do next; bodies copied from the server are truncated (`errors.truncate`).

Layer: tools.kube.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from incident_response.tools.core import errors


def where(namespace: str | None) -> str:
    return f" in namespace {namespace!r}" if namespace else ""


@contextmanager
def translate_transport_errors(
    verb: str,
    resource: str,
    name: str | None,
    namespace: str | None,
    *,
    write: bool,
    read_timeout: float,
    server: str = "the API server",
) -> Iterator[None]:
    """Map urllib3 failures: not sent -> ClusterUnreachable; sent but unanswered -> Timeout or OutcomeUnknown."""
    from urllib3 import exceptions as http

    target = f"{verb} {resource}{' ' + name if name else ''}{where(namespace)}"
    try:
        yield
    except (http.ConnectTimeoutError, http.NewConnectionError, http.NameResolutionError) as e:
        raise errors.ClusterUnreachable(
            f"the Kubernetes API server is unreachable ({type(e).__name__}) while trying to {target}; nothing was "
            "changed. Check that the cluster is up and the kubeconfig points at it, then retry"
        ) from e
    except (http.ReadTimeoutError, http.ProtocolError, http.MaxRetryError) as e:
        if write:
            raise errors.OutcomeUnknown(
                f"the request to {target} was sent but no answer came back ({type(e).__name__}); it may or may not "
                "have been applied. Read the object again to see its current state before retrying"
            ) from e
        if isinstance(e, http.ReadTimeoutError):
            raise errors.Timeout(
                f"the Kubernetes API server did not answer in {read_timeout:.0f}s to {target}; the cluster "
                "may be overloaded. Retry once, with a narrower selector or smaller limit if it was a list"
            ) from e
        raise errors.ClusterUnreachable(
            f"the connection to the Kubernetes API server was lost while trying to {target} ({type(e).__name__}); "
            "check that the cluster is up, then retry"
        ) from e
    except Exception as e:
        # The client wraps urllib3's SSLError in an ApiException with status 0: look for the TLS failure underneath.
        failure = tls_failure(e)
        if failure is None:
            raise
        raise errors.ClusterUnreachable(tls_message(failure, server, target)) from e


def tls_failure(error: BaseException) -> BaseException | None:
    """The TLS failure behind `error` (ssl's own error when the chain has one, it says the most), or None."""
    import ssl

    from urllib3 import exceptions as http

    found: BaseException | None = None
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        if isinstance(current, http.SSLError):
            found = current
        current = current.__cause__ or current.__context__
    return found


def tls_message(failure: BaseException, server: str, target: str) -> str:
    """One line: what failed, for which server, and what to check. Nothing was sent: TLS fails before the request."""
    import ssl

    if isinstance(failure, ssl.SSLCertVerificationError):
        what = f"certificate verify failed for {server}: {str(failure.verify_message or failure.reason).rstrip('.')}"
        fix = "check the cluster's certificate-authority in the kubeconfig, and that it points at the right server"
    else:
        reason = getattr(failure, "reason", None) or str(failure)
        what = f"TLS handshake with {server} failed: {errors.truncate(str(reason))}"
        fix = "check the kubeconfig's server address, certificate-authority and client certificate"
    return f"{what} (while trying to {target}); nothing was changed. {fix[0].upper()}{fix[1:]}, then retry"


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


NEEDS = re.compile(r"needs (\d+) healthy pods? and has (\d+) currently")


def budget_cause(data: bytes) -> str | None:
    """The DisruptionBudget cause's message of a 429 the eviction subresource answered ("" without one), or None
    when the 429 is not a PodDisruptionBudget refusing an eviction (then it is a rate limit)."""
    try:
        body = json.loads(data)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    details = body.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    for cause in causes if isinstance(causes, list) else []:
        if isinstance(cause, dict) and cause.get("reason") == "DisruptionBudget":
            return str(cause.get("message") or "")
    return "" if "disruption budget" in str(body.get("message") or "") else None


def api_error(
    status: int, data: bytes, *, verb: str, resource: str, name: str | None = None, namespace: str | None = None
) -> errors.ApiError:
    """Translate a failed HTTP answer into the typed error the model reads."""
    reason, message = _status_message(status, data)
    message = errors.truncate(message)
    here = where(namespace)
    what = f"{resource} {name!r}" if name else resource
    common: dict[str, Any] = {"code": status, "reason": reason, "verb": verb, "resource": resource, "name": name}
    if status == 404:
        return errors.NotFound(
            f"{what} not found{here} ({message}); check the name and namespace, for example by listing them first",
            **common,
        )
    if status == 403:
        return errors.Forbidden(
            f"forbidden: the server's identity may not {verb} {resource}{here} ({message}). Run server_info to see "
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
            f"conflict on {what}{here}: {message}. Read it again and decide on the current state", **common
        )
    if status == 410:
        return errors.Gone(f"{message}; the listing went stale, run the tool again", **common)
    if status == 422:
        return errors.Invalid(f"the API server rejected {verb} {what}{here} as invalid: {message}", **common)
    if status == 400:
        return errors.BadRequest(f"the API server rejected {verb} {what}{here}: {message}", **common)
    if status == 429 and (budget := budget_cause(data)) is not None:
        counts = NEEDS.search(budget)
        if counts and int(counts.group(1)) <= int(counts.group(2)):
            # Refused with every pod it counts healthy: a budget that never allows an eviction (minAvailable equal
            # to the replicas); waiting changes nothing, and deleting a healthy pod takes down what it protects.
            then = (
                "The budget needs every pod it counts healthy, so it never allows an eviction: scale the workload up "
                "by one first (one eviction is then allowed), or have its owners relax the budget"
            )
        else:
            then = (
                "Retrying cannot help until more of the budget's pods are Ready; a pod that will not become Ready (on "
                "a failed node, say) can be deleted instead (delete_pod): budgets do not limit deletion"
            )
        return errors.TooManyRequests(
            f"a PodDisruptionBudget forbids evicting pod {name!r}{here} now ({budget or message}); it was not evicted. "
            + then,
            **common,
        )
    if status == 429:
        return errors.TooManyRequests(
            f"the API server is throttling requests ({message}); wait a few seconds and retry", **common
        )
    return errors.ServerError(
        f"the API server failed to {verb} {what}{here} (HTTP {status} {reason}): {message}. Retry once; if it keeps "
        "failing the control plane itself may be part of the incident",
        **common,
    )
