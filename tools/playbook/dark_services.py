"""A Service with no ready endpoint whose own pods are not failing: the outage is the Service itself.

Two shapes, both made by a change rather than by a failing pod, so the pod-based rules never see them:
  scaled to zero  the deployment behind it was scaled to 0 (by hand: ScalingReplicaSet events keep the count it had)
                  -> scale_deployment back to that count;
  selects no pod  its selector matches no pod and no deployment's template, while a deployment with the Service's
                  name (or labels one value away from the selector) runs Ready pods: a selector edited wrong
                  -> patch_service_selector to that deployment's labels.
  relabelled      its selector matches no pod since a deploy of the last 2 hours changed the pod labels it selects
                  (an earlier revision's pods matched it) -> rollback_deployment to that revision.
  names no port   its pods are Ready but none defines the port its targetPort names (a deploy renamed the container
                  port): no pod is an endpoint -> rollback_deployment to the revision whose pods define it.
  wrong port      its ports were edited in the window to a numeric targetPort no container of its Ready pods
                  declares: every pod is an endpoint at a port nothing listens on -> the human puts it back (no tool
                  patches a Service's ports; the kubectl command is named).
A Service left at no endpoint for long with no change to show for it (a feature switched off, a stale Service) is
not flagged. Without a fitting tool the decision is INVESTIGATE, naming the change.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from incident_response.tools.k8s import labels
from incident_response.tools.k8s.backends import ready, terminating
from incident_response.tools.k8s.changes import Change, recent
from incident_response.tools.k8s.label_index import LabelIndex
from incident_response.tools.k8s.last_change import last_change
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RECENT_ROLLOUT_SECONDS, owned_by, revision_of, rollout_time
from incident_response.tools.playbook.decision import Decision
from incident_response.tools.playbook.scale_back import scale_back

SCALED_TO_ZERO = "service without endpoints: scaled to zero"
SELECTS_NO_POD = "service without endpoints: selector matches no pod"
NAMES_NO_PORT = "service without endpoints: targetPort names no port of its pods"
RELABELLED = "service without endpoints: a deploy changed the labels it selects"
WRONG_PORT = "service edited to a port its pods do not declare"
RULES = (SCALED_TO_ZERO, SELECTS_NO_POD, RELABELLED, NAMES_NO_PORT, WRONG_PORT)
TYPO_RATIO = 0.8  # inventroy/inventory 0.89, paymnts/payments 0.93, web/api 0.0, orders-api/orders-web 0.7


@dataclass
class DarkService:
    service: str
    components: list[str]
    detail: str  # what users see
    decision: Decision


def template_labels(deploy: dict[str, Any]) -> dict[str, str]:
    return dict(meta((deploy.get("spec") or {}).get("template") or {}).labels)


def near(selector: dict[str, str], pod_labels: dict[str, str]) -> bool:
    """Every key of the selector is among the labels and at most one value differs, by a typo (a few characters
    swapped, dropped or added), never by being another app's value: app=paymnts is near app=payments, app=checkout
    is not (pointing a Service at another app's pods would send its users there)."""
    if not selector or not set(selector) <= set(pod_labels):
        return False
    differing = [(v, pod_labels[k]) for k, v in selector.items() if pod_labels[k] != v]
    return not differing or (len(differing) == 1 and typo(*differing[0]))


def typo(a: str, b: str) -> bool:
    return SequenceMatcher(None, a, b).ratio() >= TYPO_RATIO


def dark_services(
    namespace: str,
    services: list[dict[str, Any]],
    deployments: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    changes: list[Change],
    now: datetime,
    warned: set[str] | None = None,
    replicasets: list[dict[str, Any]] | None = None,
) -> list[DarkService]:
    """`warned`: pods with Warning events of the last hour (a deployment whose pods failed before it was scaled to 0
    may have been taken offline on purpose: its scale back is asked about, not proposed). `replicasets`: the
    namespace's, to find the revision whose pods defined a port the Service names."""
    index = LabelIndex([p for p in pods if not terminating(p)])  # pods on their way out serve nothing
    changes = [c for c in changes if not c.ours]  # a mitigation of ours (a canary pulled to 0) is not undone here
    found = []
    for service in services:
        selector = {str(k): str(v) for k, v in ((service.get("spec") or {}).get("selector") or {}).items()}
        if not selector:
            continue  # no selector: endpoints managed by hand
        name = str(meta(service).name)
        if selected := index.matching(labels.from_map(selector)):
            # Pods behind it: the pod-based rules judge failing ones; Ready pods that define none of its ports serve
            # nothing, and no pod rule sees that.
            behind = [d for d in deployments if labels.matches(labels.from_map(selector), template_labels(d))]
            unresolved = names_no_port(namespace, name, service, selected, behind, replicasets or [])
            unresolved = unresolved or wrong_port(namespace, name, service, selected, now)
            if unresolved is not None:
                found.append(unresolved)
            continue
        selector_change = next((c for c in changes if (c.kind, c.name) == ("Service", name)), None)
        behind = [d for d in deployments if labels.matches(labels.from_map(selector), template_labels(d))]
        if behind:
            entry = scaled_to_zero(namespace, name, behind, changes, now, warned or set(), replicasets or [])
        else:
            others = [x for x in services if x is not service]
            entry = None
            if not selector_change:
                entry = relabelled(namespace, name, selector, deployments, replicasets, now, others)
            entry = entry or selects_no_pod(namespace, name, selector, deployments, selector_change, now)
        if entry is not None:
            found.append(entry)
    return found


def scaled_to_zero(
    namespace: str,
    service: str,
    behind: list[dict[str, Any]],
    changes: list[Change],
    now: datetime,
    warned: set[str],
    replicasets: list[dict[str, Any]],
) -> DarkService | None:
    zero = [d for d in behind if not int((d.get("spec") or {}).get("replicas") or 0)]
    if not zero:
        return None  # replicas wanted, no pod created: the unavailable-replicas rule reads why
    deploy = str(meta(zero[0]).name)
    change = next((c for c in changes if (c.kind, c.name) == ("Deployment", deploy) and c.after == 0), None)
    if change is None:
        return None  # at zero since before the window: switched off on purpose, not this incident
    detail = f"service {service} has no endpoint: deployment {deploy} was {change.what} {change.ago(now)} ago"
    evidence = [change.text(now), f"service {service} selects deployment {deploy}'s pods, and it runs none"]
    # Its pods are DEPLOYMENT-HASH-SUFFIX (not another deployment's whose name starts the same: inventory-db-...).
    failed = sorted(p for p in warned if p.startswith(f"{deploy}-") and p[len(deploy) + 1 :].count("-") == 1)
    if failed:
        evidence.append(f"its pods had Warning events before: {', '.join(failed[:3])}")
    back = scale_back(zero[0], replicasets, change)
    if back is not None and not failed:
        decision = Decision(
            primary_action="SCALE",
            rule=SCALED_TO_ZERO,
            target=f"deployment/{deploy}",
            reason=f"{detail}: scale it back to {back.text()}",
            evidence=evidence,
            next_tool="scale_deployment",
            next_arguments={"namespace": namespace, "deployment": deploy, "replicas": back.replicas},
        )
    else:
        decision = Decision(
            primary_action="INVESTIGATE",
            rule=SCALED_TO_ZERO,
            target=f"deployment/{deploy}",
            reason=f"{detail}"
            + (
                ": its pods failed before (Warning events), so it may have been taken offline on purpose: ask who "
                f"scaled it and why before scaling it back (scale_deployment, {change.before} replicas before)"
                if failed
                else ", from a count the events no longer show: ask its owners how many replicas it runs, then "
                "scale_deployment; its ScalingReplicaSet events say when"
            ),
            evidence=evidence,
            next_tool="list_events",
            next_arguments={"namespace": namespace, "object": f"deployment/{deploy}"},
        )
    return DarkService(service, [deploy], detail, decision)


def selects_no_pod(
    namespace: str,
    service: str,
    selector: dict[str, str],
    deployments: list[dict[str, Any]],
    change: Change | None,
    now: datetime,
) -> DarkService | None:
    wanted = [d for d in deployments if int((d.get("spec") or {}).get("replicas") or 0)]
    named = [d for d in wanted if meta(d).name == service and set(selector) <= set(template_labels(d))]
    close = named or [d for d in wanted if near(selector, template_labels(d))]
    serving = [d for d in close if int((d.get("status") or {}).get("readyReplicas") or 0)]
    shown = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    by = f" by {change.manager}" if change and change.manager else ""
    when = f" (the Service updated {change.ago(now)} ago{by})" if change else ""
    if len(serving) == 1:
        deploy = serving[0]
        name = str(meta(deploy).name)
        own = template_labels(deploy)
        fixed = ",".join(f"{k}={own[k]}" for k in sorted(selector))
        detail = (
            f"service {service} selects no pod: its selector {shown}{when} matches none; deployment {name}'s "
            f"pods are {fixed}"
        )
        ready_count = int((deploy.get("status") or {}).get("readyReplicas") or 0)
        decision = Decision(
            primary_action="ROLLBACK",
            rule=SELECTS_NO_POD,
            target=f"service/{service}",
            reason=f"{detail} and {ready_count} of them are Ready: point the Service back at them",
            evidence=[change.text(now)] if change else [f"service {service}: selector {shown}, no pod matches it"],
            next_tool="patch_service_selector",
            next_arguments={"namespace": namespace, "service": service, "selector": fixed},
        )
        return DarkService(service, [name], detail, decision)
    if change is None:
        return None  # no pod and no change to blame: a stale Service, not this incident
    detail = f"service {service} selects no pod: its selector {shown}{when} matches none"
    decision = Decision(
        primary_action="INVESTIGATE",
        rule=SELECTS_NO_POD,
        target=f"service/{service}",
        reason=f"{detail}, and no deployment's pods are one label away from it: find which pods it should select "
        "(its owners, source control), then patch_service_selector",
        evidence=[change.text(now)],
        next_tool="get_endpoints",
        next_arguments={"namespace": namespace, "service": service},
    )
    return DarkService(service, [], detail, decision)


def relabelled(
    namespace: str,
    service: str,
    selector: dict[str, str],
    deployments: list[dict[str, Any]],
    replicasets: list[dict[str, Any]] | None,
    now: datetime,
    others: list[dict[str, Any]] | None = None,
) -> DarkService | None:
    """The Service (not edited in the window) selects no pod because a deployment's rollout of the last 2 hours gave
    its pods other labels (a chart refactor dropping `app`): an earlier revision's pods matched the selector, the
    current revision's Ready pods do not. Undoing the deploy brings the labels back. Not when `others` (the
    namespace's other Services) select the new labels: the pods may have been moved to another Service on purpose,
    and a rollback would take them from it."""
    wanted = labels.from_map(selector)
    shown = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    for deploy in deployments:
        if not int((deploy.get("status") or {}).get("readyReplicas") or 0):
            continue  # nothing Ready to point at: the pod-based rules judge it
        owned = [rs for rs in replicasets or [] if owned_by(rs, deploy)]
        when = rollout_time(deploy, owned)
        if when is None or (now - when).total_seconds() > RECENT_ROLLOUT_SECONDS:
            continue
        current = revision_of(deploy)
        matched = [
            r
            for rs in owned
            if (r := revision_of(rs)) is not None and r != current and labels.matches(wanted, template_labels(rs))
        ]
        if not matched or any(selects(other, template_labels(deploy)) for other in others or []):
            continue
        name, earlier = str(meta(deploy).name), max(matched)
        ago = Change("Deployment", name, "rolled out", when).ago(now)
        detail = (
            f"service {service} selects no pod: its selector {shown} matched revision {earlier} of deployment {name}, "
            f"but revision {current}, rolled out {ago} ago, gave its pods other labels "
            f"({', '.join(f'{k}={v}' for k, v in sorted(labels_without_hash(deploy).items()))})"
        )
        return DarkService(
            service,
            [name],
            detail,
            Decision(
                primary_action="ROLLBACK",
                rule=RELABELLED,
                target=f"deployment/{name}",
                reason=f"{detail}: roll {name} back to revision {earlier} (or point the Service at the new labels: "
                f"patch_service_selector)",
                evidence=[detail],
                next_tool="rollback_deployment",
                next_arguments={"namespace": namespace, "deployment": name, "to_revision": earlier},
            ),
        )
    return None


def selects(service: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    selector = {str(k): str(v) for k, v in ((service.get("spec") or {}).get("selector") or {}).items()}
    return bool(selector) and labels.matches(labels.from_map(selector), pod_labels)


def labels_without_hash(deploy: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in template_labels(deploy).items() if k != "pod-template-hash"}


def port_names(template_or_pod: dict[str, Any]) -> set[str]:
    spec = template_or_pod.get("spec") or {}
    return {str(p["name"]) for c in spec.get("containers") or [] for p in c.get("ports") or [] if p.get("name")}


def names_no_port(
    namespace: str,
    service: str,
    body: dict[str, Any],
    selected: list[dict[str, Any]],
    behind: list[dict[str, Any]],
    replicasets: list[dict[str, Any]],
) -> DarkService | None:
    """Every port of the Service names a targetPort (a number always resolves) and none of its Ready pods defines
    any of those names: upstream leaves every pod out of its endpoints."""
    targets = [p.get("targetPort") for p in (body.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
    if not targets or not all(isinstance(t, str) and not t.isdigit() for t in targets):
        return None
    serving = [p for p in selected if ready(p)]
    if not serving or any(port_names(p) & set(map(str, targets)) for p in selected):
        return None  # no Ready pod (the pod-based rules judge them), or some pod resolves a port
    wanted = ", ".join(sorted(set(map(str, targets))))
    defined = ", ".join(sorted(set().union(*(port_names(p) for p in serving)))) or "no named port"
    deploy = str(meta(behind[0]).name) if len(behind) == 1 else None
    whose = f"deployment {deploy}'s" if deploy else "its"
    detail = (
        f"service {service} sends traffic nowhere: its targetPort {wanted} names no port of its {len(serving)} "
        f"Ready pods ({whose} pods define {defined})"
    )
    earlier = defining_revision(behind[0], replicasets, set(map(str, targets))) if deploy else None
    if deploy and earlier is not None:
        reason = (
            f"{detail}; revision {earlier} of {deploy} defined {wanted}: roll back to it (or set the Service's "
            f"targetPort to a port the pods define: kubectl patch service {service}; no tool here plans that)"
        )
        decision = Decision(
            primary_action="ROLLBACK",
            rule=NAMES_NO_PORT,
            target=f"deployment/{deploy}",
            reason=reason,
            evidence=[detail],
            next_tool="rollback_deployment",
            next_arguments={"namespace": namespace, "deployment": deploy, "to_revision": earlier},
        )
    else:
        decision = Decision(
            primary_action="INVESTIGATE",
            rule=NAMES_NO_PORT,
            target=f"service/{service}",
            reason=f"{detail}: set the Service's targetPort to a port its pods define, or give the pods that port "
            f"(kubectl patch service {service}; no tool here plans it)",
            evidence=[detail],
            next_tool="get_endpoints",
            next_arguments={"namespace": namespace, "service": service},
        )
    return DarkService(service, [deploy] if deploy else [], detail, decision)


def defining_revision(deploy: dict[str, Any], replicasets: list[dict[str, Any]], wanted: set[str]) -> int | None:
    """The newest earlier revision of the deployment whose pod template defines one of the `wanted` port names."""
    current = revision_of(deploy)
    found = []
    for rs in replicasets:
        revision = revision_of(rs)
        if not owned_by(rs, deploy) or revision is None or revision == current:
            continue
        if port_names((rs.get("spec") or {}).get("template") or {}) & wanted:
            found.append(revision)
    return max(found) if found else None


def declared_ports(pod: dict[str, Any]) -> dict[int, str]:
    """containerPort -> its name ("" unnamed), over the pod's containers."""
    spec = pod.get("spec") or {}
    return {
        int(p["containerPort"]): str(p.get("name") or "")
        for c in spec.get("containers") or []
        for p in c.get("ports") or []
        if isinstance(p.get("containerPort"), int)
    }


def wrong_port(
    namespace: str, service: str, body: dict[str, Any], selected: list[dict[str, Any]], now: datetime
) -> DarkService | None:
    """Its ports edited in the window so that a numeric targetPort is none its Ready pods declare (they declare
    some): the pods stay endpoints at a port nothing listens on. Declared ports are informational, so only a recent
    edit of the Service's ports makes it a suspect."""
    serving = [p for p in selected if ready(p)]
    declared: dict[int, str] = {}
    for pod in serving:
        declared.update(declared_ports(pod))
    if not serving or not declared:
        return None
    ports = [p for p in (body.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
    wrong = [
        (i, p)
        for i, p in enumerate(ports)
        if isinstance(p.get("targetPort", p.get("port")), int) and p.get("targetPort", p.get("port")) not in declared
    ]
    edit = last_change(body, owning=("spec", "ports"))
    if not wrong or edit is None or edit.created or not recent(edit, now):
        return None
    index, port = wrong[0]
    target = port.get("targetPort", port.get("port"))
    listed = ", ".join(f"{n}" + (f" ({name})" if name else "") for n, name in sorted(declared.items()))
    by = f" by {edit.manager}" if edit.manager else ""
    ago = Change("Service", service, "ports edited", edit.at, edit.manager).ago(now)
    detail = (
        f"service {service} sends traffic to port {target}, which no container of its {len(serving)} Ready pods "
        f"declares (they declare {listed}); its ports were edited {ago} ago{by}"
    )
    fix = next(iter(sorted(declared))) if len(declared) == 1 else None
    command = (
        f"kubectl patch service {service} -n {namespace} --type=json -p "
        f'\'[{{"op":"replace","path":"/spec/ports/{index}/targetPort","value":{fix}}}]\''
        if fix is not None
        else f"kubectl edit service {service} -n {namespace}"
    )
    decision = Decision(
        primary_action="ROLLBACK",
        rule=WRONG_PORT,
        target=f"service/{service}",
        reason=f"{detail}: every connection to it is refused while its pods look healthy. Put the targetPort back "
        f"(the human runs: {command}); no tool here plans it",
        evidence=[detail],
        next_tool=None,
        next_arguments={},
    )
    return DarkService(service, [], detail, decision)
