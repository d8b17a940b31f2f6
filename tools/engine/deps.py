"""What every tool gets from the server: the settings it needs and a lazily connected `Kube`.

Layer: tools.engine.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from incident_response.tools.core import errors
from incident_response.tools.core.modes import MODES as MODES  # re-exported: the modes were defined here first
from incident_response.tools.core.modes import Mode as Mode
from incident_response.tools.engine.approvals import Approvals
from incident_response.tools.kube.client import ClusterSource, Kube, RealKube
from incident_response.tools.kube.helm_runner import HelmRunner

if TYPE_CHECKING:
    from incident_response.tools.engine.binding import Binding
    from incident_response.tools.engine.outcomes import Proposal
    from incident_response.tools.engine.pending import PendingEngine
    from incident_response.tools.engine.plan import PlanDraft
    from incident_response.tools.engine.scope import Scope
    from incident_response.tools.engine.store import Store


# Progress callback handed to long-running tools: (progress, total, message). A no-op outside MCP.
Progress = Callable[[float, float | None, str | None], Awaitable[None]]

StoreKind = Literal["sqlite", "kubernetes"]
STORES: tuple[StoreKind, ...] = ("sqlite", "kubernetes")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


async def no_progress(progress: float, total: float | None, message: str | None) -> None:
    return None


@dataclass(frozen=True)
class ToolSettings:
    """The part of the server's configuration that tools act on."""

    mode: Mode = "standard"
    namespaces: tuple[str, ...] = ()  # allow-list; empty allows every namespace
    cluster: ClusterSource | None = None  # None: no cluster configured
    state_dir: Path = Path(".")
    # Human-readable origin of the cluster config, shown by server_info ("kubeconfig /x (context sim)", ...).
    cluster_description: str = "none"
    # How long a pending command's token stays valid.
    pending_ttl: timedelta = timedelta(minutes=15)
    # Which approvals confirm_command accepts: "any" (the approve command or the client's dialog), "cli" (only the
    # approve command: no elicitation is asked or honoured).
    approvals: Approvals = "any"
    # Where the journal lives: SQLite in state_dir, or our CRDs' objects in store_namespace on the cluster.
    store: StoreKind = "sqlite"
    store_namespace: str | None = None
    store_retention: timedelta = timedelta(days=30)


def check_name(value: str, what: str) -> str:
    """Validate an object name (DNS-1123 subdomain) before it reaches a URL."""
    if not DNS_SUBDOMAIN.match(value):
        raise errors.InvalidArgument(
            f"{what} {value!r} is not a valid Kubernetes name (lowercase letters, digits, '-' and '.', at most 253 "
            "characters, starting and ending with a letter or digit)"
        )
    return value


