"""Who a failing pod's lines blame: the peer its errors come from, never its caller, never on text alone."""

from __future__ import annotations

import pytest

from incident_response.tools.playbook.poisoning import Peers, crash_line, find_poisonings, server_named

IP = "10.244.2.9"  # frontend-1's address

SERVER = [
    f"Readiness probe failed: upstream check failed: 5 consecutive HTTP 500 responses from pod frontend-1 ({IP})",
    f'Get "http://api/items": dial tcp {IP}:8080: connect: connection refused',
    f'level=error msg="upstream failed" upstream={IP}:8080 status=502',
    f"error: request to {IP}:8080 timed out",
    f"bad data from {IP}",
    # review-assist F18b: the common formats that named no one. nginx's error log (the request quoted, the client
    # another pod), Envoy's access log (the upstream host last), Spring, Python requests, Node.
    f"2026/12/05 01:35:02 [error] 7#7: *41 upstream timed out (110: Connection timed out) while reading response "
    f'header from upstream, client: 10.244.3.7, server: _, request: "GET /api HTTP/1.1", upstream: '
    f'"http://{IP}:8080/api", host: "shop.example.com"',
    f'[2026-12-05T01:35:02.120Z] "GET /api/items HTTP/1.1" 503 UF 0 91 3 - "10.244.3.7" "curl/8" '
    f'"5f1e-77" "shop.example.com" "{IP}:8080"',
    f'org.springframework.web.client.ResourceAccessException: I/O error on GET request for "http://{IP}:8080/api": '
    "Connection refused",
    f"requests.exceptions.ConnectionError: HTTPConnectionPool(host='{IP}', port=8080): Max retries exceeded with url: "
    "/api (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))",
    f"Error: connect ECONNREFUSED {IP}:6379",
]
CLIENT = [
    f'{IP} - - [05/Dec/2026:01:35:02 +0000] "POST /api/cart/items HTTP/1.1" 500 0 "-" "curl/8"',
    f'{IP} - - "POST /api/cart/items HTTP/1.1" 500 0 3ms',
    f'10.1.1.1 - - "GET /search?q=error+response+from+{IP} HTTP/1.1" 500 12',
    f'level=error msg="handler failed" client={IP}:51234 status=500',
    f'level=error msg="request failed" remote_addr={IP} path=/api',
    f'level=error msg="request failed" from={IP}',
    f"error handling request from {IP}: invalid json",
    f"connection from {IP} reset by peer",
    f'level=info msg="health ok" peer {IP}',  # no error: a health line names neighbours
    # The kubelet probing the pod itself: the address was the pod's own (a StatefulSet pod's IP may since be another's)
    f'Readiness probe failed: Get "http://{IP}:8080/ready": dial tcp {IP}:8080: connect: connection refused',
    f"Liveness probe failed: dial tcp {IP}:6379: connect: connection refused",
    # nginx and Envoy name the caller and the caller's text too: only their upstream field is the peer.
    f"2026/12/05 01:35:02 [error] 7#7: *41 connect() failed (111: Connection refused) while connecting to upstream, "
    f'client: {IP}, server: _, request: "GET /{IP} HTTP/1.1", upstream: "http://10.244.1.5:8080/", host: "{IP}"',
    f'[2026-12-05T01:35:02.120Z] "GET /from/{IP} HTTP/1.1" 503 UF 0 91 3 - "{IP}" "upstream={IP}" "5f1e-77" '
    f'"{IP}:8080" "10.244.1.5:8080"',
    f"Invalid HTTP_HOST header: '{IP}:8080'. You may need to add '{IP}' to ALLOWED_HOSTS.",  # the caller's Host
    f'[2026-12-05T01:35:02.120Z] "GET /api HTTP/1.1" 200 - 0 91 3 - "-" "curl/8" "5f1e-77" "shop" "{IP}:8080"',
]


@pytest.mark.parametrize("line", SERVER)
def test_the_peer_an_error_comes_from_is_named(line: str) -> None:
    assert IP in set(server_named(line)) or "frontend-1" in set(server_named(line))


@pytest.mark.parametrize("line", CLIENT)
def test_a_caller_or_a_line_without_error_names_nobody(line: str) -> None:
    assert not {IP, "frontend-1"} & set(server_named(line))


PEERS = Peers(
    component_of_pod={"cart-1": "cart", "frontend-1": "frontend"},
    component_of_ip={IP: "frontend"},
    pod_of_ip={IP: "frontend-1"},
    labels_of_pod={"frontend-1": {"app": "frontend", "pod-template-hash": "x"}},
)
UPSTREAM = [("cart-1", f"Readiness probe failed: 5 consecutive HTTP 500 responses from pod frontend-1 ({IP})")]


def test_a_peer_that_neither_changed_nor_fails_is_not_blamed_on_text_alone() -> None:
    assert find_poisonings(UPSTREAM, PEERS, {"cart"}, crashing=set(), suspects={}) == []
    found = find_poisonings(UPSTREAM, PEERS, {"cart"}, crashing=set(), suspects={"frontend": "rolled out 9 min ago"})
    assert [(p.victim, p.culprit, p.selector) for p in found] == [("cart", "frontend", "app=frontend")]
    assert "frontend rolled out 9 min ago" in found[0].evidence


def test_a_pod_that_crashes_on_its_own_is_no_victim() -> None:
    suspects = {"frontend": "rolled out 9 min ago"}
    assert find_poisonings(UPSTREAM, PEERS, {"cart"}, crashing={"cart-1"}, suspects=suspects) == []


def test_the_crash_line_is_the_panic_or_the_last_exception() -> None:
    go = "level=info msg=start\npanic: nil map in cart.merge\n\ngoroutine 1 [running]:\nmain.main()"
    assert crash_line(go) == "panic: nil map in cart.merge"
    py = "Traceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'user'"
    assert crash_line(py) == "KeyError: 'user'"
    assert crash_line("level=info msg=ok\n") is None


def test_the_handoff_counts_only_warnings_whose_errors_come_from_the_isolated_pods() -> None:
    from incident_response.tools.playbook.handoff_leads import poison_evidence

    def warning(pod: str, message: str) -> dict[str, object]:
        return {"involvedObject": {"name": pod}, "message": message, "count": 3}

    warnings = [
        warning("web-1", "Readiness probe failed: 5 consecutive HTTP 500 responses from pod api-bad-1 (10.0.0.5)"),
        warning("cart-1", "Liveness probe failed: request from api-bad-1 rejected: invalid token"),
    ]
    lines = poison_evidence(["api-bad-1"], warnings)
    assert lines[1].startswith("3 warning(s) of other pods name api-bad-1, e.g. web-1: ") and len(lines) == 2


def test_a_peer_that_changed_recently_is_blamed_before_one_that_only_fails() -> None:
    peers = Peers(
        component_of_pod={"web-1": "web", "web-2": "web", "api-1": "api", "db-1": "db"},
        component_of_ip={},
        pod_of_ip={},
        labels_of_pod={"api-1": {"app": "api"}, "db-1": {"app": "db"}},
    )
    messages = [
        ("web-1", "error: request to db-1 timed out"),
        ("web-2", "error: request to db-1 timed out"),
        ("web-1", "upstream failed: 502 from api-1"),
    ]
    suspects = {"api": "rolled out revision 4 9 minutes ago", "db": "fail themselves (1 pods)"}
    found = find_poisonings(messages, peers, {"web", "db"}, crashing=set(), suspects=suspects)
    assert [p.culprit for p in found] == ["api", "db"]
