"""Which incidents a server works on: those opened by servers on its cluster with its namespace allow-list.

Every server a user starts shares the default state directory (and team replicas share one store), so the journal
holds incidents of other clusters and other allow-lists. An incident records the scope of the server that opened it;
a server's current incident, its list of incidents and an incident it is asked for by id are those of its own scope,
so neither the title, nor the timeline, nor the declaration of another cluster's or another allow-list's incident
reaches it. The scope is a digest of what a plan's binding records without a request (API server, context, CA,
allow-list): a server that can read the kube-system uid and one that cannot still share their incident.

Layer: tools.engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from incident_response.tools.engine.binding import ClusterIdentity


def incident_scope(cluster: ClusterIdentity | None, namespaces: Iterable[str]) -> str:
    """The scope key of a server on `cluster` (None: no cluster configured) with this allow-list (empty: all)."""
    where = None if cluster is None else [cluster.server, cluster.context, cluster.ca_sha256]
    canonical = json.dumps({"cluster": where, "namespaces": sorted(set(namespaces))}, sort_keys=True)
    # 128 bits of hex: the journal's masker leaves hex alone, and rows are found by equality.
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
