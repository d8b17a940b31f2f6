"""`incident-response-mcp pending | approve TOKEN | deny TOKEN`: the human's side of a pending command.

These run in the human's own terminal, outside the agent's reach, and write to the same journal as the server
(pass the same `--state-dir`). The approver is the OS user running the command (by uid, not by $USER, which any
process can set). `approve` shows the plan and asks y/N when stdin is a terminal (even with `--yes`). Without one it
approves only with `--yes` and only outside any terminal session (no controlling terminal: a service, a CI job, a
bot): a line pasted into a shell with its input and output redirected is refused, and told on the terminal. A
scripted approval says so on stderr and the journal records it as non-interactive (tools/engine/approvals.py has
the channels), which the handoff shows.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import argparse
import os
import pwd
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incident_response.server import config
from incident_response.tools.core.printable import printable
from incident_response.tools.engine.approvals import CLI_NON_INTERACTIVE, CLI_TERMINAL

if TYPE_CHECKING:
    # Imported where used: every command builds this parser, and `serve`'s handshake must not wait for the engine.
    from incident_response.tools.engine.kube_store import KubeStore
    from incident_response.tools.engine.pending import CommandResult, PendingEngine
    from incident_response.tools.engine.plan import PendingCommand
    from incident_response.tools.engine.records import CommandRow

# The options of approve and deny: (flags, options taking a value). Any other argument is the token.
STORE_OPTIONS = ("--state-dir", "--store", "--store-namespace", "--kubeconfig", "--context")
OPTIONS = {
    "approve": (("-h", "--help", "-y", "--yes"), STORE_OPTIONS),
    "deny": (("-h", "--help"), (*STORE_OPTIONS, "--reason")),
}
VERBS = tuple(OPTIONS)


def add_parsers(commands: Any) -> None:
    pending = commands.add_parser(
        "pending", help="list commands waiting for approval", description="List pending commands: command, diff, undo."
    )
    _state_dir_argument(pending)
    pending.set_defaults(run=run_pending)
    approve = commands.add_parser(
        "approve",
        help="approve a pending command",
        description="Show a pending command and approve it by its token. On a terminal it asks y/N first, even "
        "with --yes. A program outside any terminal session (a service, a CI job, a bot) approves only with --yes: "
        "it says so on stderr, and the journal and the handoff record a non-interactive approval. In a terminal "
        "session with its input redirected, --yes is refused: run it as is and answer.",
        allow_abbrev=False,  # an abbreviation could look like a token that starts with '-'
    )
    approve.add_argument("token", help="the token the assistant showed (it may start with '-')")
    approve.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="approve without asking, for a program outside any terminal session (recorded as a non-interactive "
        "approval); on a terminal you are still asked y/N",
    )
    _state_dir_argument(approve)
    approve.set_defaults(run=run_decide, approved=True)
    deny = commands.add_parser(
        "deny",
        help="deny a pending command",
        description="Show a pending command and deny it by its token, so it can never run. Never asks: refusing is "
        "always safe.",
        allow_abbrev=False,
    )
    deny.add_argument("token", help="the token the assistant showed (it may start with '-')")
    deny.add_argument("--reason", help="why, for the incident timeline")
    _state_dir_argument(deny)
    deny.set_defaults(run=run_decide, approved=False, yes=False)


def token_positional(arguments: Sequence[str]) -> list[str]:
    """`approve TOKEN` for every token: argparse reads a token starting with '-' as an unknown option, so the one
    argument that is neither an option of ours nor an option's value moves behind `--`, where argparse takes it as
    the positional. `arguments` starts with the verb."""
    verb, rest = arguments[0], list(arguments[1:])
    flags, valued = OPTIONS[verb]
    options: list[str] = []
    positionals: list[str] = []
    index = 0
    while index < len(rest):
        argument = rest[index]
        if argument == "--":
            positionals += rest[index + 1 :]
            break
        if argument in valued:
            options += rest[index : index + 2]
            index += 2
            continue
        if argument in flags or argument.startswith(tuple(f"{o}=" for o in valued)):
            options.append(argument)
        else:
            positionals.append(argument)
        index += 1
    if len(positionals) > 1:
        # argparse would blame the token; the likelier mistake is a misspelt option.
        print(
            f"incident-response-mcp {verb}: expected one token, got {len(positionals)}: "
            f"{', '.join(map(repr, positionals))}. Is one of them a misspelt option? {verb} takes "
            f"{', '.join((*flags, *valued))}.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return [verb, *options, "--", *positionals] if positionals else [verb, *options]


def _state_dir_argument(parser: argparse.ArgumentParser) -> None:
    """Where the server keeps its pending commands: its state directory, or (team mode) the Kubernetes API, reached
    with the human's own kubeconfig so the cluster's RBAC decides who may approve."""
    parser.add_argument("--state-dir", type=Path, help="the server's state directory [INCIDENT_RESPONSE_STATE_DIR]")
    config.add_store_arguments(parser)
    parser.add_argument("--kubeconfig", type=Path, help="with --store kubernetes: your kubeconfig [KUBECONFIG]")
    parser.add_argument("--context", help="with --store kubernetes: the kubeconfig context to use")


def state_dir(args: argparse.Namespace) -> Path:
    if args.state_dir:
        return Path(args.state_dir).expanduser()
    env = os.environ.get(config.ENV_PREFIX + "STATE_DIR")
    return Path(env).expanduser() if env else config.default_state_dir(os.environ)


def open_engine(args: argparse.Namespace) -> PendingEngine | None:
    from incident_response.tools.engine.journal import DB_NAME, Journal
    from incident_response.tools.engine.pending import PendingEngine

    try:
        kind = config.parse_store(str(args.store or os.environ.get(config.ENV_PREFIX + "STORE") or "sqlite"))
    except config.SettingsError as e:
        print(f"incident-response-mcp: {e}", file=sys.stderr)
        return None
    if kind == "kubernetes":
        store = open_kube_store(args)
        return None if store is None else PendingEngine(store)
    folder = state_dir(args)
    if not (folder / DB_NAME).is_file():
        print(f"no journal in {folder}: is that the server's --state-dir?", file=sys.stderr)
        return None
    return PendingEngine(Journal(folder))


def open_kube_store(args: argparse.Namespace) -> KubeStore | None:
    """The team-mode store with the human's own credentials (kubectl's kubeconfig order), as an approver."""
    from incident_response.tools.core import errors
    from incident_response.tools.engine.kube_store import KubeStore
    from incident_response.tools.kube.client import RealKube

    try:
        namespace = config.store_namespace(
            "kubernetes", args.store_namespace or os.environ.get(config.ENV_PREFIX + "STORE_NAMESPACE")
        )
        source = config.resolve_cluster(args.kubeconfig, args.context, os.environ)
        if source is None:
            raise config.SettingsError(
                "--store kubernetes needs your kubeconfig: --kubeconfig, $KUBECONFIG or ~/.kube/config"
            )
        kube = RealKube.connect(source)
    except errors.NoClusterConfigured as e:
        # Its own message speaks to a server's operator; here the human's kubeconfig is missing.
        print(
            f"incident-response-mcp: cannot read your kubeconfig: {e.reason}. Pass --kubeconfig PATH (and --context "
            "NAME), or set KUBECONFIG, to the credentials you use with kubectl. Nothing was decided.",
            file=sys.stderr,
        )
        return None
    except (config.SettingsError, errors.IncidentError) as e:
        print(f"incident-response-mcp: {e}", file=sys.stderr)
        return None
    assert namespace is not None
    return KubeStore(kube, namespace, approver=True, context=args.context)


def os_user() -> str:
    """The OS account this process runs as, from its real uid: $USER and $LOGNAME are whatever the caller set."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def plan_view(cmd: PendingCommand) -> dict[str, Any]:
    return cmd.model_dump(mode="json") | {"command": cmd.command}


