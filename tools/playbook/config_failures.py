"""Pods that cannot start because of a ConfigMap or Secret the revision a rollback returns to reads the same way.

The kubelet names the object when it cannot build a container's environment (CreateContainerConfigError:
"couldn't find key K in ConfigMap ns/name", 'secret "name" not found'), or cannot mount a volume of it (FailedMount:
'MountVolume.SetUp failed for volume "v" : configmap "name" not found', tools/k8s/mounts.py). A rollback restores
the pod template, never that object: when the target revision's template asks for the same key (or the same
missing object, not optional), its pods fail the same way, and replacing Running pods with them makes the outage
worse. When the target reads the object without that key (or not at all), the rollback avoids the failure and
nothing is said here.

Layer: tools.playbook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s.pull_failures import PullRefusal, from_text, pull_secrets, registry_of
from incident_response.tools.k8s.views import meta

MISSING_KEY = re.compile(r"couldn't find key (\S+) in (ConfigMap|Secret) [^/\s]+/(\S+)")
MISSING_OBJECT = re.compile(r'\b(configmap|secret) "([^"]+)" not found')
MAX_PODS_NAMED = 3
INSTEAD = "instead of rolling back"  # in a shared failure's detail only: the rollback is not the move


@dataclass(frozen=True)
class ConfigFailure:
    kind: str  # ConfigMap | Secret
    name: str
    key: str | None  # None: the object itself is missing
    message: str


def failure_of(message: str) -> ConfigFailure | None:
    if found := MISSING_KEY.search(message):
        return ConfigFailure(found.group(2), found.group(3), found.group(1), message)
    if found := MISSING_OBJECT.search(message):
        kind = "ConfigMap" if found.group(1) == "configmap" else "Secret"
        return ConfigFailure(kind, found.group(2), None, message)
    return None


def config_failures(pods: list[dict[str, Any]], mounts: dict[str, str] | None = None) -> dict[ConfigFailure, list[str]]:
    """Each ConfigMap/Secret failure the pods' waiting containers show (or, `mounts`, their FailedMount events:
    mount_failures) -> the pods showing it."""
    found: dict[ConfigFailure, list[str]] = {}
    for name, message in (mounts or {}).items():
        if (failure := failure_of(message)) is not None:
            found.setdefault(failure, []).append(name)
    for pod in pods:
        status = pod.get("status") or {}
        for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
            waiting = (container.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") != "CreateContainerConfigError":
                continue
            failure = failure_of(str(waiting.get("message") or ""))
            if failure is not None:
                found.setdefault(failure, []).append(str(meta(pod).name))
    return found


def asks_for(template: dict[str, Any], failure: ConfigFailure) -> str | None:
    """How a pod of `template` reads what `failure` says is missing: "same" (it needs it: a key reference, or any
    reference to a missing object, not optional), "whole" (it reads the object whole, envFrom or a volume, and starts
    without the key: whether the app works without it is not known), None (not at all, or optionally)."""
    spec = template.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    kind = "configMap" if failure.kind == "ConfigMap" else "secret"
    whole = False
    for container in containers:
        for variable in container.get("env") or []:
            ref = (variable.get("valueFrom") or {}).get(f"{kind}KeyRef") or {}
            if ref.get("name") == failure.name and not ref.get("optional"):
                if failure.key is None or ref.get("key") == failure.key:
                    return "same"
        for env_from in container.get("envFrom") or []:
            ref = env_from.get(f"{kind}Ref") or {}
            whole = whole or (ref.get("name") == failure.name and not ref.get("optional"))
    for volume in spec.get("volumes") or []:
        sources = [volume, *((volume.get("projected") or {}).get("sources") or [])]
        for ref in (source.get(kind) or {} for source in sources):
            if (ref.get("secretName") or ref.get("name")) != failure.name or ref.get("optional"):
                continue
            keys = {item.get("key") for item in ref.get("items") or []}
            if failure.key is None or failure.key in keys:
                return "same"
            whole = whole or not keys  # listed items other than the key: it does not read it
    if whole and failure.key is None:
        return "same"  # envFrom of a missing object, not optional: the container cannot be created either
    return "whole" if whole else None


@dataclass(frozen=True)
class SharedFailure:
    status: str  # "warning": its pods fail the same way; "not_visible": they start without the key
    detail: str
    evidence: list[str]
    questions: list[str]
    brief: str = ""  # a plan's warning in a line (tools/core/plan_warnings.py); empty: the detail


def shared_failure(
    pods: list[dict[str, Any]], target: dict[str, Any], number: int | None, mounts: dict[str, str] | None = None
) -> SharedFailure | None:
    """What to say when pods fail on a ConfigMap/Secret that revision `number`'s template (`target`) reads; None when
    no pod fails so or the target does not read it. `mounts`: mount_failures."""
    read = [(f, names, how) for f, names in config_failures(pods, mounts).items() if (how := asks_for(target, f))]
    if not read:
        return shared_pull_failure(pods, target, number, mounts)
    failure, _, how = min(read, key=lambda r: r[2] != "same")
    what = f"key {failure.key} of {failure.kind} {failure.name}" if failure.key else f"{failure.kind} {failure.name}"
    evidence = [f"{', '.join(sorted(n)[:MAX_PODS_NAMED])}: {f.message}" for f, n, _ in read]
    if how == "whole":
        detail = (
            f"pods fail on {what}; revision {number}'s pods read {failure.kind} {failure.name} whole and would start "
            "without that key: whether that version works without it is not known here"
        )
        return SharedFailure("not_visible", detail, evidence, [f"Does revision {number} work without {what}?"])
    source = "source control" + (" or where the Secret is kept" if failure.kind == "Secret" else "")
    detail = (
        f"revision {number}'s pods read {what} too, which pods fail on now: restore it (from {source}) {INSTEAD}: "
        "they would fail too and replace the running ones"
    )
    brief = f"revision {number} reads {what} too, failing now: restore it, do not roll back"
    return SharedFailure("warning", detail, evidence, [], brief)


def restores_instead(detail: str) -> bool:
    """Whether a config check's warning is a shared failure's (restore the object, do not roll back), not a
    ConfigMap changed since the target began (restore it first, then roll back)."""
    return INSTEAD in detail


def shared_pull_failure(
    pods: list[dict[str, Any]], target: dict[str, Any], number: int | None, mounts: dict[str, str] | None
) -> SharedFailure | None:
    """Pods whose registry refuses their credentials (a pull Secret missing or wrong, pull_failures), when revision
    `number` (`target`) pulls from that registry with no credentials the failing pods lack: a rollback keeps them, so
    its new pods are refused too wherever a node does not hold their image already. None when the rollback changes
    the registry or the pull Secrets (it may be the fix), or no pull was refused."""
    spec = target.get("spec") or {}
    images = [str(c.get("image")) for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]]
    wanted = set(pull_secrets(target))
    by_name = {str(meta(p).name): p for p in pods}
    shared: list[tuple[str, PullRefusal, str]] = []
    for name, message in (mounts or {}).items():
        refusal = from_text(message)
        pod = by_name.get(name)
        same = [i for i in images if registry_of(i) == refusal.registry] if refusal is not None else []
        if refusal is not None and pod is not None and same and wanted <= set(pull_secrets(pod)):
            shared.append((name, refusal, same[0]))
    if not shared:
        return None
    _, refusal, image = shared[0]
    if refusal.missing:
        fix = f"restore Secret {', '.join(refusal.missing)} (the pull secret, from where registry credentials are kept)"
    elif wanted:
        fix = f"renew the registry credentials in Secret {', '.join(sorted(wanted))}"
    else:
        fix = (
            f"give the pods a pull Secret for {refusal.registry} (in their imagePullSecrets, or their "
            "ServiceAccount's, which new pods listing none take)"
        )
    detail = (
        f"{refusal.registry} refuses the pods' registry credentials ({refusal.answer}), not the release: {fix} "
        f"{INSTEAD}: revision {number} pulls {image} from it with the same credentials, so its new pods are refused "
        "too wherever a node does not hold that image already"
    )
    evidence = [f"{', '.join(sorted(n for n, r, _ in shared if r == refusal)[:MAX_PODS_NAMED])}: {refusal.text()}"]
    brief = (
        f"{refusal.registry} refuses the pull credentials ({refusal.answer}) revision {number} uses too: {fix}, "
        "do not roll back"
    )
    return SharedFailure("warning", detail, evidence, [], brief)
