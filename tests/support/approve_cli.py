"""The human's approve CLI under test: a plan to decide on, and what a decision leaves in the journal."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from pathlib import Path

from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine
from incident_response.tools.engine.plan import Change, KubeWrite, PlanDraft, Step, Target
from support.fakekube import seat

COMMAND = "kubectl rollout undo deployment/web -n shop --to-revision=2 --context prod-eu1"
UNDO = "kubectl rollout undo deployment/web -n shop --to-revision=3 --context prod-eu1"
ME = pwd.getpwuid(os.getuid()).pw_name


def propose(state: Path, token_factory: Callable[[], str] | None = None) -> str:
    engine = PendingEngine(Journal(state), token_factory=token_factory)
    draft = PlanDraft(
        tool="rollback_deployment",
        summary="Roll web back to revision 2",
        target=Target(kind="Deployment", namespace="shop", name="web"),
        steps=[
            Step(
                description="undo",
                command=COMMAND,
                action=KubeWrite(
                    verb="patch", resource="deployments", namespace="shop", name="web", body=[], patch_type="json"
                ),
            )
        ],
        undo_command=UNDO,
        diff=[Change(path="spec.template.spec.containers[web].image", before="shop/web:3", after="shop/web:2")],
    )
    token = engine.propose(draft, seat("standard")).token
    assert token
    return token


# Tokens as one in 64 of the old generator's (secrets.token_urlsafe(32)) were: starting with '-'. Fixed, not drawn:
# whether the masker (tools/core/masking.py) takes such a token for a secret depends on its characters, and the two
# answers differ, so each test names the shape it means.
# Not secret-shaped on its own (a '_' and a '-' break every 40-character run): stored under its own name, but the
# plan that carries it in a credential-named field is stored masked.
FORGED = "-4MCSCpBw2daQ_39eFKi4Itenuv3YmDXvZ1Cp-SagNc"
# Secret-shaped on its own (40 mixed-case characters with digits, as a bare AWS secret key): as about one in 50 of
# the old generator's, masked even as the journal's key, so no lookup by the token finds its plan.
FORGED_SECRET_SHAPED = "-RXTAvqtkJGen82NFff7t6Mw6ZCQQYKN6ZOE25OvU_E"


def forged() -> str:
    return FORGED


def approvals(state: Path, token: str) -> list[tuple[str, str | None, str | None]]:
    events = Journal(state).events(token=token)
    return [(e.kind, e.actor, e.channel) for e in events if e.kind in ("approved", "denied")]