def describe(cmd: PendingCommand, state: str, decided: str | None = None) -> str:
    """The plan as the human reads it; `decided`: who approved it and how, once someone did."""
    from incident_response.tools.engine.plan import render_diff, target_text

    age = (datetime.now(UTC) - cmd.created_at).total_seconds()
    left = (cmd.expires_at - datetime.now(UTC)).total_seconds()
    plan = plan_view(cmd)
    lines = [
        f"token   {cmd.token}",
        f"state   {state}   risk {cmd.risk}   age {age:.0f}s   expires in {max(left, 0):.0f}s"
        + (f"   {printable(decided)}" if decided else ""),
        f"        {printable(cmd.summary)}",
        f"target  {printable(target_text(plan))}",
        f"cluster {printable(bound_to(cmd))}",
        f"command {printable(cmd.command, newlines=True)}",
        "diff",
        printable(render_diff(cmd.diff), newlines=True),
        f"undo    {printable(cmd.undo_command or '(none)', newlines=True)}",
    ]
    # Strings from the cluster, printed where the human decides: no escape sequence may hide or rewrite a line.
    lines += [f"warning {printable(w.whole())}" for w in cmd.warnings]
    return "\n".join(lines)


def decided_by(row: CommandRow) -> str | None:
    """`approved by alice via cli (non-interactive)`: a scripted approval shows in `pending` before anything runs."""
    if row.decided_by is None or row.state == "pending":
        return None
    return f"{row.state} by {row.decided_by} via {row.decided_channel or 'an unrecorded channel'}"


