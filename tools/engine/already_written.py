"""Whether a stale plan's writes are already in place: the cluster changed since the plan because someone made the
same change (a colleague ran the rollback, or the scale, by hand). The stale answer then says nothing is left to run
instead of "plan again": a second rollback plan without to_revision goes to kubectl's default, the revision the
hand rollback just undid.

Only what a write sets under /spec is compared (its metadata, such as a revision annotation, moves with any write);
a write that creates, deletes or evicts, or merges lists by key, is never judged in place.

Layer: tools.engine.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.plan import KubeWrite, Step, resolve
from incident_response.tools.kube.client import Kube


def already_written(kube: Kube, steps: list[Step]) -> bool:
    """Every write of `steps` is a patch whose /spec values the target already has (read now); False on any doubt."""
    writes = [s.action for s in steps if isinstance(s.action, KubeWrite)]
    if not writes or len(writes) != len(steps) or any(w.verb != "patch" or w.name is None for w in writes):
        return False
    try:
        return all(in_place(w, kube.get(w.resource, str(w.name), w.namespace)) for w in writes)
    except errors.IncidentError:
        return False


def in_place(write: KubeWrite, current: dict[str, Any]) -> bool:
    if write.subresource not in (None, "scale"):
        return False
    if write.patch_type == "json" and isinstance(write.body, list):
        sets = [
            op
            for op in write.body
            if isinstance(op, dict)
            and op.get("op") in ("add", "replace")
            and str(op.get("path", "")).startswith("/spec/")
        ]
        others = [op for op in write.body if isinstance(op, dict) and op.get("op") in ("remove", "move", "copy")]
        return bool(sets) and not others and all(resolve(current, str(op["path"])) == op.get("value") for op in sets)
    if isinstance(write.body, dict) and isinstance(spec := write.body.get("spec"), dict) and spec:
        return holds(current.get("spec"), spec)
    return False


def holds(have: Any, want: Any) -> bool:
    """`have` already has every value `want` (a merge patch's part) sets; lists (merged by key) are not judged."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(holds(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        return False
    return bool(have == want)
