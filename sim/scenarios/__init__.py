"""Named incident scenarios: a small realistic shop, broken one way each (see shop.py for the shape).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim.scenarios.scale import add_scale_pods
from incident_response.sim.scenarios.shop import shop

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

SCENARIOS: dict[str, str] = {
    "healthy": "the shop running normally: every deployment available, nothing recent",
    "bad-deploy": "checkout revision 3 (rolled out minutes ago) crash-loops; revision 2 was good",
    "overload": "web CPU saturated and HPA pinned at max 6 (ScalingLimited); no deploy in days; nodes have room",
    "poison": "api-bad's version=bad pods (behind Service api) make web's pods fail readiness",
    "oom": "payments revision 2 is OOMKilled: memory limit 256Mi below the 512Mi it needs",
    "canary": "web-canary (version=canary) crash-loops beside web-stable, both behind Service web (app=web)",
    "node-failure": "node-2 is NotReady; the pods on it are not ready",
    "bad-statefulset": "StatefulSet sessions revision 2 (an image bump 15 minutes ago) reached sessions-2, which "
    "crash-loops; the ordered rollout stopped there; revision 1 ran for 30 days",
    "bad-daemonset": "DaemonSet db-proxy revision 2 (12 minutes ago) replaced node-1's pod, which crash-loops; the "
    "rolling update stopped there (maxUnavailable 1)",
}

__all__ = ["SCENARIOS", "load_scenario"]


def load_scenario(name: str, cluster: Cluster, *, extra_pods: int = 0) -> None:
    """Seed a scenario through the store, then let the controllers converge (crash loops keep going)."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}")
    shop(cluster, name)
    if extra_pods:
        add_scale_pods(cluster, extra_pods)
    cluster.settle(timeout=15.0)
    # Long enough for crash-looping containers to have died once, so the incident is visible on load.
    cluster.run_for(cluster.timing.crash_after + 3 * cluster.timing.tick)
