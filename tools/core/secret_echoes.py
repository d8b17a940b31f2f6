"""Echoes of values secret by position: the credential-named env values and `--password`-style arguments of a pod,
found verbatim in its log and masked as the value is masked by position (tools/core/masking.py).

Layer: tools.core.
"""

from __future__ import annotations

import re
from typing import Any

from incident_response.tools.core.masking import masked
from incident_response.tools.core.secret_keys import placeholder, secret_key

# Shorter values are left alone: masking every `abc` in a log would hide more than it protects.
ECHO_MIN = 6


def echoed_secrets(pod_spec: Any) -> list[str]:
    """Values this pod holds by position that an app may echo into its log: credential-named env vars' values and
    the arguments after a `--password`-style flag (or after its `=`). Placeholders (`true`, `${VAR}`) and short
    values are not worth looking for."""
    if not isinstance(pod_spec, dict):
        return []
    found: set[str] = set()
    for container in [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]:
        if not isinstance(container, dict):
            continue
        for item in container.get("env") or []:
            if isinstance(item, dict) and secret_key(str(item.get("name") or "")):
                found.add(str(item.get("value") or ""))
        words = [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]
        for previous, arg in zip(["", *words], words, strict=False):
            flag, _, value = arg.partition("=")
            if flag.startswith("-") and value and secret_key(flag):
                found.add(value)
            elif previous.startswith("-") and "=" not in previous and secret_key(previous) and not arg.startswith("-"):
                found.add(arg)
    return sorted(v for v in found if len(v.strip()) >= ECHO_MIN and not placeholder(v))


def mask_echoes(text: str, values: list[str]) -> tuple[str, int]:
    """`text` with each verbatim occurrence of these values masked as the value is masked by position, and how many
    were. One pass, longest value first: a value inside another is not split, and a mask just written is not
    scanned again (a short value could otherwise match inside its hex)."""
    if not values:
        return text, 0
    pattern = re.compile("|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True)))
    return pattern.subn(lambda found: masked(found[0]), text)
