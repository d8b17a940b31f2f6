"""What a namespace read makes of each page of pods while the next page is read: each pod's component and, once the
metrics are in, its usage row. Made after the last page instead, they were a quarter second of a 10,000-pod
assessment that nothing overlapped.

Layer: tools.assess.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from incident_response.tools.k8s.podstatus import PodRow, component_of
from incident_response.tools.k8s.usage import PodUsage, usage_rows

Usage = dict[str, tuple[float, float]]


class PageWork:
    """`page` is fetch_pods' on_page hook; `finish` gives the usage rows of every page, in the pods' order."""

    def __init__(self, metrics: Future[Usage | None]) -> None:
        self.components: dict[str, str] = {}  # pod name -> component (owning workload, else app label)
        self._metrics = metrics
        self._usage: list[PodUsage] = []
        self._waiting: list[list[dict[str, Any]]] = []  # pages read before the metrics were

    def page(self, pods: list[dict[str, Any]], rows: list[PodRow]) -> None:
        self.components.update((row.name, component_of(pod)) for pod, row in zip(pods, rows, strict=True))
        self._waiting.append(pods)
        if self._metrics.done() and self._metrics.exception() is None:
            self._drain(self._metrics.result() or {})

    def finish(self, usage: Usage) -> list[PodUsage]:
        """Every page's usage rows; pages still waiting use `usage` (the metrics as the caller read them: {} when
        there are none or they may not be read)."""
        self._drain(usage)
        return self._usage

    def _drain(self, usage: Usage) -> None:
        for pods in self._waiting:
            self._usage.extend(usage_rows(pods, usage))
        self._waiting.clear()
