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
