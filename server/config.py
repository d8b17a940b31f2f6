"""Server settings from command-line flags and `INCIDENT_RESPONSE_*` environment variables (flags win).

Layer: server (MCP wiring).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from incident_response.server.catalog import TOOLSETS, Toolset, parse_toolsets
from incident_response.tools.engine.approvals import APPROVALS, Approvals
from incident_response.tools.engine.deps import DNS_LABEL, MODES, STORES, Mode, StoreKind, ToolSettings
from incident_response.tools.kube.client import ClusterSource

ENV_PREFIX = "INCIDENT_RESPONSE_"
APP_DIR = "incident-response-mcp"
# Long enough to reach a human and review the plan; short enough that an approved plan is not acted on hours later.
PENDING_TTL_DEFAULT = 900
PENDING_TTL_RANGE = (60, 86400)
STORE_RETENTION_DAYS = 30
RATE_LIMIT_DEFAULT = 120  # tool calls a minute per HTTP principal (server/rate_limit.py)
RATE_LIMIT_MAX = 1_000_000
# How HTTP clients authenticate: static bearer credentials (a laptop), or Kubernetes tokens checked by TokenReview and
# authorized per toolset by SubjectAccessReview (in the cluster; server/kube_auth.py, server/toolset_authz.py).
AuthKind = Literal["static", "kubernetes"]
AUTH_KINDS: tuple[AuthKind, ...] = ("static", "kubernetes")


def default_state_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / APP_DIR


@dataclass(frozen=True)
class Settings:
    mode: Mode = "standard"
    kubeconfig: Path | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()
    state_dir: Path = field(default_factory=lambda: default_state_dir(os.environ))
    http: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    pending_ttl: timedelta = timedelta(seconds=PENDING_TTL_DEFAULT)
    approvals: Approvals = "any"
    # Which tools are listed: these toolsets (empty: all), and with read_only only the tools that change nothing.
    toolsets: tuple[Toolset, ...] = ()
    read_only: bool = False
    # HTTP credentials: a file of `TOKEN` / `PRINCIPAL TOKEN` lines, and/or one token from the environment (never a
    # flag: command lines are visible to every local user).
    auth_token_file: Path | None = None
    auth_token: str | None = field(default=None, repr=False)
    auth: AuthKind = "static"
    # --auth kubernetes: TokenReview audiences (empty: the API server's own), and the namespace whose RoleBindings
    # grant the toolsets (None: the store namespace, else the pod's).
    auth_audiences: tuple[str, ...] = ()
    auth_namespace: str | None = None
    # Resolved at load time: where the cluster connection comes from (None: no cluster configured).
    cluster: ClusterSource | None = None
    # Where the journal lives: SQLite in state_dir, or objects of our CRDs in store_namespace (team mode).
    store: StoreKind = "sqlite"
    store_namespace: str | None = None
    # Team mode: a resolved incident's objects are compacted into one summary after this long.
    store_retention: timedelta = timedelta(days=STORE_RETENTION_DAYS)
    # HTTP: tool calls per minute per principal (server/rate_limit.py); 0: no limit.
    rate_limit: int = RATE_LIMIT_DEFAULT

    def approve_flags(self) -> str:
        """The options that point `incident-response-mcp approve` at this server's store."""
        if self.store == "kubernetes":
            return f"--store kubernetes --store-namespace {self.store_namespace}"
        return f"--state-dir {self.state_dir}"

    def tool_settings(self) -> ToolSettings:
        return ToolSettings(
            mode=self.mode,
            namespaces=self.namespaces,
            cluster=self.cluster,
            state_dir=self.state_dir,
            cluster_description=describe_cluster(self.cluster),
            pending_ttl=self.pending_ttl,
            approvals=self.approvals,
            store=self.store,
            store_namespace=self.store_namespace,
            store_retention=self.store_retention,
        )


def describe_cluster(cluster: ClusterSource | None) -> str:
    if cluster is None:
        return "none"
    if cluster.in_cluster:
        return "in-cluster service account"
    context = f" (context {cluster.context})" if cluster.context else " (current context)"
    return f"kubeconfig {cluster.kubeconfig}{context}"


