"""The team-mode store against a simulated cluster: its CRDs applied with real kubectl, one namespace per test."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.kube_store import KubeStore
from incident_response.tools.engine.plan import KubeWrite, PlanDraft, Step, Target
from incident_response.tools.kube.client import ClusterSource, RealKube
from support.kubectl_runner import Kubectl

CRDS = Path(__file__).resolve().parents[2] / "deploy" / "crds"
_NAMESPACES = itertools.count()


def install_crds(kubectl: Kubectl) -> None:
    """`kubectl apply -f deploy/crds/` as an operator would, then wait until every CRD is Established; and the
    approver ClusterRole of deploy/rbac/ for the tests that approve as a person."""
    kubectl.run("apply", "-f", str(CRDS))
    kubectl.run("apply", "-f", str(CRDS.parent / "rbac" / "approver.yaml"))
    kubectl.run("wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/name=incident-response-mcp")


SEAL_KEY = CRDS.parent / "seal-key.yaml"


def store_namespace(kubectl: Kubectl, name: str) -> None:
    """A namespace for the store as deploy/ makes it: with the empty seal-key Secret the server fills in (it may
    not create Secrets)."""
    kubectl.run("create", "namespace", name)
    kubectl.run("apply", "-n", name, "-f", str(SEAL_KEY))


def fresh_namespace(kubectl: Kubectl) -> str:
    name = f"store-{next(_NAMESPACES)}"
    store_namespace(kubectl, name)
    return name


def kube_store(
    sim: RunningSim,
    namespace: str,
    *,
    approver: bool = False,
    kubeconfig: Path | None = None,
    scope: Callable[[], str] | None = None,
    pod: tuple[str, str] | None = None,
    clock: Callable[[], float] | None = None,
) -> KubeStore:
    """The store as the server (the sim's admin kubeconfig) or, with `kubeconfig`, as whoever that authenticates;
    `scope` as a server of that incident scope opens it; `pod`: the (name, namespace) of the pod it plays a replica
    in."""
    config = kubeconfig or sim.kubeconfig_path
    assert config is not None
    store = RealKube.connect(ClusterSource(kubeconfig=config))
    return KubeStore(store, namespace, approver=approver, scope=scope, pod=pod, clock=clock)


def approver_kubeconfig(sim: RunningSim, kubectl: Kubectl, namespace: str, folder: Path, user: str = "alice") -> Path:
    """A person bound to exactly deploy/rbac/approver.yaml's role in `namespace` (apply it once per cluster)."""
    kubectl.run(
        "create", "rolebinding", f"{user}-approves", "--clusterrole=incident-response-approver", f"--user={user}",
        "-n", namespace,
    )  # fmt: skip
    return sim.write_kubeconfig(folder / f"{user}-{namespace}.kubeconfig", sim.mint_user_token(user, ("oncall",)))


def draft() -> PlanDraft:
    """A plan to propose; the store tests never run it."""
    write = KubeWrite(verb="patch", resource="deployments", namespace="shop", name="web", body={}, patch_type="merge")
    step = Step(description="patch", command="kubectl scale deployment/web --replicas=5 -n shop", action=write)
    target = Target(kind="Deployment", namespace="shop", name="web")
    return PlanDraft(tool="scale_deployment", summary="scale web", target=target, steps=[step])
