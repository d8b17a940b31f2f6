"""Which component poisons which: blame a peer only where a failing pod's errors come FROM it.

A failing pod's events and logs name many peers, and most are not to blame: every access log starts with the address
of the CALLER (a healthy frontend calling a crashing backend shows up in each of the backend's lines), health lines
name neighbours, and an outside user can get any text logged (a URL, a header). Blaming whatever is named makes the
ISOLATE rule take a healthy caller out of traffic, and turns logged text into an outage. So a peer is blamed only when
  - it is named in SERVER position of an error: "HTTP 500 responses from pod X", "dial tcp X:8080: connection
    refused", upstream=X; never in client position (an access log line's first field or its request/referer/agent
    text, client=/remote_addr=/from= keys, "request from X");
  - the naming pod does not crash on its own (a container that exits, restarts or panics has a cause of its own: its
    crash line is the evidence, read with get_logs previous=true);
  - the peer is a suspect anyway: it rolled out recently or its own pods fail. Isolating a healthy peer that did not
    change, on the word of a log line, is the outage this module exists to prevent.

Layer: tools.playbook.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]")
MAX_EVIDENCE = 5
CONTEXT = 48  # characters before a name that say which side of the request it is on
# An inbound request's log line (common/combined log format, or any line quoting "METHOD /path HTTP/x"): its
# addresses are callers and its quoted fields are the caller's text.
ACCESS_LOG = re.compile(r'"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT|TRACE) \S* HTTP/\d(?:\.\d)?"')
# The kubelet's own HTTP/TCP probe of the pod: the address it names is the pod's (an exec probe's output, which may
# report an upstream, reads otherwise).
KUBELET_PROBE = re.compile(
    r"^(?:Readiness|Liveness|Startup) probe failed: (?:Get |Post |HTTP probe failed|dial tcp |tcp |[^:]*: dial tcp )"
)
ERROR = re.compile(
    r"(?i)\b(?:fail\w*|error\w*|refused|reset|timed? ?out|timeout|unavailable|unreachable|[45]\d\d|bad|invalid|"
    r"corrupt\w*|poison\w*|reject\w*|broken|exception|deadline)\b"
)
# Client position: the name is whoever called the failing pod.
CLIENT = re.compile(
    r"(?i)(?:\b(?:client|caller|remote|src|source|from|peer|requester|x-forwarded-for|forwarded|user)"
    r"(?:[_-]?(?:addr(?:ess)?|ip|host|pod))?\s*[=:]\s*\"?(?:\S+,\s*)*"
    r"|\b(?:request|requests|connection|connections|call|calls|accepted|handshake|inbound|incoming|client|caller)\b"
    r"[^.;:]*\bfrom\s+(?:pod\s+|host\s+|ip\s+|client\s+)?"
    r"|\b(?:called|requested|sent|invoked)\s+by\s+(?:pod\s+|client\s+)?)$"
)
# Server position: the name is what the failing pod called, and the error came back from it.
SERVER = re.compile(
    r"(?i)(?:\b(?:upstream|upstream[_-]?(?:addr|host)|server|server[_-]?(?:addr|host)|target|backend|dest|"
    r"destination|dst|host|endpoint|url|addr)\s*[=:]\s*[\"']?(?:[a-z]+://)?"
    r"|\b(?:from|by|to|dial(?:ing)?(?:\s+(?:tcp|udp))?|connect(?:ing)?(?:\s+to)?|calling|upstream|backend|server)"
    r"\s+(?:pod\s+|host\s+|upstream\s+|backend\s+|server\s+|service\s+)?\(?(?:[a-z]+://)?"
    # Node's socket errors (connect ECONNREFUSED X:6379), Spring's 'I/O error on GET request for "http://X/..."'
    r"|\bE(?:CONNREFUSED|CONNRESET|TIMEDOUT|HOSTUNREACH|NETUNREACH|PIPE)\s+|\brequest\s+for\s+\"(?:[a-z]+://))$"
)
# nginx's error log: the client, server and request fields are the caller's; `upstream: "..."` (after the quoted
# request, whose quotes nginx escapes) is the peer the error came from.
NGINX_ERROR = re.compile(
    r'\bclient: [^,\s]+, server: [^,]*, request: "[^"]*", upstream: "(?:[a-z]+://)?([A-Za-z0-9.-]+)(?::\d+)?[/"]'
)
# Envoy's default access log: the caller's fields are quoted in the middle; the last one is the upstream host Envoy
# picked (%UPSTREAM_HOST%), and a 5xx response names it as the failing peer.
ENVOY_ACCESS = re.compile(r'^\[[^\]]*\] "[A-Z]+ \S* HTTP/[\d.]+" 5\d\d \S+ .* "([A-Za-z0-9.-]+):\d+"\s*$')
# A crash's own words: Go panics, fatal log lines, Python tracebacks and the exception that ends them.
CRASH_FIRST = re.compile(r"(?i)\b(?:panic|fatal|segmentation fault|SIGSEGV|out of memory)\b")
CRASH_LAST = re.compile(r"(?i)(?:\b\w*(?:Error|Exception)\b|\berror\b)")


@dataclass
class Poisoning:
    victim: str  # component whose pods fail
    culprit: str  # component they name
    culprit_pods: list[str]
    selector: str  # label selector for the culprit's pods
    evidence: list[str]
    services: list[str] = field(default_factory=list)  # Services sending traffic to the culprit's pods
    why: str = "is a suspect"  # why the culprit is suspected anyway: "rolled out revision 1 25 minutes ago"


@dataclass
class Peers:
    """Who is who among the pods read: names and IPs to components, and labels for the culprit's selector."""

    component_of_pod: dict[str, str]
    component_of_ip: dict[str, str]
    pod_of_ip: dict[str, str]
    labels_of_pod: dict[str, dict[str, str]]

    def named(self, token: str) -> tuple[str, str] | None:
        """(component, pod) a token names, by pod name or pod IP."""
        if token in self.component_of_pod:
            return self.component_of_pod[token], token
        component, pod = self.component_of_ip.get(token), self.pod_of_ip.get(token)
        return (component, pod) if component is not None and pod is not None else None


