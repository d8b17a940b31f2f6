"""Revisions dated in the past (sim.incident-response.dev/rolled-out-minutes-ago): which objects, how far back.

The Deployment controller dates a new ReplicaSet; while it rolls out, its scaling events, the deployment's
conditions and the pods it creates are dated as far back, and the kubelet runs those pods as if since then.
An entry lasts a short while of cluster time (the rollout), so a pod replaced later is dated now.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Callable


class Dating:
    def __init__(self, clock: Callable[[], float], window: float) -> None:
        self._clock = clock
        self._window = window
        self._entries: dict[str, tuple[float, float]] = {}  # uid -> (seconds back, cluster time it lapses)

    def date(self, uid: str, seconds: float) -> None:
        self._entries[uid] = (seconds, self._clock() + self._window)

    def shift(self, uid: str) -> float:
        """Seconds back writes about `uid` are dated; 0 when it is not (or no longer) dated."""
        entry = self._entries.get(uid)
        if entry is None:
            return 0.0
        if self._clock() >= entry[1]:
            del self._entries[uid]
            return 0.0
        return entry[0]

    def take(self, uid: str) -> float:
        """`shift`, and forget the entry (a pod's dating is used once, when it first runs)."""
        seconds = self.shift(uid)
        self._entries.pop(uid, None)
        return seconds

    def forget(self, uid: str) -> None:
        self._entries.pop(uid, None)
