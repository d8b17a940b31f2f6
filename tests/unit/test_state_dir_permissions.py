"""A state directory every user of the machine may write is refused: another user could plant a journal with an
approved plan, or the seal key, before this server or the approve command opens it (a `--state-dir /tmp/irm` that
someone else made first). Nothing is read from such a directory, and the error says what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from incident_response.tools.core import errors
from incident_response.tools.engine.journal import DB_NAME, SEAL_KEY_NAME, Journal


def test_a_world_writable_state_dir_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    shared = tmp_path / "irm"
    shared.mkdir()
    os.chmod(shared, 0o777)
    (shared / SEAL_KEY_NAME).write_bytes(b"k" * 32)  # what another user planted
    with pytest.raises(errors.InvalidArgument) as refused:
        Journal(shared)
    message = str(refused.value)
    assert str(shared) in message and "every user" in message and "chmod o-w" in message, message
    assert not (shared / DB_NAME).exists()


@pytest.mark.parametrize("mode", [0o700, 0o750, 0o770, 0o1777 & ~0o002])
def test_a_private_or_group_state_dir_is_used(tmp_path: Path, mode: int) -> None:
    own = tmp_path / "irm"
    own.mkdir()
    os.chmod(own, mode)
    Journal(own).open_incident("t")
    assert (own / DB_NAME).exists()


def owned_by_another_user(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder belongs to a user other than this process's (and not to root): chown when we are root, else
    this process pretends to be another user."""
    if os.geteuid() == 0:
        os.chown(folder, 65534, 65534)  # nobody
    else:
        monkeypatch.setattr(os, "geteuid", lambda: folder.stat().st_uid + 1)


def test_a_state_dir_another_user_owns_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not world-writable is not enough: another user who made `/tmp/irm` first (mode 0755, theirs) and planted a
    journal and a seal key the victim can read and write (0666) controls every plan and approval in it."""
    theirs = tmp_path / "irm"
    theirs.mkdir()
    (theirs / SEAL_KEY_NAME).write_bytes(b"k" * 32)
    os.chmod(theirs / SEAL_KEY_NAME, 0o666)
    os.chmod(theirs, 0o755)
    owned_by_another_user(theirs, monkeypatch)
    with pytest.raises(errors.InvalidArgument) as refused:
        Journal(theirs)
    message = str(refused.value)
    assert str(theirs) in message and "another user" in message and "--state-dir" in message, message
    assert not (theirs / DB_NAME).exists()


def test_a_group_state_dir_another_member_made_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory shared by a team's group (mode 2770, made by one member) stays usable by the others."""
    shared = tmp_path / "irm"
    shared.mkdir()
    owned_by_another_user(shared, monkeypatch)
    os.chmod(shared, 0o2770)
    Journal(shared).open_incident("t")
    assert (shared / DB_NAME).exists()
