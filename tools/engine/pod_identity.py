"""Which pod this process runs in, from its service account's namespace file and its hostname (None outside a pod).

Layer: tools.engine.
"""

from __future__ import annotations

import socket

SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def own_pod() -> tuple[str, str] | None:
    """(pod name, namespace) when this process runs in a pod: its hostname is the pod's name."""
    namespace = namespace_in_pod()
    return None if namespace is None else (socket.gethostname(), namespace)


def namespace_in_pod() -> str | None:
    """The namespace of the pod this process runs in (its service account's), or None outside a pod."""
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE, encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None
