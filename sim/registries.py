"""Image registries that want credentials, and the kubelet's pull against them (what a 401 looks like).

A registry here is a host that accepts only some credentials ("user:password"); an image on any other host pulls
anonymously, as before. The kubelet offers the credentials of the pod's `spec.imagePullSecrets` (Secrets of type
kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg, matched to the image's host), as a real kubelet does: a
listed Secret that does not exist is reported (FailedToRetrieveImagePullSecret) and the pull is tried without it. A
registry that gets no accepted credential answers 401 Unauthorized, which the kubelet reports in the runtime's
words (containerd 1.7: "failed to resolve reference ...: unexpected status from HEAD request to ...: 401
Unauthorized"; Docker Hub's "pull access denied ... insufficient_scope"). The image catalogue still says what an
image's code does once it runs; whether an image exists at all stays its `image-pull-error` behaviour (NotFound).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from incident_response.sim.controllers.common import Obj

# registry host -> the credentials ("user:password") it accepts; hosts not listed pull anonymously
Registries = Mapping[str, frozenset[str]]
DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}


def host_of(image: str) -> str:
    """The registry host of an image reference, as the runtime resolves it (no host: Docker Hub)."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return DOCKER_HUB if first in _HUB_ALIASES else first
    return DOCKER_HUB


def _repository_and_reference(image: str) -> tuple[str, str]:
    """(repository path on its host, tag or digest) of an image reference."""
    rest = image
    first, sep, tail = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        rest = tail
    if "@" in rest:
        repo, _, ref = rest.partition("@")
    else:
        head, _, last = rest.rpartition("/")
        name, colon, tag = last.partition(":")
        repo, ref = (f"{head}/{name}" if head else name), (tag if colon else "latest")
    if host_of(image) == DOCKER_HUB and "/" not in repo:
        repo = f"library/{repo}"
    return repo, ref


def _normalised(host: str) -> str:
    """A dockerconfig auths key ("https://index.docker.io/v1/", "registry.example.com:5000") as a bare host."""
    host = host.strip().removeprefix("https://").removeprefix("http://").split("/")[0]
    return DOCKER_HUB if host in _HUB_ALIASES else host


def _decode(value: Any) -> str:
    try:
        return base64.b64decode(str(value), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def _secret_credentials(secret: Obj) -> dict[str, set[str]]:
    """host -> the "user:password" pairs a pull Secret holds (an unreadable Secret holds none)."""
    data = secret.get("data") or {}
    kind = secret.get("type")
    raw = data.get(".dockerconfigjson") if kind == "kubernetes.io/dockerconfigjson" else None
    if kind == "kubernetes.io/dockercfg":
        raw = data.get(".dockercfg")
    try:
        config = json.loads(_decode(raw)) if raw else {}
    except json.JSONDecodeError:
        return {}
    auths = config.get("auths", config) if isinstance(config, dict) else {}
    out: dict[str, set[str]] = {}
    for key, entry in (auths or {}).items():
        if not isinstance(entry, dict):
            continue
        user, password = entry.get("username", ""), entry.get("password", "")
        pair = _decode(entry["auth"]) if entry.get("auth") else f"{user}:{password}"
        out.setdefault(_normalised(str(key)), set()).add(pair)
    return out


@dataclass(frozen=True)
class Pull:
    """What a pull of one image gets: `refused` is the registry's answer ("" when it hands the image over)."""

    refused: str = ""
    missing_secrets: tuple[str, ...] = ()  # listed in imagePullSecrets but not found in the namespace


Secrets = Callable[[str, str], Obj | None]  # (namespace, name) -> the Secret, or None


def pull(image: str, pod: Obj, registries: Registries, secret: Secrets) -> Pull:
    """Whether the image's registry hands it to this pod's credentials."""
    spec = pod.get("spec") or {}
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    names = [str(r.get("name")) for r in spec.get("imagePullSecrets") or () if isinstance(r, dict) and r.get("name")]
    found = {n: secret(namespace, n) for n in names}
    missing = tuple(n for n, s in found.items() if s is None)
    host = host_of(image)
    accepted = registries.get(host)
    if accepted is None:
        return Pull(missing_secrets=missing)
    offered = set().union(*(_secret_credentials(s).get(host, set()) for s in found.values() if s is not None))
    return Pull(refused="" if offered & accepted else "401 Unauthorized", missing_secrets=missing)


def refusal(image: str, status: str) -> str:
    """The runtime's error for a refused pull (the text after "rpc error: code = Unknown desc = ")."""
    host = host_of(image)
    repo, ref = _repository_and_reference(image)
    if host == DOCKER_HUB:
        reason = "pull access denied, repository does not exist or may require authorization: server message: "
        reason += "insufficient_scope: authorization failed"
    else:
        reason = f"unexpected status from HEAD request to https://{host}/v2/{repo}/manifests/{ref}: {status}"
    return f'failed to pull and unpack image "{image}": failed to resolve reference "{image}": {reason}'


def dockerconfigjson(host: str, user: str, password: str) -> str:
    """A pull Secret's `.dockerconfigjson` value (base64), as `kubectl create secret docker-registry` writes it."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = {"auths": {host: {"username": user, "password": password, "auth": auth}}}
    return base64.b64encode(json.dumps(config).encode()).decode()