def resolve_cluster(kubeconfig: Path | None, context: str | None, env: Mapping[str, str]) -> ClusterSource | None:
    """kubectl's order, plus in-cluster: explicit kubeconfig, the pod's service account, $KUBECONFIG, ~/.kube/config."""
    if kubeconfig is not None:
        return ClusterSource(kubeconfig=kubeconfig.expanduser(), context=context)
    if env.get("KUBERNETES_SERVICE_HOST") and context is None:
        return ClusterSource(in_cluster=True)
    for candidate in (env.get("KUBECONFIG") or "").split(os.pathsep):
        if candidate and Path(candidate).expanduser().is_file():
            return ClusterSource(kubeconfig=Path(candidate).expanduser(), context=context)
    home = env.get("HOME")
    if home:
        default = Path(home) / ".kube" / "config"
        if default.is_file():
            return ClusterSource(kubeconfig=default, context=context)
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by `serve` and the commands that read the same state (approve, pending, demo)."""
    parser.add_argument("--mode", choices=MODES, help="safety mode (default standard) [INCIDENT_RESPONSE_MODE]")
    parser.add_argument("--kubeconfig", type=Path, help="kubeconfig file [INCIDENT_RESPONSE_KUBECONFIG]")
    parser.add_argument("--context", help="kubeconfig context [INCIDENT_RESPONSE_CONTEXT]")
    parser.add_argument(
        "--namespace",
        action="append",
        dest="namespaces",
        metavar="NAMESPACE",
        help="allow only this namespace (repeatable) [INCIDENT_RESPONSE_NAMESPACE, comma-separated]",
    )
    parser.add_argument("--state-dir", type=Path, help="journal and pending commands [INCIDENT_RESPONSE_STATE_DIR]")
    add_store_arguments(parser)


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        choices=STORES,
        help="where the journal and pending commands live: sqlite (default, in the state directory) or kubernetes "
        "(objects of the CRDs in deploy/crds/, shared by every replica; approvals by RBAC) [INCIDENT_RESPONSE_STORE]",
    )
    parser.add_argument(
        "--store-namespace",
        metavar="NAMESPACE",
        help="with --store kubernetes: the namespace of the store's objects (default: the pod's own namespace) "
        "[INCIDENT_RESPONSE_STORE_NAMESPACE]",
    )


def add_tool_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags choosing which tools the server lists (serve, and demo --serve)."""
    parser.add_argument(
        "--toolsets",
        action="append",
        metavar="NAMES",
        help=f"list only these toolsets, comma-separated or repeated: {', '.join(TOOLSETS)} (default all; "
        "server_info is always listed) [INCIDENT_RESPONSE_TOOLSETS]",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="list only the tools that change nothing: no planning, confirming or recording "
        "[INCIDENT_RESPONSE_READ_ONLY]",
    )


def parse_port(value: object) -> int:
    """8000 when unset; 0 asks the OS for a free port (the log then names the one it got)."""
    if value is None or value == "":
        return 8000
    try:
        port = int(str(value))
    except ValueError as e:
        raise SettingsError(f"port {value!r} is not a number") from e
    if not 0 <= port <= 65535:
        raise SettingsError(f"port {port} is out of range: use 1-65535, or 0 for any free port")
    return port


