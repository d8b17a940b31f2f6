"""ingress-nginx canaries: an Ingress annotated `nginx.ingress.kubernetes.io/canary: "true"` takes a share of the
requests its host's main Ingress gets, `canary-weight` out of `canary-weight-total` (default 100), and sends them to
its own backend Services. Weight 100 sends every request there. While the canary's Service has no ready endpoint,
ingress-nginx keeps its share on the main backend (its balancer drops a backend with no endpoints); the weight stays,
so the canary's first Ready pod takes the whole share again: a canary is pulled by its weight, not only its replicas.

Pure: what an Ingress says, the `kubectl annotate` that sets its weight, and its change for the change list.

Layer: tools.k8s.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.core import commands
from incident_response.tools.k8s import labels
from incident_response.tools.k8s.backends import service_selector
from incident_response.tools.k8s.last_change import last_change
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RECENT_ROLLOUT_SECONDS

PREFIX = "nginx.ingress.kubernetes.io/"
CANARY = PREFIX + "canary"
WEIGHT = PREFIX + "canary-weight"
TOTAL = PREFIX + "canary-weight-total"


@dataclass(frozen=True)
class Split:
    """One canary Ingress: its name, hosts, backend Services and weight (of total)."""

    ingress: str
    hosts: tuple[str, ...]
    services: tuple[str, ...]
    weight: int
    total: int
    raw: str  # the weight annotation as written (what the plan's guard tests)
    uid: str | None = None

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.weight / self.total)) if self.total > 0 else 0

    def share(self) -> str:
        """'every request for shop.example.com', '20% of the requests for shop.example.com'."""
        hosts = ", ".join(self.hosts[:3]) or "every host"
        if self.percent >= 100:
            return f"every request for {hosts}"
        return f"{self.percent}% of the requests for {hosts}" if self.weight > 0 else f"no request for {hosts}"


def number(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def rule_services(rule: dict[str, Any]) -> list[str]:
    """The backend Services of one Ingress rule's paths."""
    return [
        str(name)
        for path in ((rule or {}).get("http") or {}).get("paths") or []
        if (name := (((path or {}).get("backend") or {}).get("service") or {}).get("name"))
    ]


def split_of(ingress: dict[str, Any]) -> Split | None:
    """The Ingress as a canary, or None when it is not one (ingress-nginx reads canary "true" only)."""
    notes = meta(ingress).annotations
    if str(notes.get(CANARY, "")).strip().lower() != "true":
        return None
    rules = (ingress.get("spec") or {}).get("rules") or []
    services = [name for rule in rules for name in rule_services(rule)]
    default = (((ingress.get("spec") or {}).get("defaultBackend") or {}).get("service") or {}).get("name")
    if default:
        services.append(str(default))
    raw = str(notes.get(WEIGHT, "0"))
    return Split(
        ingress=str(meta(ingress).name),
        hosts=tuple(dict.fromkeys(str(r.get("host")) for r in rules if (r or {}).get("host"))),
        services=tuple(dict.fromkeys(services)),
        weight=max(0, number(raw, 0)),
        total=number(notes.get(TOTAL, "100"), 100),
        raw=raw,
        uid=meta(ingress).uid,
    )


class Backends:
    """Which Services select pods with given labels."""

    def __init__(self, services: list[dict[str, Any]]) -> None:
        self.by_name = {str(meta(s).name): s for s in services}

    def selects(self, service: str, pod_labels: dict[str, str]) -> bool:
        if service not in self.by_name:
            return False
        selector = service_selector(self.by_name[service])
        return bool(selector) and labels.matches(selector, pod_labels)


def serving(
    ingresses: list[dict[str, Any]], services: list[dict[str, Any]], pod_labels: dict[str, str]
) -> list[tuple[Split, str]]:
    """(canary Ingress with weight above 0, its backend Service) for each whose Service selects pods with these
    labels: the Ingresses whose share of requests those pods take."""
    found = []
    backends = Backends(services)
    for split in filter(None, map(split_of, ingresses)):
        service = next((s for s in split.services if backends.selects(s, pod_labels)), None)
        if split.weight > 0 and service is not None:
            found.append((split, service))
    return found


def pair_split(
    ingresses: list[dict[str, Any]],
    services: list[dict[str, Any]],
    canary_labels: dict[str, str],
    stable_labels: dict[str, str],
) -> tuple[Split, str] | None:
    """(the canary Ingress, its Service) splitting a host between two Deployments: its backend selects the canary's
    pods, and the same host's main (non-canary) Ingress sends the rest to a Service selecting the stable's."""
    backends = Backends(services)
    main_hosts = {
        str(rule.get("host"))
        for ingress in ingresses
        if split_of(ingress) is None
        for rule in (ingress.get("spec") or {}).get("rules") or []
        if (rule or {}).get("host") and any(backends.selects(s, stable_labels) for s in rule_services(rule))
    }
    for split in filter(None, map(split_of, ingresses)):
        service = next((s for s in split.services if backends.selects(s, canary_labels)), None)
        if service is not None and set(split.hosts) & main_hosts:
            return split, service
    return None


