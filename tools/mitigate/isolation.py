"""remove_pods_from_service and isolate_network: contain a component that is poisoning others.

Label removal is `kubectl label pods -l SELECTOR KEY-`: kubectl lists the pods, then sends one merge patch per pod
(`{"metadata":{"labels":{KEY:null}}}`); the plan holds one step per pod and shows the single command. Our patch also
carries the pod's uid: the API server refuses it (uid is immutable) when a pod recreated under that name since the
plan's check is not the pod approved, so the check is inside the write. Isolation is
the playbook's deny-all-ingress NetworkPolicy fed to `kubectl apply -f -` on stdin (a heredoc in the command).

Layer: tools.mitigate.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import commands, errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import (
    Change,
    KubeWrite,
    PlanDraft,
    Step,
    Target,
    patch_step,
    pointer,
    precondition,
    ready_floor,
)
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.args import LabelKey, SelectorText
from incident_response.tools.k8s.ingress_allowances import allowance_text, ingress_allowances
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all, without_managed_fields

POLICY_PREFIX = "incident-isolate-"
HEREDOC_MARKER = "POLICY"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ENFORCEMENT_NOTE = (
    "Only a network plugin that enforces NetworkPolicies (Calico, Cilium, ...) stops the traffic: verify it."
)

MAX_NAMED = 10  # pods named in a warning; the rest are counted


def label_command(selector: str, change: str, namespace: str, context: str | None) -> str:
    return str(commands.kubectl(["label", "pods", "-l", selector, change], namespace=namespace, context=context))


def pod_label_command(pod: str, change: str, namespace: str, context: str | None) -> str:
    return str(commands.kubectl(["label", "pod", pod, change], namespace=namespace, context=context))


def pod_label_step(
    description: str, pod: dict[str, Any], change: str, labels_patch: dict[str, Any], context: str | None, undo: str
) -> Step:
    """`kubectl label pod POD CHANGE`: one merge patch of the pod's labels, only of this pod (its uid in the patch);
    `undo` is the change that reverts it."""
    name, namespace = backends.name_of(pod), str(meta(pod).namespace)
    command = pod_label_command(name, change, namespace, context)
    uid = meta(pod).uid
    body = {"metadata": {**({"uid": uid} if uid else {}), "labels": labels_patch}}
    return patch_step(
        description,
        command,
        "pods",
        name,
        namespace,
        body,
        "merge",
        undo_command=pod_label_command(name, undo, namespace, context),
    )


def choose_key(service_keys: list[str], selector: labels.Selector, controller_keys: set[str], label: str | None) -> str:
    """Which Service-selector label to remove: the one asked for, else one no ReplicaSet selects by (no
    replacements), else one the selector names (the playbook's `-l app=x,version=bad app-`), else the first."""
    if label is not None:
        if label not in service_keys:
            raise errors.InvalidArgument(
                f"label {label!r} is not in the Service's selector ({', '.join(service_keys)}); removing it would not "
                "take the pods out of the Service"
            )
        return label
    for key in service_keys:
        if key not in controller_keys:
            return key
    named = [k for k in service_keys if k in labels.keys(selector)]
    return (named or service_keys)[0]


def replacement_warning(
    key: str, targets: list[dict[str, Any]], replicasets: list[dict[str, Any]]
) -> PlanWarning | None:
    """ReplicaSets selecting by `key` release the relabelled pods and create replacements, which join again."""
    by_uid = {str(meta(rs).uid): rs for rs in replicasets}
    counts: dict[str, int] = {}
    for pod in targets:
        ref = backends.controller_of(pod)
        rs = by_uid.get(str((ref or {}).get("uid"))) if ref and ref.get("kind") == "ReplicaSet" else None
        if rs is not None and key in labels.keys(labels.from_spec((rs.get("spec") or {}).get("selector"))):
            counts[backends.name_of(rs)] = counts.get(backends.name_of(rs), 0) + 1
    if not counts:
        return None
    listed = ", ".join(f"ReplicaSet {rs} will create {n}" for rs, n in sorted(counts.items()))
    return warning(
        "replacements",
        f"{key!r} is in the ReplicaSet selector too: {listed} replacement(s) that join the Service again; consider "
        "isolate_network, scaling the bad deployment to 0 or a rollback",
        f"Label {key!r} is also in the ReplicaSet selector: {listed} replacement pod(s) ({sum(counts.values())} in "
        f"all), carrying {key!r} from the pod template, so they join the Service again. Consider isolate_network, "
        "scaling the bad deployment to 0 or a rollback instead.",
    )


def pods_by(kube: Kube, namespace: str, selector: labels.Selector) -> list[dict[str, Any]]:
    """Every pod of the namespace the selector matches, in pages."""
    return list_all(kube, "pods", namespace, label_selector=labels.text(selector), keep=without_managed_fields).items


def plan_remove_from_service(
    kube: Kube,
    namespace: str,
    service: str,
    selector_text: str,
    *,
    label: str | None = None,
    allow_no_endpoints: bool = False,
) -> PlanDraft:
    selector = labels.parse(selector_text)
    svc = kube.get("services", service, namespace)
    svc_selector = backends.service_selector(svc)
    if not svc_selector:
        raise errors.InvalidArgument(f"service {service} has no selector; its endpoints are managed by hand")
    # The pods the selector names and the Service's pods, each read by its selector (not the whole namespace).
    selected = backends.pods_of(selector, pods_by(kube, namespace, selector))
    behind = pods_by(kube, namespace, svc_selector)
    targets = [p for p in selected if labels.matches(svc_selector, labels.labels_of(p))]
    if not targets:
        raise errors.InvalidArgument(
            f"no pod matching {selector_text!r} is behind service {service} (selector "
            f"{labels.text(svc_selector)}); nothing to remove"
        )
    replicasets = kube.list("replicasets", namespace).items
    owned_uids = {str((backends.controller_of(p) or {}).get("uid")) for p in targets}
    controller_keys = set().union(
        *(
            labels.keys(labels.from_spec((rs.get("spec") or {}).get("selector")))
            for rs in replicasets
            if str(meta(rs).uid) in owned_uids
        )
    )
    key = choose_key([r.key for r in svc_selector], selector, controller_keys, label)
    value = labels.equalities(svc_selector)[key]
    names = sorted(backends.name_of(p) for p in targets)
    before = backends.endpoints(svc_selector, behind)
    remaining = [p for p in behind if backends.name_of(p) not in names]
    after = backends.endpoints(svc_selector, remaining)
    if not after and not allow_no_endpoints:
        raise errors.InvalidArgument(
            f"removing {', '.join(names)} would leave service {service} with no ready endpoints (it has "
            f"{len(before)}: {', '.join(before) or 'none'}); the service would be down. Plan again with "
            "allow_no_endpoints=true if taking it offline is intended"
        )
    warnings = [w for w in [replacement_warning(key, targets, replicasets)] if w]
    if skipped := [backends.name_of(p) for p in selected if backends.name_of(p) not in names]:
        shown = sorted(skipped)[:MAX_NAMED]
        more = f" and {len(skipped) - len(shown)} more" if len(skipped) > len(shown) else ""
        warnings.append(
            warning(
                "not_behind",
                f"{len(skipped)} selected pod(s) are not behind service {service} and are left alone: "
                f"{', '.join(shown)}{more}.",
            )
        )
    context = kube.context
    body = {"metadata": {"labels": {key: None}}}
    for pod in names[:1]:
        kube.patch("pods", pod, body, namespace, patch_type="merge", dry_run=True)
    rest = labels.without(selector, key)
    restore_selector = labels.text((*rest, labels.Requirement(key, "!"))) if rest else None
    undo = (
        label_command(restore_selector, f"{key}={value}", namespace, context)
        if restore_selector
        else str(commands.kubectl(["label", "pods", *names, f"{key}={value}"], namespace=namespace, context=context))
    )
    diff = [Change(path=f"pod/{n}.metadata.labels.{key}", before=value, after=None) for n in names]
    diff.append(Change(path=f"service/{service} endpoints", before=before, after=after))
    return PlanDraft(
        tool="remove_pods_from_service",
        summary=f"Remove {len(names)} pod(s) from service {service} in {namespace} by removing label {key} "
        f"({', '.join(names)}); endpoints {len(before)} -> {len(after)}.",
        target=Target(kind="Service", namespace=namespace, name=service, uid=svc["metadata"].get("uid")),
        steps=[
            pod_label_step(
                f"remove label {key} from pod {backends.name_of(pod)}",
                pod,
                f"{key}-",
                {key: None},
                context,
                f"{key}={value}",
            )
            for pod in sorted(targets, key=backends.name_of)
        ],
        command_line=label_command(selector_text, f"{key}-", namespace, context),
        undo_command=undo,
        diff=diff,
        preconditions=[
            precondition(
                "services",
                svc,
                [pointer("metadata", "uid"), pointer("spec", "selector")],
                namespace=namespace,
                name=service,
            ),
            precondition(
                "pods",
                selected,
                [pointer("metadata", "name"), pointer("metadata", "uid"), pointer("metadata", "labels", key)],
                namespace=namespace,
                label_selector=selector_text,
            ),
            # The endpoints the diff promised would remain must still be there.
            *([ready_floor(namespace, labels.text(svc_selector), unless_selector=selector_text)] if after else []),
        ],
        warnings=warnings,
        temporary=True,
    )


def plan_relabel(kube: Kube, namespace: str, selector_text: str, key: str, value: str, restores: str) -> PlanDraft:
    """The restore of a label removal: put `key=value` back on the pods that still lack it."""
    pods = [p for p in kube.list("pods", namespace, label_selector=selector_text).items if not backends.terminating(p)]
    if not pods:
        raise errors.InvalidArgument(f"no pod matches {selector_text!r} any more; nothing to restore")
    context = kube.context
    names = sorted(backends.name_of(p) for p in pods)
    return PlanDraft(
        tool="restore_measure",
        summary=f"Put label {key}={value} back on {len(names)} pod(s) in {namespace}: {', '.join(names)}.",
        target=Target(kind="Pod", namespace=namespace, name=names[0]),
        steps=[
            pod_label_step(
                f"add label {key}={value} to pod {backends.name_of(pod)}",
                pod,
                f"{key}={value}",
                {key: value},
                context,
                f"{key}-",
            )
            for pod in sorted(pods, key=backends.name_of)
        ],
        command_line=label_command(selector_text, f"{key}={value}", namespace, context),
        diff=[Change(path=f"pod/{n}.metadata.labels.{key}", before=None, after=value) for n in names],
        preconditions=[
            precondition("pods", pods, [pointer("metadata", "name")], namespace=namespace, label_selector=selector_text)
        ],
        restores=restores,
    )


def remove_pods_from_service(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the service and pods.")],
    service: Annotated[str, Field(description="Service the pods should stop receiving traffic from.")],
    selector: Annotated[SelectorText, Field(description="Pods to remove, e.g. app=api,version=bad.")],
    label: Annotated[
        LabelKey | None, Field(description="Service-selector label to remove; default: one no ReplicaSet selects by.")
    ] = None,
    allow_no_endpoints: Annotated[
        bool, Field(description="Allow leaving the service with no ready endpoints (takes it offline).")
    ] = False,
) -> Proposal:
    """Plan taking pods out of a Service without deleting them (kubectl label pods -l SELECTOR KEY-), so they can
    still be debugged. Shows which endpoints disappear and remain; records the restore command as a temporary
    measure. Nothing changes until the token is confirmed with confirm_command."""
    draft = plan_remove_from_service(
        deps.kube, namespace, service, selector, label=label, allow_no_endpoints=allow_no_endpoints
    )
    return deps.propose(draft)


# --- NetworkPolicy isolation ---------------------------------------------------------------------------------------


def policy_name(selector: labels.Selector, name: str | None) -> str:
    """`incident-isolate-<name>`: the given name, else the selector's values (app=api,version=bad -> api-bad)."""
    base = name or "-".join(r.values[0] if r.op == "=" else r.key for r in selector)
    slug = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")
    return str(check_name((POLICY_PREFIX + slug)[:63].rstrip("-"), "network policy"))


def pod_selector(selector: labels.Selector) -> dict[str, Any]:
    ops = {"in": "In", "notin": "NotIn", "exists": "Exists", "!": "DoesNotExist", "!=": "NotIn"}
    out: dict[str, Any] = {}
    if match := labels.equalities(selector):
        out["matchLabels"] = match
    expressions = [
        {"key": r.key, "operator": ops[r.op], **({"values": list(r.values)} if r.values else {})}
        for r in selector
        if r.op != "="
    ]
    if expressions:
        out["matchExpressions"] = expressions
    return out


def isolation_policy(namespace: str, name: str, selector: labels.Selector) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "incident-response-mcp"},
        },
        "spec": {"podSelector": pod_selector(selector), "policyTypes": ["Ingress"], "ingress": []},
    }