@dataclass
class Deps:
    """Shared by every tool call of one server. Thread-safe: sync tools run in worker threads."""

    settings: ToolSettings
    kube_override: Kube | None = None
    clock: Callable[[], datetime] | None = None  # tests inject one to expire tokens without waiting
    helm: HelmRunner = field(default_factory=HelmRunner)  # runs the ExecRun steps of confirmed helm plans
    _kube: Kube | None = field(default=None, init=False, repr=False)
    _store: Store | None = field(default=None, init=False, repr=False)
    _pending: PendingEngine | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def kube(self) -> Kube:
        """The cluster, connected on first use so the MCP handshake never waits for the client library."""
        if self.kube_override is not None:
            return self.kube_override
        with self._lock:
            if self._kube is None:
                if self.settings.cluster is None:
                    raise errors.NoClusterConfigured(
                        "no kubeconfig was given, none was found at $KUBECONFIG or ~/.kube/config, and the server is "
                        "not running in a pod"
                    )
                self._kube = RealKube.connect(self.settings.cluster)
            return self._kube

    @property
    def pending(self) -> PendingEngine:
        """The pending-command engine over the configured store, opened on first use."""
        from incident_response.tools.engine.pending import PendingEngine, utcnow

        if self._pending is not None:
            return self._pending
        journal = self.journal
        with self._lock:
            if self._pending is None:
                self._pending = PendingEngine(
                    journal,
                    ttl=self.settings.pending_ttl,
                    clock=self.clock or utcnow,
                    exec_runner=self.helm,
                    approvals=self.settings.approvals,
                )
            return self._pending

    def _open_store(self) -> Store:
        if self.settings.store == "kubernetes":
            from incident_response.tools.engine.kube_store import KubeStore

            assert self.settings.store_namespace is not None, "settings resolve the store's namespace"
            retention = self.settings.store_retention.total_seconds()
            return KubeStore(
                self.kube,
                self.settings.store_namespace,
                retention=retention,
                scope=self.incident_scope,
                clock=self.epoch,
            )
        from incident_response.tools.engine.journal import Journal

        return Journal(self.settings.state_dir, scope=self.incident_scope, clock=self.epoch)

    @property
    def journal(self) -> Store:
        """The incident journal (the configured store), opened on first use; the pending engine works over it too.
        Opened without the pending engine: every call's record needs the journal, only plans the engine (whose
        modules are ~0.1 s of a first call's imports)."""
        if self._store is not None:
            return self._store
        store = self._open_store()  # outside the lock: the Kubernetes store connects through `kube`, which takes it
        with self._lock:
            if self._store is None:
                self._store = store
            return self._store

    def now(self) -> datetime:
        """The server's time: the injected clock in tests (to move past a window without waiting), else UTC now."""
        return self.clock() if self.clock is not None else datetime.now(UTC)

    def epoch(self) -> float:
        """now() in epoch seconds: the stores' clock, so what they date agrees with the plans' times."""
        return self.now().timestamp()

    @property
    def mode(self) -> Mode:
        return self.settings.mode

    def here(self, uid: Literal["read", "try", "skip"] = "read") -> Binding:
        """This server as a plan records it (cluster, mode, allow-list). `uid` as `binding.identify` takes it; with
        "read" a missing cluster configuration raises, otherwise it leaves the cluster unknown (None)."""
        from incident_response.tools.engine.binding import Binding, identify

        try:
            cluster = identify(self.kube, uid=uid)
        except errors.NoClusterConfigured:
            if uid == "read":
                raise
            cluster = None
        return Binding(cluster=cluster, mode=self.mode, namespaces=list(self.settings.namespaces))

    def scope(self) -> Scope:
        """What this server may show from the shared journal: its cluster, inside its allow-list."""
        from incident_response.tools.engine.scope import Scope

        return Scope(self.here(uid="try"))

    def incident_scope(self) -> str:
        """The incidents this server works on: its cluster's and its allow-list's (no request is made)."""
        from incident_response.tools.engine.incident_scope import incident_scope

        return incident_scope(self.here(uid="skip").cluster, self.settings.namespaces)

    def cluster_record(self) -> dict[str, Any] | None:
        """The cluster this server talks to, as journal records carry it (no request is made)."""
        cluster = self.here(uid="skip").cluster
        return None if cluster is None else cluster.model_dump(mode="json")

    def propose(self, draft: PlanDraft, *, blocked_reason: str | None = None) -> Proposal:
        """Issue the plan as a pending command bound to this server's cluster, mode and allow-list."""
        from incident_response.tools.engine.attribution import plan_incident

        incident = plan_incident(self.journal, draft, self.node_pods)
        return self.pending.propose(draft, self.here(), incident=incident, blocked_reason=blocked_reason)

    def node_pods(self, node: str) -> dict[str, int]:
        """How many pods each namespace runs on the node (nothing when it cannot be read): which open incident a
        plan on the node belongs to."""
        try:
            pods = self.kube.list("pods", field_selector=f"spec.nodeName={node}").items
        except errors.IncidentError:
            return {}
        return dict(Counter(str((p.get("metadata") or {}).get("namespace")) for p in pods))

    def check_namespace(self, namespace: str) -> str:
        """Refuse malformed names and namespaces outside the allow-list; every namespaced tool passes through here."""
        if not DNS_LABEL.match(namespace):
            raise errors.InvalidArgument(
                f"namespace {namespace!r} is not a valid namespace name (lowercase letters, digits and '-', at most "
                "63 characters)"
            )
        allowed = self.settings.namespaces
        if allowed and namespace not in allowed:
            raise errors.NamespaceNotAllowed(namespace, allowed)
        return namespace

    def namespace_allowed(self, namespace: str | None) -> bool:
        allowed = self.settings.namespaces
        return not allowed or namespace in allowed