def bound_to(cmd: PendingCommand) -> str:
    """Where the plan was made: it runs only there (another cluster's server answers wrong_cluster)."""
    binding = cmd.binding
    if binding is None or binding.cluster is None:
        return "(not recorded: planned by an older version; it cannot be confirmed)"
    allowed = ", ".join(binding.namespaces) or "all"
    return f"{binding.cluster.describe()}; planned in {binding.mode} mode, namespaces {allowed}"


def cluster_name(cmd: PendingCommand) -> str:
    cluster = cmd.binding.cluster if cmd.binding is not None else None
    return f"the cluster at {cluster.server} (context {cluster.context or 'in-cluster'})" if cluster else "no cluster"


def reporting_api_errors(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A failure of the store's API (team mode: RBAC, missing CRDs, an unreachable cluster) as one line, exit 1."""

    def wrapped(args: argparse.Namespace) -> int:
        from incident_response.tools.core import errors

        verb = getattr(args, "command", None) or "pending"
        try:
            return run(args)
        except errors.Forbidden as e:
            from incident_response.tools.engine.pod_identity import namespace_in_pod

            where = (
                getattr(args, "store_namespace", None)
                or os.environ.get(config.ENV_PREFIX + "STORE_NAMESPACE")
                or namespace_in_pod()
            )
            # The role is granted per namespace: a wrong namespace looks exactly like a missing grant.
            print(
                f"incident-response-mcp {verb}: your Kubernetes credentials may not {e.verb} {e.resource} in namespace "
                f"{where!r}; nothing was decided. Check that --store-namespace names the namespace the server keeps "
                "its store in (deploy/: incident-response); if it does, ask a cluster admin to bind you to the "
                "incident-response-approver role there (deploy/rbac/approver.yaml).",
                file=sys.stderr,
            )
            return 1
        except errors.IncidentError as e:
            print(f"incident-response-mcp {verb}: {e}. Nothing was decided.", file=sys.stderr)
            return 1

    return wrapped


@reporting_api_errors
def run_pending(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    if engine is None:
        return 1
    live = engine.live()
    if not live:
        print("no pending commands")
        return 0
    for row, cmd in live:
        print(describe(cmd, row.state, decided_by(row)))
        print()
    print(f"approve with: incident-response-mcp approve TOKEN {engine.journal.approve_flags()}")
    return 0


def decide(
    engine: PendingEngine,
    token: str,
    *,
    approved: bool,
    reason: str | None = None,
    channel: str = CLI_TERMINAL,
    shown: str | None = None,
) -> CommandResult:
    """Record a decision made by this OS user (team mode: by the user the API server authenticates); `shown` is the
    fingerprint of the plan the human was shown. The demo uses this same function to approve as the human."""
    from incident_response.tools.engine.kube_store import KubeStore
    from incident_response.tools.engine.pending import HumanAnswer

    store = engine.journal
    who = store.authenticated_user() if isinstance(store, KubeStore) else os_user()
    answer = HumanAnswer(approved=approved, approver=who, channel=channel, reason=reason, shown_fingerprint=shown)
    return engine.decide(token, answer)


def watched() -> bool:
    """A person's terminal session holds this process: its output goes to a terminal, or it has a controlling
    terminal (a line pasted into a shell, `</dev/null >/dev/null 2>&1` included, still has the shell's)."""
    return sys.stdout.isatty() or sys.stderr.isatty() or controlling_terminal()


def controlling_terminal() -> bool:
    """True when this process has a controlling terminal: /dev/tty opens only then (ENXIO otherwise). Services, CI
    jobs, bots started by a service manager and `setsid` have none."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def tell_terminal(text: str) -> None:
    """`text` on stderr and, when stderr goes elsewhere, on the controlling terminal too: the person who pasted a
    line with its output thrown away still reads why nothing happened."""
    print(text, file=sys.stderr)
    if sys.stderr.isatty():
        return
    try:
        fd = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        return
    try:
        os.write(fd, (text + "\n").encode(errors="replace"))
    except OSError:
        pass
    finally:
        os.close(fd)


def ask(question: str) -> bool:
    """y/N on the terminal; anything but y or yes (end of input, Ctrl-C included) is no. Only what is typed after the
    question counts: a `y` already waiting (typed ahead, or fed by a pasted `echo y | script -c ...`) is dropped."""
    drop_typeahead()
    try:
        answer = input(question)
    except (EOFError, KeyboardInterrupt):
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def drop_typeahead() -> None:
    import termios

    try:
        termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
    except (OSError, ValueError, termios.error):  # no real terminal behind stdin (a test's stand-in): nothing waits
        pass


@reporting_api_errors
def run_decide(args: argparse.Namespace) -> int:
    from incident_response.tools.engine.plan import fingerprint

    engine = open_engine(args)
    if engine is None:
        return 1
    found = engine.get(args.token)
    interactive = sys.stdin.isatty()
    # On a terminal a person always answers y/N, --yes or not: `approve TOKEN --yes` is a line an assistant could
    # ask them to paste, and it must not approve a plan nobody looked at. --yes is for stdin that is no terminal.
    channel = CLI_TERMINAL if interactive else CLI_NON_INTERACTIVE
    if found is not None:
        print(describe(found[1], found[0].state, decided_by(found[0])))
        print()
        if args.approved and found[0].state == "pending" and args.yes and not interactive and watched():
            # `approve TOKEN --yes </dev/null >/dev/null 2>&1` pasted into a terminal: a person is there, so the y/N
            # is theirs to answer; --yes is for programs that run outside any terminal session.
            tell_terminal(
                "incident-response-mcp: this runs in a terminal session with its input redirected, so nobody answers "
                "y/N, and --yes is not taken where a person is at a terminal (a pasted line could approve a plan "
                f"nobody read). Run `incident-response-mcp approve {args.token}` as is and answer the question. "
                "Nothing was approved."
            )
            return 2
        if args.approved and found[0].state == "pending" and (interactive or not args.yes):
            if args.yes:
                print("(--yes is for scripts: on a terminal you answer y/N yourself.)")
            if not interactive:
                print(
                    "incident-response-mcp: stdin is not a terminal, so nobody can answer y/N here. Run this in your "
                    "own terminal; a program outside any terminal session adds --yes to approve without asking (the "
                    "journal records a non-interactive approval). Nothing was approved.",
                    file=sys.stderr,
                )
                return 2
            if not ask(f"Approve exactly this command, on {cluster_name(found[1])}? [y/N] "):
                print("not approved: nothing changed; the token is still pending.")
                return 1
    # The approval binds to the plan shown above, computed from what was shown ("" when nothing was).
    shown = "" if found is None else fingerprint(found[1])
    if args.approved and found is not None and shown != found[0].fingerprint:
        print(
            "incident-response-mcp approve: the plan shown does not match its own fingerprint (it was altered after "
            "it was planned, or stored by an older version), so it could never run. Nothing was approved; deny it "
            "and have the assistant plan again.",
            file=sys.stderr,
        )
        return 1
    reason = getattr(args, "reason", None)
    result = decide(engine, args.token, approved=args.approved, reason=reason, channel=channel, shown=shown)
    if result.status == "approved" and channel == CLI_NON_INTERACTIVE and found is not None:
        # On stderr, first: a script's log keeps it when its stdout is parsed, dropped or closed. Nobody was asked.
        print(
            "incident-response-mcp approve: APPROVED WITHOUT ASKING anyone (--yes, no terminal) as "
            f"{result.approved_by}: {printable(found[1].command, newlines=True)}. The journal and the handoff record "
            f"it as {CLI_NON_INTERACTIVE!r}, not as a human's answer.",
            file=sys.stderr,
        )
    print(f"{result.status}: {result.message}")
    if result.status == "approved":
        print("The assistant can now run it with confirm_command; it will re-check the cluster first.")
    return 0 if result.status == ("approved" if args.approved else "denied") else 1