def last_applied(obj: dict[str, Any]) -> str:
    """What client-side `kubectl apply` stores in its annotation: the input object as sorted, compact JSON + newline
    (kubectl sets the annotation, then removes it, so `metadata.annotations` is always there, possibly empty)."""
    metadata = obj.get("metadata") or {}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != LAST_APPLIED}
    shown = {**obj, "metadata": {**metadata, "annotations": annotations}}
    return json.dumps(shown, sort_keys=True, separators=(",", ":")) + "\n"


def with_heredoc(command: str, stdin: str, marker: str = HEREDOC_MARKER) -> str:
    """A command fed `stdin` through a quoted heredoc, so the shell passes the text through unchanged."""
    return f"{command} <<'{marker}'\n{stdin.rstrip(chr(10))}\n{marker}"


def split_heredoc(command: str) -> tuple[str, str | None]:
    """The inverse of with_heredoc: (command line, stdin or None)."""
    first, newline, rest = command.partition("\n")
    match = re.search(r" <<'([A-Z]+)'$", first)
    if not newline or match is None:
        return command, None
    body, _, _ = rest.rpartition("\n" + match.group(1))
    return first[: match.start()], body + "\n"


def plan_isolate(kube: Kube, namespace: str, selector_text: str, name: str | None = None) -> PlanDraft:
    selector = labels.parse(selector_text)
    policy_id = policy_name(selector, name)
    existing = kube.list("networkpolicies", namespace).items
    if any(backends.name_of(p) == policy_id for p in existing):
        raise errors.InvalidArgument(
            f"network policy {policy_id} already exists in {namespace}: these pods are already isolated "
            "(list_temporary_measures shows how to restore)"
        )
    pods = backends.pods_of(selector, kube.list("pods", namespace, label_selector=selector_text).items)
    if not pods:
        raise errors.InvalidArgument(
            f"no pod matches {selector_text!r} in {namespace}; the policy would isolate nothing now and silently catch "
            "whatever gains those labels later. Check the labels with list_pods"
        )
    refuse_if_admitted(kube, namespace, selector_text, existing, pods)
    policy = isolation_policy(namespace, policy_id, selector)
    # Deferred: PyYAML costs ~25-35 ms to import and only this planner needs it, not the MCP handshake.
    import yaml

    text = yaml.safe_dump(policy, sort_keys=False)
    body = {**policy, "metadata": {**policy["metadata"], "annotations": {LAST_APPLIED: last_applied(policy)}}}
    kube.create("networkpolicies", body, namespace, dry_run=True)
    context = kube.context
    apply = str(commands.kubectl(["apply", "-f", "-"], namespace=namespace, context=context))
    undo = str(commands.kubectl(["delete", "networkpolicy", policy_id], namespace=namespace, context=context))
    warnings = [warning("enforcement", ENFORCEMENT_NOTE)]
    names = sorted(backends.name_of(p) for p in pods)
    return PlanDraft(
        tool="isolate_network",
        # The policy itself is in the command (its heredoc), shown verbatim: not repeated here.
        summary=f"Deny all ingress to {len(names)} pod(s) matching {selector_text} in {namespace} with NetworkPolicy "
        f"{policy_id} ({', '.join(names)}).",
        target=Target(kind="NetworkPolicy", namespace=namespace, name=policy_id),
        steps=[
            Step(
                description=f"create NetworkPolicy {policy_id}",
                command=with_heredoc(apply, text),
                action=KubeWrite(verb="create", resource="networkpolicies", namespace=namespace, body=body),
                undo_command=undo,
            )
        ],
        undo_command=undo,
        diff=[Change(path=f"networkpolicy/{policy_id}", before=None, after=policy)],
        preconditions=[
            precondition("networkpolicies", existing, [pointer("metadata", "name")], namespace=namespace),
            # The pods the human saw isolated: one that gains the labels after approval would be isolated unseen.
            precondition(
                "pods",
                pods,
                [pointer("metadata", "name"), pointer("metadata", "uid")],
                namespace=namespace,
                label_selector=selector_text,
            ),
        ],
        warnings=warnings,
        temporary=True,
    )


