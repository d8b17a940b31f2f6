"""delete_pod: the safety table's "force restart", a DELETE with the pod's uid as precondition.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from incident_response.tools.core import commands, errors
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import Change, KubeWrite, PlanDraft, Step, Target, pointer, precondition
from incident_response.tools.k8s import backends
from incident_response.tools.kube.client import Kube

RECREATING = {"ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}


def plan_delete_pod(kube: Kube, namespace: str, name: str) -> PlanDraft:
    pod = kube.get("pods", name, namespace)
    if backends.terminating(pod):
        raise errors.InvalidArgument(f"pod {name} is already terminating; deleting it again changes nothing")
    uid = pod["metadata"].get("uid")
    ref = backends.controller_of(pod)
    if ref is not None and ref.get("kind") in RECREATING:
        fate = f"{ref.get('kind')} {ref.get('name')} will create a replacement pod"
        warnings = ["The replacement starts from the same template: a fault in the template comes back."]
    else:
        fate = "no controller owns it, so it will NOT come back"
        warnings = []  # the summary says it
    node = (pod.get("spec") or {}).get("nodeName")
    kube.delete("pods", name, namespace, dry_run=True, uid=uid)
    command = str(commands.kubectl(["delete", "pod", name], namespace=namespace, context=kube.context))
    return PlanDraft(
        tool="delete_pod",
        summary=f"Delete pod {name} in {namespace} (on node {node}); {fate}.",
        target=Target(kind="Pod", namespace=namespace, name=name, uid=uid),
        risk="destructive",
        steps=[
            Step(
                description=f"delete pod {name}",
                command=command,
                action=KubeWrite(verb="delete", resource="pods", namespace=namespace, name=name, body={"uid": uid}),
            )
        ],
        diff=[Change(path=f"pod/{name}", before="exists", after="deleted")],
        preconditions=[precondition("pods", pod, [pointer("metadata", "uid")], namespace=namespace, name=name)],
        warnings=warnings,
    )


def delete_pod(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the pod.")],
    pod: Annotated[str, Field(description="Pod name.")],
) -> Proposal:
    """Plan deleting one pod (kubectl delete pod), the force-restart of a stuck pod. Destructive; says whether a
    controller will recreate it. Nothing changes until the token is confirmed with confirm_command."""
    return deps.propose(plan_delete_pod(deps.kube, namespace, check_name(pod, "pod")))
