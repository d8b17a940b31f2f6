"""Pod creates a LimitRange refuses: the LimitRanger admission plugin's words in a Deployment's ReplicaFailure.

A container outside a LimitRange item's bounds is refused at admission ('pods "web-x" is forbidden: maximum memory
usage per Container is 1Gi, but limit is 2Gi'; 'minimum cpu usage per Container is 100m, but request is 50m';
'memory max limit to request ratio per Container is 2, but provided ratio is 4.000000'; several: '[..., ...]'). The
ReplicaSet retries its creates and reports the refusal as its ReplicaFailure condition, which the Deployment mirrors:
no pod is made, so none fails, and more replicas are refused the same way.

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from typing import Any

from incident_response.tools.core.errors import truncate
from incident_response.tools.core.masking import mask_text

LIMIT_WORDS = re.compile(r"(?:minimum|maximum) \S+ usage per (?:Container|Pod) is|max limit to request ratio per")
FORBIDDEN = " is forbidden: "


def limit_refusal(deployment: dict[str, Any]) -> str | None:
    """What the LimitRange refuses, from the Deployment's ReplicaFailure condition (the text after 'is forbidden: '),
    or None when it reports no such refusal (a quota's is another)."""
    for cond in (deployment.get("status") or {}).get("conditions") or []:
        message = str(cond.get("message") or "")
        if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True" and LIMIT_WORDS.search(message):
            # quoted in reasons: masked and cut as event messages are (a status is whoever may write it)
            return truncate(mask_text(" ".join(message.split(FORBIDDEN, 1)[-1].split())), 300)
    return None
