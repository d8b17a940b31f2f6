"""The journal's state directory is refused when another user could have planted plans, approvals or the seal key in
it before this process opened it.

Layer: tools.engine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from incident_response.tools.core import errors


def refuse_shared(folder: Path) -> None:
    """Refuse a state directory every user may write, or another user's own: another user could plant a journal
    holding an approved plan, or the seal key, before this process opens it (a --state-dir under /tmp that someone
    else made first)."""
    mode = folder.stat().st_mode
    if mode & stat.S_IWOTH:
        raise errors.InvalidArgument(
            f"the state directory {folder} is writable by every user of this machine (mode {stat.S_IMODE(mode):o}), "
            f"so another user could plant plans, approvals or the seal key in it; nothing was read from it. Use a "
            f"directory only you (or your group) can write: `chmod o-w {folder}` if it is yours, or another "
            "--state-dir"
        )
    # Another user's directory that is not a group's shared one: they could have planted the journal and the seal key
    # (files this user may read and write) before this process opened it. Root's stays usable (a system directory).
    owner = folder.stat().st_uid
    if owner not in (os.geteuid(), 0) and not mode & stat.S_IWGRP:
        raise errors.InvalidArgument(
            f"the state directory {folder} belongs to another user (uid {owner}) and is not a group's shared "
            "directory, so its owner could have planted plans, approvals or the seal key in it; nothing was read "
            "from it. Run this as its owner (e.g. sudo -u THAT_USER), or use your own directory: another --state-dir "
            "(default ~/.local/state/incident-response-mcp)"
        )
