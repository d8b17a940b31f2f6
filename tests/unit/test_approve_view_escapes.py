"""The human's view of a plan (`pending`, `approve`, the confirmation dialog) cannot be rewritten by the cluster.

A plan's summary and warnings quote strings the cluster holds, and a real API server accepts control characters
inside some of them (a container image is checked only for surrounding whitespace). Printed raw, `ESC[8m` hides
every line after it (the command, the diff, the undo) and `ESC[1A` + CR rewrites the line above, so the human would
approve a plan they were not shown. Played: a revision whose image carried them, rolled back to (notes-review-assist
F12).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from support.fakekube import seat

from incident_response.server import confirmation
from incident_response.server.cli import main
from incident_response.tools.core.plan_warnings import warning
from incident_response.tools.core.printable import printable
from incident_response.tools.engine.approvals import LOCAL
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine
from incident_response.tools.engine.plan import KubeWrite, PlanDraft, Step, Target

EVIL_IMAGE = "registry.example.com/img/billing:1.9.0\x1b[2K\r\x1b[1Acommand kubectl get pods\x1b[8m\u202e"
HEREDOC = "kubectl apply -f - -n shop <<'POLICY'\nkind: NetworkPolicy\nPOLICY"


def propose(state: Path) -> str:
    draft = PlanDraft(
        tool="rollback_deployment",
        summary=f"Roll deployment billing back to revision 2 (image {EVIL_IMAGE}).",
        target=Target(kind="Deployment", namespace="img", name="billing"),
        steps=[
            Step(
                description="undo",
                command=HEREDOC,
                action=KubeWrite(verb="patch", resource="deployments", namespace="img", name="billing", body=[]),
            )
        ],
        undo_command="kubectl rollout undo deployment/billing -n img --to-revision=3",
        warnings=[
            warning("image", f"revision 2 runs {EVIL_IMAGE}", f"revision 2 runs {EVIL_IMAGE} (ReplicaSet billing-2)")
        ],
    )
    token = PendingEngine(Journal(state)).propose(draft, seat("standard")).token
    assert token
    return token


def controls(text: str) -> list[str]:
    return [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")]


def test_pending_prints_no_control_character_from_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    propose(tmp_path)
    with pytest.raises(SystemExit):
        main(["pending", "--state-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert controls(out) == []
    assert "\\x1b[8m" in out and "\\u202e" in out  # shown, visibly
    assert HEREDOC in out  # a here-document keeps its lines
    assert "\ncommand kubectl get pods" not in out  # the image cannot start a line of its own


def test_the_confirmation_dialog_shows_no_control_character_from_the_plan(tmp_path: Path) -> None:
    token = propose(tmp_path)
    found = PendingEngine(Journal(tmp_path)).get(token)
    assert found is not None
    text = confirmation.question(found[1], LOCAL, "123456")
    assert controls(text) == [] and "\\x1b[8m" in text and HEREDOC in text


def test_printable_keeps_ordinary_text() -> None:
    assert printable("Roll web back: 3 -> 2 (é, 中文)\tok") == "Roll web back: 3 -> 2 (é, 中文)\tok"
    assert printable("a\nb") == "a\\x0ab"
    assert printable("a\nb", newlines=True) == "a\nb"
    assert printable("\x1b[8m\x7f\x9b\u200f") == "\\x1b[8m\\x7f\\x9b\\u200f"
