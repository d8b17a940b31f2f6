"""evaluate_decision's memory of the human's denials (review-assist7 H5): a walk that ends in the very mitigation the
human denied in this incident says so first, with when and why, instead of "nothing the human said stops it".

Layer: tools.decide.
"""

from __future__ import annotations

from incident_response.tools.decide import after_denial
from incident_response.tools.engine.denials import newest_denial
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.plan import PendingCommand


def declined(deps: Deps, namespace: str, target: str | None, action: str) -> list[str]:
    """The caution for the newest denial, in this incident, of a plan of `action` on `target` ("kind/name"), with the
    next safe step when the cluster shows one."""
    found = newest_denial(deps, namespace, target, action)
    if found is None:
        return []
    row, said = found
    step = after_denial.next_step(deps, PendingCommand.model_validate(row.plan))
    return [f"{said}: plan it again only if they now ask for it" + (f". {step}" if step else "")]
