"""Image pulls the registry refused (credentials), told apart from images that do not exist.

The kubelet says why a pull failed only in its Warning events on the pod ('Failed to pull image "X": ...'; the pod's
status says ErrImagePull, then ImagePullBackOff 'Back-off pulling image "X"'). The runtime's error names the cause:
a registry that refused the credentials answers 401 Unauthorized or 403 Forbidden (containerd: "unexpected status
from HEAD request to https://HOST/v2/...: 401 Unauthorized"; Docker Hub: "pull access denied ... insufficient_scope:
authorization failed"; dockerd: "unauthorized: authentication required"); a tag that does not exist is "not found"
("manifest unknown"). The fixes differ: a rollback to an image that exists helps the missing tag, while refused
credentials want the pull Secret restored, and a rollback to an image on the same registry is refused too wherever
a node does not hold it already. A listed pull Secret that does not exist gets its own Warning event
(FailedToRetrieveImagePullSecret, "Unable to retrieve some image pull secrets (NAME, ...)").

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s.views import meta

PULLING = ("ErrImagePull", "ImagePullBackOff")
FAILED_PULL = re.compile(r'Failed to pull image "([^"\s]{1,512})"')  # an image reference: no quote, no whitespace
REFUSED = re.compile(
    r"\b(401 Unauthorized|403 Forbidden|unauthorized: authentication required|insufficient_scope|"
    r"no basic auth credentials|denied: requested access to the resource is denied)",
    re.IGNORECASE,
)
MISSING_SECRETS = re.compile(r"Unable to retrieve some image pull secrets \(([^)]*)\)")
SECRET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")  # a Secret's name (DNS subdomain)
SECRET_EVENT = "FailedToRetrieveImagePullSecret"
PULL_REFUSED = "Failed to pull image"  # PullRefusal.text()'s start: a config error that is a refused pull


@dataclass(frozen=True)
class PullRefusal:
    """A pod's pull the registry refused: the image, its registry, the registry's answer, and the pod's pull Secrets
    (listed in its spec; `missing` those the kubelet could not find)."""

    image: str
    registry: str
    answer: str  # "401 Unauthorized", "403 Forbidden", "insufficient_scope", ...
    secrets: tuple[str, ...]
    missing: tuple[str, ...]

    def text(self) -> str:
        """One line for evidence: what was refused, where, with which Secrets."""
        if self.missing:
            held = f"imagePullSecret {', '.join(self.missing)} not found"
        elif self.secrets:
            held = f"imagePullSecrets {', '.join(self.secrets)} not accepted"
        else:
            held = "no imagePullSecrets"
        return f'{PULL_REFUSED} "{self.image}": {self.answer} from {self.registry} ({held})'


TEXT = re.compile(r'^Failed to pull image "([^"]+)": (.+) from (\S+) \((.*)\)$')


def from_text(text: str) -> PullRefusal | None:
    """A PullRefusal back from its text() (how it travels with the FailedMount messages: pod -> message)."""
    found = TEXT.match(text)
    if found is None:
        return None
    image, answer, registry, held = found.groups()
    names = tuple(n.strip() for n in re.sub(r"^imagePullSecrets? | not (found|accepted)$", "", held).split(","))
    secrets = () if held == "no imagePullSecrets" else names
    return PullRefusal(image, registry, answer, secrets, names if held.endswith(" not found") else ())


def registry_of(image: str) -> str:
    """The registry host of an image reference (no host: Docker Hub)."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return "docker.io" if first in ("index.docker.io", "registry-1.docker.io") else first
    return "docker.io"


def pulling(pod: dict[str, Any]) -> bool:
    """A pod (not being deleted) with a container that cannot pull its image (ErrImagePull, ImagePullBackOff)."""
    status = pod.get("status") or {}
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    waiting = [((c.get("state") or {}).get("waiting") or {}).get("reason") for c in statuses]
    return not meta(pod).deletion_timestamp and any(w in PULLING for w in waiting)


def pull_secrets(spec_holder: dict[str, Any]) -> tuple[str, ...]:
    """The imagePullSecrets a pod (or pod template) lists, by name."""
    spec = spec_holder.get("spec") or {}
    refs = spec.get("imagePullSecrets") or ()
    return tuple(str(r.get("name")) for r in refs if isinstance(r, dict) and r.get("name"))


def refusal_in(message: str) -> tuple[str, str] | None:
    """(image, the registry's answer) when a kubelet message is a pull the registry refused; None otherwise (a
    missing tag, a network error, another event)."""
    image, answer = FAILED_PULL.search(message), REFUSED.search(message)
    if image is None or answer is None:
        return None
    return image.group(1), answer.group(1)


PULL_EVENTS = ("Failed", SECRET_EVENT)


def pull_refusals(events: list[dict[str, Any]], pods: list[dict[str, Any]]) -> dict[str, PullRefusal]:
    """Pod -> its latest refused pull, for those of `pods` still failing to pull (events: the namespace's Warnings,
    or at least its Failed and FailedToRetrieveImagePullSecret ones)."""
    # Only pods a pull event names can have a refusal: the other 10,000s of a namespace are not looked at.
    named = {str((e.get("involvedObject") or {}).get("name") or "") for e in events if e.get("reason") in PULL_EVENTS}
    by_name = {name: p for p in pods if (name := str(meta(p).name)) in named and pulling(p)} if named else {}
    refused: dict[str, tuple[str, str] | None] = {}
    missing: dict[str, tuple[str, ...]] = {}
    for event in sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or "")):
        name, message = str((event.get("involvedObject") or {}).get("name") or ""), str(event.get("message") or "")
        if name not in by_name:
            continue
        if event.get("reason") == "Failed" and FAILED_PULL.search(message):
            refused[name] = refusal_in(message)  # the latest pull failure says it: a later NotFound is no refusal
        elif event.get("reason") == SECRET_EVENT and (names := MISSING_SECRETS.search(message)):
            # Events are written by whoever may create them: only names a Secret could have are repeated.
            missing[name] = tuple(n for n in (x.strip() for x in names.group(1).split(",")) if SECRET_NAME.match(n))
    for name, pod in by_name.items():
        # The kubelet's own status, while ErrImagePull, carries the runtime's error: it outweighs an event (anyone
        # allowed to create events can write one saying 401).
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") == "ErrImagePull" and waiting.get("message") and name in refused:
                said = f'Failed to pull image "{status.get("image")}": {waiting["message"]}'
                refused[name] = refusal_in(said)
    return {
        name: PullRefusal(found[0], registry_of(found[0]), found[1], pull_secrets(by_name[name]), missing.get(name, ()))
        for name, found in refused.items()
        if found is not None
    }
