"""What a refused rollback (one revision kept) suggests instead, from its pods (tools/playbook/no_rollback.py)."""

from __future__ import annotations

from support.builders import container_status, pod

from incident_response.tools.playbook.no_rollback import instead


def test_pods_failing_readiness_are_read_through_their_events_and_scaled_only_for_load() -> None:
    running = pod("web-1", deployment="web", containers=[container_status(ready=False)])
    text = instead("shop", "deployment", "web", [running])
    assert "fail readiness" in text and "list_events(namespace='shop', object='pod/web-1'" in text, text
    assert "scale only if that shows load" in text, text


def test_oomkilled_pods_raise_the_memory_limit_with_the_kind() -> None:
    killed = pod("db-0", containers=[container_status(restarts=3, last_terminated="OOMKilled")])
    text = instead("shop", "statefulset", "db", [killed])
    assert "set_memory_limit(namespace='shop', deployment='db', kind='statefulset')" in text, text
