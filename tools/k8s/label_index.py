"""Objects indexed by label pair: the pods a Service selects, found without testing every pod of the namespace.

At 10,000 pods and a Service per deployment, testing each Service's selector on every pod is millions of matches;
a Service's selector is a map of equalities, so the pods that carry its rarest pair are the only candidates.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s import labels


class LabelIndex:
    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects
        self._by_pair: dict[tuple[str, str], list[int]] = {}
        for position, obj in enumerate(objects):
            for key, value in labels.labels_of(obj).items():
                self._by_pair.setdefault((str(key), str(value)), []).append(position)

    def matching(self, selector: labels.Selector) -> list[dict[str, Any]]:
        """The objects the selector matches, in their order (an empty selector matches every object, as
        `labels.matches` has it)."""
        if not selector or any(r.op != "=" for r in selector):
            return [o for o in self.objects if labels.matches(selector, labels.labels_of(o))]
        rarest = min((self._by_pair.get((r.key, r.values[0]), []) for r in selector), key=len)
        return [self.objects[i] for i in rarest if labels.matches(selector, labels.labels_of(self.objects[i]))]