def server_named(text: str) -> Iterable[str]:
    """Tokens `text` names in server position of an error; nothing from an access log line, a kubelet HTTP/TCP probe
    of the pod itself (its address may since belong to another pod) or a line with no error. nginx's upstream errors
    and Envoy's 5xx access lines name their upstream in a field of their own: that field alone."""
    for structured in (NGINX_ERROR.search(text) if ERROR.search(text) else None, ENVOY_ACCESS.search(text)):
        if structured is not None:
            yield structured.group(1)
            return
    if ACCESS_LOG.search(text) or KUBELET_PROBE.search(text) or not ERROR.search(text):
        return
    for match in TOKEN.finditer(text):
        before = text[max(0, match.start() - CONTEXT) : match.start()]
        if CLIENT.search(before):
            continue
        if SERVER.search(before):
            yield match.group()


def find_poisonings(
    messages: list[tuple[str, str]],
    peers: Peers,
    failing_components: set[str],
    *,
    crashing: set[str],
    suspects: dict[str, str],
) -> list[Poisoning]:
    """`messages` are (pod name, text) from Warning events and logs of pods. A failing component whose errors come from
    pods of a different component that is a suspect (`suspects`: component -> why, a recent rollout or its own
    failing pods, in order of preference) points at that component as the poison; pods in `crashing` fail on their
    own and blame nobody."""
    found: dict[tuple[str, str], Poisoning] = {}
    for pod, text in messages:
        victim = peers.component_of_pod.get(pod)
        if victim is None or victim not in failing_components or pod in crashing:
            continue
        for token in server_named(text):
            named = peers.named(token)
            if named is None or named[0] == victim or named[0] not in suspects:
                continue
            culprit, culprit_pod = named
            entry = found.setdefault((victim, culprit), Poisoning(victim, culprit, [], "", []))
            if culprit_pod not in entry.culprit_pods:
                entry.culprit_pods.append(culprit_pod)
            line = f"{pod}: {text[:200]}"
            if len(entry.evidence) < MAX_EVIDENCE - 1 and line not in entry.evidence:
                entry.evidence.append(line)
    for entry in found.values():
        entry.selector = common_selector([peers.labels_of_pod.get(p, {}) for p in entry.culprit_pods])
        entry.why = suspects[entry.culprit]
        entry.evidence.append(f"{entry.culprit} {entry.why}")
    # The likeliest first: a culprit earlier in `suspects` (one that changed recently before one that only fails), then
    # the one most victims' messages name.
    rank = {component: index for index, component in enumerate(suspects)}
    return sorted(found.values(), key=lambda p: (rank[p.culprit], -len(p.evidence)))


def common_selector(label_sets: list[dict[str, str]]) -> str:
    """Labels every given pod shares (minus the controller's hash): the narrowest selector covering them all."""
    if not label_sets:
        return ""
    shared = {k: v for k, v in label_sets[0].items() if k != "pod-template-hash"}
    for labels in label_sets[1:]:
        shared = {k: v for k, v in shared.items() if labels.get(k) == v}
    return ",".join(f"{k}={v}" for k, v in sorted(shared.items()))


def crash_line(log: str) -> str | None:
    """The line of a crashed container's log that says why it exited: the first panic/fatal line (Go and most
    loggers print it before the stack), else the last error or exception line (Python's traceback ends with it)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    first = next((line for line in lines if CRASH_FIRST.search(line)), None)
    if first is not None:
        return first[:200]
    last = next((line for line in reversed(lines) if CRASH_LAST.search(line)), None)
    return last[:200] if last is not None else None
