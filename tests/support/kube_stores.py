"""The team-mode store against a simulated cluster: its CRDs applied with real kubectl, one namespace per test."""

from __future__ import annotations

import itertools
from pathlib import Path

from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.kube_store import KubeStore
from incident_response.tools.engine.plan import KubeWrite, PlanDraft, Step, Target
from incident_response.tools.kube.client import ClusterSource, RealKube
from support.kubectl_runner import Kubectl

CRDS = Path(__file__).resolve().parents[2] / "deploy" / "crds"
_NAMESPACES = itertools.count()


def install_crds(kubectl: Kubectl) -> None:
    """`kubectl apply -f deploy/crds/` as an operator would, then wait until every CRD is Established."""
    kubectl.run("apply", "-f", str(CRDS))
    kubectl.run("wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/name=incident-response-mcp")


def fresh_namespace(kubectl: Kubectl) -> str:
    name = f"store-{next(_NAMESPACES)}"
    kubectl.run("create", "namespace", name)
    return name


def kube_store(sim: RunningSim, namespace: str, *, approver: bool = False) -> KubeStore:
    assert sim.kubeconfig_path is not None
    return KubeStore(RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path)), namespace, approver=approver)


def draft() -> PlanDraft:
    """A plan to propose; the store tests never run it."""
    write = KubeWrite(verb="patch", resource="deployments", namespace="shop", name="web", body={}, patch_type="merge")
    step = Step(description="patch", command="kubectl scale deployment/web --replicas=5 -n shop", action=write)
    target = Target(kind="Deployment", namespace="shop", name="web")
    return PlanDraft(tool="scale_deployment", summary="scale web", target=target, steps=[step])
