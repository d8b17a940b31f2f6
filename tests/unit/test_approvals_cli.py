import getpass
import subprocess
import sys
from pathlib import Path

import pytest

from incident_response.server.cli import main
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine
from incident_response.tools.engine.plan import KubeWrite, PlanDraft, Step, Target


def propose(state: Path) -> str:
    engine = PendingEngine(Journal(state))
    draft = PlanDraft(
        tool="rollback_deployment", summary="Roll web back to revision 2",
        target=Target(kind="Deployment", namespace="shop", name="web"),
        steps=[Step(description="undo", command="kubectl rollout undo deployment/web -n shop --to-revision=2",
                    action=KubeWrite(verb="patch", resource="deployments", namespace="shop", name="web", body=[],
                                     patch_type="json"))],
        undo_command="kubectl rollout undo deployment/web -n shop --to-revision=3",
    )  # fmt: skip
    token = engine.propose(draft, "standard").token
    assert token
    return token


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out = capsys.readouterr()
    return int(exit_info.value.code or 0), out.out + out.err


def test_pending_lists_command_diff_undo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = propose(tmp_path)
    code, out = run(capsys, "pending", "--state-dir", str(tmp_path))
    assert code == 0
    assert token in out and "kubectl rollout undo deployment/web -n shop --to-revision=2" in out
    assert "undo    kubectl rollout undo deployment/web -n shop --to-revision=3" in out


def test_approve_records_os_user_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = propose(tmp_path)
    code, out = run(capsys, "approve", token, "--state-dir", str(tmp_path))
    assert code == 0 and "approved" in out
    row = Journal(tmp_path).command(token)
    assert row and row.state == "approved" and row.decided_by == getpass.getuser() and row.decided_channel == "cli"
    code, out = run(capsys, "pending", "--state-dir", str(tmp_path))
    assert "state   approved" in out


def test_deny_with_reason_then_approve_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = propose(tmp_path)
    assert run(capsys, "deny", token, "--reason", "wrong revision", "--state-dir", str(tmp_path))[0] == 0
    code, out = run(capsys, "approve", token, "--state-dir", str(tmp_path))
    assert code == 1 and "denied" in out
    denied = [e for e in Journal(tmp_path).events(token=token) if e.kind == "denied"]
    assert denied[0].detail == {"reason": "wrong revision"} and denied[0].channel == "cli"


def test_unknown_token_and_missing_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    propose(tmp_path)
    code, out = run(capsys, "approve", "nope", "--state-dir", str(tmp_path))
    assert code == 1 and "unknown_token" in out
    code, out = run(capsys, "pending", "--state-dir", str(tmp_path / "elsewhere"))
    assert code == 1 and "no journal" in out


def test_state_dir_from_environment(tmp_path: Path) -> None:
    token = propose(tmp_path)
    argv = [sys.executable, "-c", "from incident_response.server.cli import main; main()", "approve", token]
    env = {"INCIDENT_RESPONSE_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "approved" in done.stdout
