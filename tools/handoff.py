"""placeholder while the handoff is written"""

from __future__ import annotations

from incident_response.tools import errors
from incident_response.tools.deps import Deps
from incident_response.tools.models import ToolResult


class Handoff(ToolResult):
    pass


def incident_handoff(deps: Deps, namespace: str) -> Handoff:
    """Not built yet."""
    raise errors.InvalidArgument("not built yet")
