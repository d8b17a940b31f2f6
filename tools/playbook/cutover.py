"""A blue/green cut-over gone wrong (review-assist F23): an Ingress whose backend was set in the last 2 hours now
sends its path to a Service none of whose pods is Ready, while the other colour's Service (its name one word away:
shop-blue / shop-green, or its selector one label value away) has Ready pods. The outage is the cut-over itself,
and the SRE's move is to switch the Ingress back (switch_ingress_backend), not to scale or debug the new pods first.
With no Ready counterpart, INVESTIGATE naming the Ingress change.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.k8s import labels
from incident_response.tools.k8s.backends import ready
from incident_response.tools.k8s.changes import Change, ingress_backends
from incident_response.tools.k8s.label_index import LabelIndex
from incident_response.tools.k8s.nginx_canary import split_of
from incident_response.tools.k8s.views import meta
from incident_response.tools.playbook.decision import Decision

RULE = "ingress cut over to a failing backend"


@dataclass
class Cutover:
    ingress: str
    components: list[str]
    detail: str  # what users see
    decision: Decision


def selector_of(service: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((service.get("spec") or {}).get("selector") or {}).items()}


def counterpart(a: str, sel_a: dict[str, str], b: str, sel_b: dict[str, str]) -> bool:
    """Two Services that may be one app in two colours or versions: names equal but for their last word, or
    selectors with the same keys and one value different (shop-api and shop-web pass too: `same_app` tells)."""
    same_stem = "-" in a and "-" in b and a.rsplit("-", 1)[0] == b.rsplit("-", 1)[0]
    one_value = bool(sel_a) and sel_a.keys() == sel_b.keys() and sum(sel_a[k] != sel_b[k] for k in sel_a) == 1
    return same_stem or one_value


def images(pods: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(container, image repository) of the pods: two colours of one app change the tag, never the repository."""
    found = set()
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or []:
            image = str(container.get("image") or "").split("@", 1)[0]
            repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
            found.add((str(container.get("name")), repository))
    return found


def cutovers(
    namespace: str,
    ingresses: list[dict[str, Any]],
    services: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    components: dict[str, str],
    changes: list[Change],
    now: datetime,
) -> list[Cutover]:
    # Switched, not created: a new Ingress has no backend to go back to.
    changed = {c.name: c for c in changes if c.kind == "Ingress" and not c.ours and not c.what.startswith("created")}
    if not changed:
        return []
    index = LabelIndex(pods)
    by_name = {str(meta(s).name): s for s in services}

    def behind(name: str) -> list[dict[str, Any]]:
        selector = selector_of(by_name[name])
        return index.matching(labels.from_map(selector)) if selector else []

    found = []
    for ingress in ingresses:
        name = str(meta(ingress).name)
        if name not in changed or split_of(ingress) is not None:
            continue  # an nginx canary's backend takes only its weight's share: not a cut-over (rollback_canary)
        for rule, path, service in ingress_backends(ingress):
            if service not in by_name:
                continue
            pods_now = behind(service)
            if any(ready(p) for p in pods_now):
                continue
            running = images(pods_now)
            serving = [
                other
                for other in sorted(by_name)
                if other != service
                and counterpart(service, selector_of(by_name[service]), other, selector_of(by_name[other]))
                and any(ready(p) for p in behind(other))
                and (not running or images(behind(other)) == running)  # the same app, another version
            ]
            owners = sorted({components.get(str(meta(p).name), str(meta(p).name)) for p in pods_now})
            detail = (
                f"ingress {name} sends its traffic to service {service}, which has no ready pod ({len(pods_now)} "
                f"selected), since {changed[name].text(now)}"
            )
            evidence = [changed[name].text(now), f"service {service}: 0 of {len(pods_now)} pods Ready"]
            if len(serving) == 1:
                back = serving[0]
                ready_back = sum(ready(p) for p in behind(back))
                evidence.append(f"service {back}: {ready_back} pods Ready")
                decision = Decision(
                    primary_action="ROLLBACK",
                    rule=RULE,
                    target=f"ingress/{name}",
                    reason=f"{detail}, while service {back} has {ready_back} Ready pods: switch the ingress back to "
                    f"{back} (the blue/green rollback), then find why {service}'s pods fail",
                    evidence=evidence,
                    next_tool="switch_ingress_backend",
                    next_arguments={
                        "namespace": namespace,
                        "ingress": name,
                        "service": back,
                        "rule": rule,
                        "path": path,
                    },
                )
            else:
                decision = Decision(
                    primary_action="INVESTIGATE",
                    rule=RULE,
                    target=f"ingress/{name}",
                    reason=f"{detail}; no other service of the same app has Ready pods to switch back to"
                    if not serving
                    else f"{detail}; services {', '.join(serving)} have Ready pods: ask which one it served before, "
                    "then switch_ingress_backend",
                    evidence=evidence,
                    next_tool="get_endpoints",
                    next_arguments={"namespace": namespace, "service": service},
                )
            found.append(Cutover(name, owners or [f"service/{service}"], detail, decision))
    return found