def refuse_if_admitted(
    kube: Kube, namespace: str, selector_text: str, policies: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> None:
    """NetworkPolicies are additive: next to a policy that admits ingress to these pods, a deny-all policy denies
    nothing that policy admits, and a plan saying "deny all ingress" would be false."""
    allowed = ingress_allowances(policies, pods)
    if not allowed:
        return
    fronting = sorted(
        backends.name_of(svc)
        for svc in kube.list("services", namespace).items
        if (chosen := backends.service_selector(svc)) and any(labels.matches(chosen, meta(p).labels) for p in pods)
    )
    service = f"service={fronting[0]}, " if fronting else "service=SERVICE, "
    raise errors.InvalidArgument(
        "isolate_network would not cut these pods off: NetworkPolicies are additive, a pod accepts what ANY policy "
        f"selecting it admits, and {'; '.join(allowance_text(a) for a in allowed)}. A deny-all policy next to "
        f"{'it' if len(allowed) == 1 else 'them'} blocks only traffic no policy admits. Take the pods out of traffic "
        f"with remove_pods_from_service(namespace={namespace}, {service}selector={selector_text}), or have the "
        f"owner of {', '.join(a.policy for a in allowed)} edit it so it no longer selects them, then plan again. "
        "Nothing was changed"
    )


def plan_delete_policy(kube: Kube, namespace: str, name: str, restores: str) -> PlanDraft:
    policy = kube.get("networkpolicies", name, namespace)
    uid = policy["metadata"].get("uid")
    kube.delete("networkpolicies", name, namespace, dry_run=True, uid=uid)
    command = str(commands.kubectl(["delete", "networkpolicy", name], namespace=namespace, context=kube.context))
    return PlanDraft(
        tool="restore_measure",
        summary=f"Delete NetworkPolicy {name} in {namespace}, ending the isolation.",
        target=Target(kind="NetworkPolicy", namespace=namespace, name=name, uid=uid),
        steps=[
            Step(
                description=f"delete NetworkPolicy {name}",
                command=command,
                action=KubeWrite(
                    verb="delete", resource="networkpolicies", namespace=namespace, name=name, body={"uid": uid}
                ),
            )
        ],
        diff=[Change(path=f"networkpolicy/{name}", before=policy.get("spec"), after=None)],
        preconditions=[
            precondition("networkpolicies", policy, [pointer("metadata", "uid")], namespace=namespace, name=name)
        ],
        restores=restores,
    )


def isolate_network(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the pods.")],
    selector: Annotated[SelectorText, Field(description="Pods to isolate, e.g. app=api,version=bad.")],
    name: Annotated[
        str | None,
        Field(
            description="Suffix of the policy name incident-isolate-<name>; default from the selector.", max_length=46
        ),
    ] = None,
) -> Proposal:
    """Plan a deny-all-ingress NetworkPolicy (incident-isolate-<name>) for the selected pods (kubectl apply -f -).
    Refuses a selector matching no pod, and pods an existing NetworkPolicy admits ingress to (policies are additive:
    a deny-all policy next to it denies nothing it admits; remove_pods_from_service is named instead). Shows the
    policy YAML and the pods; if the set of matching pods changes before confirmation the plan is stale. Its deletion
    is recorded as the restore. Enforcement depends on the network plugin. Nothing changes until the token is
    confirmed with confirm_command."""
    return deps.propose(plan_isolate(deps.kube, namespace, selector, name))
