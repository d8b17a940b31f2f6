"""Argument types the tools share: each bound is stated once, in the input schema, and checked before a tool runs.

The server validates every tool's arguments strictly (no boolean for a count, no "5" for 5) and never echoes the
offending value (server/app.py); these types add the bounds that make sense for Kubernetes, so nonsense (a port named
`x;id`, 10**30 replicas, a quantity with a trailing newline, a megabyte token) is refused with a message naming the
argument, and nothing is planned.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from incident_response.tools.core import errors
from incident_response.tools.k8s import labels

INT32_MAX = 2**31 - 1  # replica counts are int32 in the Kubernetes API
INT64_MAX = 2**63 - 1  # revisions are int64

Replicas = Annotated[int, Field(ge=0, le=INT32_MAX)]
PositiveReplicas = Annotated[int, Field(ge=1, le=INT32_MAX)]
Revision = Annotated[int, Field(ge=1, le=INT64_MAX)]
Index = Annotated[int, Field(ge=0, le=10_000)]

# A Service port: a number, or a name (IANA_SVC_NAME: at most 15 lowercase letters, digits and '-').
PortNumber = Annotated[int, Field(ge=1, le=65535)]
PortName = Annotated[str, Field(min_length=1, max_length=15, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
Port = PortNumber | PortName

# Memory the way a limit is written (512Mi, 1Gi, 1073741824): no sign, no exponent, nothing after the unit.
MemoryQuantity = Annotated[
    str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
]

# Tokens are 43 URL-safe characters (tools.pending.new_token); anything far longer is not one of ours.
TOKEN_MAX = 64
Token = Annotated[str, Field(min_length=1, max_length=TOKEN_MAX, pattern=r"^[A-Za-z0-9_-]+$")]


# A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters.
LabelKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=317,
        pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
    ),
]


def _selector(text: str) -> str:
    try:
        labels.parse(text)
    except errors.InvalidArgument as e:
        raise ValueError(str(e)) from e
    return text


# A label selector as kubectl takes it, parsed before the tool runs so a malformed one never reaches a command line.
SelectorText = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_selector)]
