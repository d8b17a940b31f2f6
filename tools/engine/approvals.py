"""Who may approve, through which channel, and what each channel proves.

A channel is recorded with every decision (journal column `decided_channel`, results' `approval_channel`). Only an
answer typed at the approve command's y/N prompt in a terminal counts as a human verified by this server; every
other channel is recorded as what it is.

Layer: tools.engine.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

# `incident-response-mcp approve` answered y at its prompt in a terminal (deny: run from a terminal).
CLI_TERMINAL = "cli"
# The OS user ran approve with --yes outside any terminal session (no controlling terminal: a service, a CI job, a
# bot), or deny without a terminal: a script or another program may have.
CLI_NON_INTERACTIVE = "cli (non-interactive)"
# The human answered in the MCP client's dialog: the client attests it, the server cannot tell.
ELICITATION = "elicitation"
# Full mode runs without any approval.
NO_APPROVAL = "none (full mode)"

HUMAN_VERIFIED = frozenset({CLI_TERMINAL})
CLI_CHANNELS = frozenset({CLI_TERMINAL, CLI_NON_INTERACTIVE})

Approvals = Literal["any", "cli"]
APPROVALS: tuple[Approvals, ...] = ("any", "cli")


def human_verified(channel: str | None) -> bool:
    """True only when this server saw a human answer (the terminal prompt); an attestation is not a verification."""
    return channel in HUMAN_VERIFIED


def attestation(channel: str | None) -> str:
    """What an approval through `channel` shows, in words for the journal and the handoff."""
    return {
        CLI_TERMINAL: "a human answered y at a terminal as this OS user",
        CLI_NON_INTERACTIVE: "this OS user approved with --yes outside any terminal session: no person was asked",
        ELICITATION: "attested by the named MCP client, not verified as human",
        NO_APPROVAL: "no approval (full mode)",
    }.get(channel or "", "unknown channel")


def unaccepted(policy: Approvals, channel: str | None) -> str | None:
    """Why a server with this policy does not accept an approval through `channel`; None when it does."""
    if policy == "cli" and channel not in CLI_CHANNELS:
        return (
            f"it was approved via {channel} ({attestation(channel)}), and this server accepts only approvals made "
            "with `incident-response-mcp approve` (--approvals cli)"
        )
    return None


@dataclass(frozen=True)
class Caller:
    """Who is calling a tool: the authenticated HTTP principal, or the local stdio client (no principal)."""

    transport: Literal["stdio", "http"] = "stdio"
    principal: str | None = None
    # In team mode (--auth kubernetes), the toolsets the cluster's RBAC grants this caller (read, plan, confirm);
    # None: no per-toolset authorization, every listed tool may be called.
    grants: tuple[str, ...] | None = None

    def describe(self) -> str:
        return f"HTTP principal {self.principal!r}" if self.transport == "http" else "the local stdio client"


LOCAL = Caller()
# Set by the server around every tool call (it knows the transport and the credential); the pending engine reads it
# when it records who planned, approved or confirms. The CLI never sets it: it is the local OS user.
CALLER: ContextVar[Caller] = ContextVar("incident_response_caller", default=LOCAL)


def planner(principal: str | None) -> str:
    return f"HTTP principal {principal!r}" if principal is not None else "a local client"


def self_approved(caller: Caller, channel: str | None, approver: str | None) -> str | None:
    """Over HTTP a client must not approve its own plans in its own dialog: the agent could answer it. An approval
    in the dialog of another authenticated principal, or through the approve command, counts."""
    if caller.transport == "http" and channel == ELICITATION and approver == caller.principal:
        return (
            "it was approved in the dialog of the same HTTP principal that confirms it, and over HTTP an agent could "
            "answer its own client's dialog"
        )
    return None


SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


def program_self_approved(planner: str | None, approver: str | None) -> str | None:
    """A program's account (a Kubernetes ServiceAccount) never approves its own plan, whatever RBAC lets it create:
    in team mode the planner is the principal TokenReview named and the approver who SelfSubjectReview named, the
    same names for the same account. A person approving their own plan is their decision."""
    if planner is not None and planner == approver and planner.startswith(SERVICE_ACCOUNT_PREFIX):
        return (
            f"it was approved by {approver}, the ServiceAccount that planned it: a program does not approve its own "
            "plans, even where the cluster's RBAC lets it create the Approval (unbind it from "
            "incident-response-approver); a person must approve"
        )
    return None