def ingress_pairs(
    ingresses: list[dict[str, Any]], services: list[dict[str, Any]], pod_labels: dict[str, dict[str, str]]
) -> list[tuple[str, str, str, Split, str]]:
    """(app = the main Ingress's Service, canary Deployment, stable Deployment, the canary Ingress, its Service) for
    each host an nginx canary Ingress splits between two Deployments whatever their names: the one its Service
    selects (alone) is the canary, the one the host's main Ingress's Service selects (alone) the stable.
    `pod_labels`: Deployment name -> its pod template's labels."""
    backends = Backends(services)

    def only(service: str) -> str | None:
        chosen = [name for name, tags in pod_labels.items() if backends.selects(service, tags)]
        return chosen[0] if len(chosen) == 1 else None

    found: dict[tuple[str, str], tuple[str, str, str, Split, str]] = {}
    for split in filter(None, map(split_of, ingresses)):
        canary_service = next((s for s in split.services if only(s)), None)
        if canary_service is None:
            continue
        for ingress in ingresses:
            if split_of(ingress) is not None:
                continue
            for rule in (ingress.get("spec") or {}).get("rules") or []:
                if str((rule or {}).get("host") or "") not in split.hosts:
                    continue
                for service in rule_services(rule):
                    canary, stable = only(canary_service), only(service)
                    if canary and stable and canary != stable:
                        found.setdefault((canary, stable), (service, canary, stable, split, canary_service))
    return list(found.values())


def primary_for(
    ingresses: list[dict[str, Any]], services: list[dict[str, Any]], pod_labels: dict[str, str]
) -> list[tuple[str, str, Split]]:
    """(main Ingress, its Service, a canary Ingress of the same host) where these pods are the main backend: with no
    ready endpoint there, ingress-nginx answers 503 for the whole host, the canary's share included (its balancer
    picks the canary only from the main backend's balancer, which a backend with no endpoints does not have)."""
    backends = Backends(services)
    splits = [split for split in map(split_of, ingresses) if split is not None]
    found = []
    for ingress in ingresses:
        if split_of(ingress) is not None:
            continue
        for rule in (ingress.get("spec") or {}).get("rules") or []:
            host = str((rule or {}).get("host") or "")
            service = next((s for s in rule_services(rule) if backends.selects(s, pod_labels)), None)
            canary = next((c for c in splits if host and host in c.hosts), None)
            if service is not None and canary is not None:
                found.append((str(meta(ingress).name), service, canary))
    return found


def annotate_command(ingress: str, weight: str, namespace: str, context: str | None) -> str:
    """`kubectl annotate ingress NAME nginx.ingress.kubernetes.io/canary-weight=W --overwrite -n NS --context C`."""
    argv = commands.kubectl_argv(
        ["annotate", "ingress", ingress, f"{WEIGHT}={weight}", "--overwrite"], namespace=namespace, context=context
    )
    return shlex.join(argv)


def weight_edit(ingress: dict[str, Any], now: datetime) -> tuple[Split, datetime, str | None, bool] | None:
    """(the split, when, by which manager, created) when the canary's weight or canary annotation was written in the
    last 2 hours (managedFields: the manager owning the annotation, its last write's time)."""
    split = split_of(ingress)
    if split is None:
        return None
    edits = [last_change(ingress, owning=("metadata", "annotations", key)) for key in (WEIGHT, CANARY)]
    known = [e for e in edits if e is not None]
    if not known:
        return None
    newest = max(known, key=lambda e: e.at)
    if (now - newest.at).total_seconds() > RECENT_ROLLOUT_SECONDS:
        return None
    return split, newest.at, newest.manager, newest.created


def routed_text(split: Split, service: str | None = None) -> str:
    """'every request for shop.example.com goes to Service web-canary'."""
    to = service or ", ".join(split.services[:3]) or "its backend"
    verb = "goes" if split.percent >= 100 or split.weight <= 0 else "go"
    return f"{split.share()} {verb} to Service {to}"


def split_text(split: Split, service: str) -> str:
    """'Ingress web-canary (nginx canary, weight 100) sends every request for shop.example.com to Service
    web-canary'."""
    return f"Ingress {split.ingress} (nginx canary, weight {split.raw}) sends {split.share()} to Service {service}"


def idle_text(split: Split) -> str:
    """The share a canary's weight names while none of its Services has a ready endpoint: kept on the main backend."""
    services = ", ".join(split.services[:3]) or "its backend"
    return (
        f"but Service {services} has no ready endpoint: ingress-nginx keeps {split.share()} on the main backend, "
        "until a canary pod is Ready"
    )