def add_transport_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags only `serve` takes: the transport, and how long the tokens it issues live."""
    parser.add_argument("--http", action="store_true", default=None, help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", help="HTTP bind address (default 127.0.0.1) [INCIDENT_RESPONSE_HOST]")
    parser.add_argument(
        "--port",
        type=int,
        help="HTTP port (default 8000; 0: any free port, logged at startup) [INCIDENT_RESPONSE_PORT]",
    )
    low, high = PENDING_TTL_RANGE
    parser.add_argument(
        "--pending-ttl",
        metavar="SECONDS",
        help=f"how long a pending command's token stays valid, {low}..{high} (default {PENDING_TTL_DEFAULT}) "
        "[INCIDENT_RESPONSE_PENDING_TTL]",
    )
    parser.add_argument(
        "--auth-token-file",
        type=Path,
        metavar="FILE",
        help="HTTP bearer credentials, one per line: TOKEN, or PRINCIPAL TOKEN to name who holds it. Clients send "
        "`Authorization: Bearer TOKEN`. Without this or INCIDENT_RESPONSE_AUTH_TOKEN, a loopback server generates one "
        "into STATE_DIR/http-auth-token and any other address refuses to start [INCIDENT_RESPONSE_AUTH_TOKEN_FILE]",
    )
    parser.add_argument(
        "--rate-limit",
        metavar="CALLS",
        help=f"with --http: tool calls a minute each principal may make, in bursts of up to that many, and as many "
        "confirm_command/cancel_command calls apart (a tenth of them per token) so reads cannot hold back a "
        f"confirm (default {RATE_LIMIT_DEFAULT}; 0: no limit) [INCIDENT_RESPONSE_RATE_LIMIT]",
    )
    parser.add_argument(
        "--store-retention-days",
        metavar="DAYS",
        help=f"with --store kubernetes: compact a resolved incident's objects into one summary this many days after "
        f"it was resolved (default {STORE_RETENTION_DAYS}) [INCIDENT_RESPONSE_STORE_RETENTION_DAYS]",
    )
    parser.add_argument(
        "--approvals",
        choices=APPROVALS,
        help="which human approvals confirm_command accepts in standard mode: any (default: `incident-response-mcp "
        "approve` in a terminal, or the MCP client's dialog, recorded as attested by that client) or cli (the "
        "approve command only; the client is never asked) [INCIDENT_RESPONSE_APPROVALS]",
    )


class SettingsError(ValueError):
    pass


def add_auth_arguments(parser: argparse.ArgumentParser) -> None:
    """How `serve --http` authenticates its clients (the static credentials are in add_transport_arguments)."""
    parser.add_argument(
        "--auth",
        choices=AUTH_KINDS,
        help="how HTTP clients authenticate: static (bearer credentials from --auth-token-file or "
        "INCIDENT_RESPONSE_AUTH_TOKEN; the default) or kubernetes (clients send a Kubernetes token, checked with "
        "TokenReview; each tool call needs the read, plan or confirm grant on toolsets.incident-response.dev, checked "
        "with SubjectAccessReview; the default with --store kubernetes) [INCIDENT_RESPONSE_AUTH]",
    )
    parser.add_argument(
        "--auth-audience",
        action="append",
        dest="auth_audiences",
        metavar="AUDIENCE",
        help="--auth kubernetes: accept only tokens issued for this audience (`kubectl create token SA --audience "
        "AUDIENCE`; repeatable) [INCIDENT_RESPONSE_AUTH_AUDIENCE, comma-separated]",
    )
    parser.add_argument(
        "--auth-namespace",
        metavar="NAMESPACE",
        help="--auth kubernetes: the namespace whose RoleBindings grant the toolsets (default: the store namespace, "
        "else the pod's) "
        "[INCIDENT_RESPONSE_AUTH_NAMESPACE]",
    )


def parse_auth(value: str) -> AuthKind:
    for kind in AUTH_KINDS:
        if kind == value:
            return kind
    raise SettingsError(f"unknown --auth {value!r}: choose static (bearer credentials) or kubernetes (TokenReview)")


def parse_approvals(value: str) -> Approvals:
    for approvals in APPROVALS:
        if approvals == value:
            return approvals
    raise SettingsError(
        f"unknown approvals {value!r}: choose any (the approve command or the client's dialog) or cli (the approve "
        "command only)"
    )


def parse_store(value: str) -> StoreKind:
    for store in STORES:
        if store == value:
            return store
    raise SettingsError(f"unknown store {value!r}: choose sqlite (the state directory) or kubernetes (team mode)")


def store_namespace(store: StoreKind, value: object) -> str | None:
    """The team-mode store's namespace: given, or the pod's own; None for SQLite."""
    if store != "kubernetes":
        return None
    # Only now: the store's module and the masker it loads cost a SQLite server's handshake 30-50 ms.
    from incident_response.tools.engine.pod_identity import namespace_in_pod

    namespace = str(value) if value else namespace_in_pod()
    if namespace is None:
        raise SettingsError(
            "--store kubernetes needs --store-namespace NAMESPACE outside a pod (the namespace where deploy/ put the "
            "server and its CRD objects)"
        )
    if not DNS_LABEL.match(namespace):
        raise SettingsError(f"store namespace {namespace!r} is not a valid namespace name")
    return namespace


def parse_retention(value: object) -> timedelta:
    try:
        days = float(str(value).strip())
    except ValueError as e:
        raise SettingsError(f"store retention {value!r} is not a number of days") from e
    if not 1 / 24 <= days <= 3650:
        raise SettingsError(f"store retention {days:g} days is out of range: choose 0.05..3650 days")
    return timedelta(days=days)


def parse_rate_limit(value: object) -> int:
    text = str(value).strip()
    if not text.isdigit() or int(text) > RATE_LIMIT_MAX:
        raise SettingsError(
            f"--rate-limit must be a whole number of tool calls a minute, 0 (no limit) to {RATE_LIMIT_MAX}"
        )
    return int(text)


def parse_mode(value: str) -> Mode:
    for mode in MODES:
        if mode == value:
            return mode
    raise SettingsError(f"unknown mode {value!r}: choose one of {', '.join(MODES)}")


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_pending_ttl(value: object) -> timedelta:
    """Seconds as an integer within PENDING_TTL_RANGE."""
    low, high = PENDING_TTL_RANGE
    try:
        seconds = int(str(value).strip())
    except ValueError as e:
        raise SettingsError(f"pending TTL {value!r} is not a whole number of seconds") from e
    if not low <= seconds <= high:
        raise SettingsError(f"pending TTL {seconds}s is out of range: choose {low}..{high} seconds")
    return timedelta(seconds=seconds)


def audiences(flag: list[str] | None, env: Mapping[str, str]) -> tuple[str, ...]:
    values = flag or (env.get(ENV_PREFIX + "AUTH_AUDIENCE") or "").split(",")
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def load_settings(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """Merge flags over `INCIDENT_RESPONSE_*` variables over defaults."""
    env = os.environ if env is None else env

    def pick(name: str) -> object:
        value = getattr(args, name, None)
        if value is not None:
            return value
        return env.get(ENV_PREFIX + name.upper()) or None

    mode = parse_mode(str(pick("mode") or "standard"))
    namespaces_flag = getattr(args, "namespaces", None)
    if namespaces_flag:
        namespaces = tuple(dict.fromkeys(namespaces_flag))
    else:
        raw = env.get(ENV_PREFIX + "NAMESPACE", "")
        namespaces = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    kubeconfig_value = pick("kubeconfig")
    kubeconfig = Path(str(kubeconfig_value)) if kubeconfig_value else None
    context_value = pick("context")
    context = str(context_value) if context_value else None
    state_value = pick("state_dir")
    state_dir = Path(str(state_value)).expanduser() if state_value else default_state_dir(env)
    http_flag = getattr(args, "http", None)
    http = bool(http_flag) if http_flag is not None else _env_bool(env.get(ENV_PREFIX + "HTTP", ""))
    port = parse_port(pick("port"))
    toolsets_flag = getattr(args, "toolsets", None)
    try:
        toolsets = parse_toolsets(toolsets_flag or [env.get(ENV_PREFIX + "TOOLSETS", "")])
    except ValueError as e:
        raise SettingsError(str(e)) from e
    read_only_flag = getattr(args, "read_only", None)
    read_only = bool(read_only_flag) if read_only_flag is not None else _env_bool(env.get(ENV_PREFIX + "READ_ONLY", ""))
    store = parse_store(str(pick("store") or "sqlite"))
    # A team's server (its journal on the cluster, served over HTTP) authenticates its clients by the cluster too.
    auth = parse_auth(str(pick("auth") or ("kubernetes" if store == "kubernetes" and http else "static")))
    if auth == "kubernetes" and not http:
        raise SettingsError("--auth kubernetes authenticates HTTP clients: add --http (over stdio the client is local)")
    approvals_value = pick("approvals")
    if store == "kubernetes" and approvals_value not in (None, "cli"):
        raise SettingsError(
            "--store kubernetes takes approvals only as Approval objects that a human creates with their own "
            "credentials (incident-response-mcp approve TOKEN --store kubernetes), so --approvals must be cli"
        )
    rate_value = pick("rate_limit")
    rate_limit = parse_rate_limit(rate_value) if rate_value not in (None, "") else RATE_LIMIT_DEFAULT
    ttl_value = pick("pending_ttl")
    pending_ttl = parse_pending_ttl(ttl_value) if ttl_value else timedelta(seconds=PENDING_TTL_DEFAULT)
    return Settings(
        mode=mode,
        kubeconfig=kubeconfig,
        context=context,
        namespaces=namespaces,
        state_dir=state_dir,
        http=http,
        host=str(pick("host") or "127.0.0.1"),
        port=port,
        pending_ttl=pending_ttl,
        rate_limit=rate_limit,
        approvals=parse_approvals(str(approvals_value or ("cli" if store == "kubernetes" else "any"))),
        toolsets=toolsets,
        read_only=read_only,
        auth_token_file=Path(str(token_file)).expanduser() if (token_file := pick("auth_token_file")) else None,
        auth_token=env.get(ENV_PREFIX + "AUTH_TOKEN") or None,
        auth=auth,
        auth_audiences=audiences(getattr(args, "auth_audiences", None), env),
        auth_namespace=str(namespace) if (namespace := pick("auth_namespace")) else None,
        cluster=resolve_cluster(kubeconfig, context, env),
        store=store,
        store_namespace=store_namespace(store, pick("store_namespace")),
        store_retention=parse_retention(retention)
        if (retention := pick("store_retention_days"))
        else timedelta(days=STORE_RETENTION_DAYS),
    )
