"""Which fresh rollout a saturated caller's own log blames: the callers' errors name the rolled-out deployment's
Service as their upstream (review-assist8 I2). Pure: the log lines and the Services are read in
tools/assess/upstream_reads.py.

Layer: tools.playbook.
"""

from __future__ import annotations

import re

from incident_response.tools.playbook.decision import Facts, RecentRollout, ruled

# Words of a failed call; a line naming the Service without one (a request log, a config echo) blames nothing.
FAILED = re.compile(r"error|timed? ?out|refused|reset by peer|unavailable|deadline exceeded|\b50[234]\b", re.I)
QUOTE_CHARS = 160


def scale_candidate(facts: Facts) -> str | None:
    """The deployment rule 5 would scale up (an HPA at its max first, then CPU at the limit), else None."""
    if facts.saturated_hpas:
        return facts.saturated_hpas[0][1].split("/", 1)[-1]
    if facts.near_limit:
        component = max(facts.near_limit.items(), key=lambda item: len(item[1]))[0]
        if component not in facts.workloads and component not in facts.shared_claims:
            return component
    return None


def fresh_elsewhere(facts: Facts, component: str) -> list[RecentRollout]:
    """Other deployments rolled out in the last 2 hours (newest first; not a rollback in progress, not ruled out)
    while `component` was not: a slower dependency looks like load on its callers."""
    if any(r.deployment == component and not r.rolling_back for r in facts.recent_rollouts):
        return []
    return [
        r
        for r in sorted(facts.recent_rollouts, key=lambda r: r.minutes_ago)
        if r.kind == "deployment" and r.deployment != component and not r.rolling_back and not ruled(facts, r)
    ]


def host_pattern(service: str, namespace: str) -> re.Pattern[str]:
    """The Service's DNS names as a host in a line: svc.ns, svc.ns.svc, svc.ns.svc.<cluster domain>, with or without
    a port; the bare name only as a host (with a port, or after a scheme): 'api' alone is too common a word."""
    svc, ns = re.escape(service), re.escape(namespace)
    return re.compile(
        rf"(?:(?<=://)|(?<![\w.\-/])){svc}(?P<dotted>\.{ns}(?:\.svc(?:\.[a-z0-9-]+)*)?)?(?P<port>:\d+)?"
        r"(?![\w\-]|\.\w)",
        re.I,
    )


def names_upstream(line: str, service: str, namespace: str) -> bool:
    """True when `line` reports a failed call (an error, a timeout) to the Service by one of its DNS names."""
    if not FAILED.search(line):
        return False
    for m in host_pattern(service, namespace).finditer(line):
        after_scheme = line[: m.start()].endswith("://")
        if m.group("dotted") or m.group("port") or after_scheme:
            return True
    return False


def blaming_line(lines: list[str], services: list[str], namespace: str) -> str | None:
    """The newest line that names one of `services` as the upstream of a failed call, shortened; else None."""
    for line in reversed(lines):
        if any(names_upstream(line, s, namespace) for s in services):
            text = line.strip()
            return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 3] + "..."
    return None
