"""The masker: every credential of the corpus is masked, no look-alike is, and positions hide any value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support.secrets_corpus import CREDENTIALS, LOOK_ALIKES, Planted

from incident_response.tools.core.masking import LAST_APPLIED, MASKED, mask_data, mask_text, mask_text_counted, masked
from incident_response.tools.k8s.events import group_events


def test_the_corpora_are_large_enough_and_distinct() -> None:
    assert len(CREDENTIALS) >= 50
    assert len({p.secret for p in CREDENTIALS}) == len(CREDENTIALS)


@pytest.mark.parametrize("planted", CREDENTIALS, ids=lambda p: p.name)
def test_every_credential_shape_is_masked(planted: Planted) -> None:
    clean, count = mask_text_counted(planted.text)
    assert planted.secret not in clean
    assert count >= 1 and MASKED.search(clean)


@pytest.mark.parametrize("line", LOOK_ALIKES)
def test_no_look_alike_is_masked(line: str) -> None:
    assert mask_text_counted(line) == (line, 0)


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("connecting to postgres://app:hunter2pass@db:5432/shop", "postgres://app:[masked:"),
        ("password=hunter2pass", "password=[masked:"),
        ('{"password": "hunter2pass"}', '{"password": "[masked:'),
        ("redis://:hunter2pass@redis:6379/0", "redis://:[masked:"),
        ("Authorization: Token abcdef0123456789", "Authorization: Token [masked:"),
        ("--password hunter2pass --port 8080", "--password [masked:"),
        ("Set-Cookie: session=abcdef0123; Path=/; HttpOnly", "Set-Cookie: session=[masked:"),
    ],
)
def test_a_mask_keeps_the_key_and_the_shape(line: str, kept: str) -> None:
    clean = mask_text(line)
    assert kept in clean, clean
    assert "hunter2pass" not in clean and "abcdef0123" not in clean


def test_the_rest_of_a_connection_string_stays_readable() -> None:
    assert mask_text("mysql://root:p@ss@db:3306/app").endswith("@db:3306/app")
    assert mask_text("Set-Cookie: session=abcdef0123; Path=/; HttpOnly").endswith("; Path=/; HttpOnly")


def test_equal_values_get_equal_masks_and_different_values_different_ones() -> None:
    assert masked("hunter2") == masked("hunter2") != masked("hunter3")


def test_env_values_are_masked_whatever_they_look_like() -> None:
    from_secret = {"name": "URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}
    container = {
        "name": "web",
        "env": [{"name": "MODE", "value": "x"}, {"name": "DB", "value": "plainword"}, from_secret],
    }
    out = mask_data(container)
    assert out["env"][0] == {"name": "MODE", "value": masked("x")}
    assert out["env"][1]["value"] == masked("plainword")
    assert out["env"][2] == container["env"][2]


def test_secret_data_and_last_applied_configuration_are_masked_by_position() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "data": {"url": "cG9zdGdyZXM="}, "stringData": {"a": "b"}}
    out = mask_data(secret)
    assert out["data"] == {"url": masked("cG9zdGdyZXM=")} and out["stringData"] == {"a": masked("b")}
    assert out["metadata"] == {"name": "db"}
    annotations = {
        LAST_APPLIED: '{"env":[{"name":"X","value":"plain"}]}',
        "example.com/db-password": "plainword",
        "example.com/owner": "team-a",
        "example.com/secret-name": "db-creds",
    }
    masked_annotations = mask_data({"annotations": annotations})["annotations"]
    assert masked_annotations[LAST_APPLIED] == masked(annotations[LAST_APPLIED])
    assert masked_annotations["example.com/db-password"] == masked("plainword")
    assert masked_annotations["example.com/owner"] == "team-a"
    assert masked_annotations["example.com/secret-name"] == "db-creds"


def test_the_value_after_a_password_flag_in_container_args_is_masked() -> None:
    out = mask_data({"args": ["--user", "app", "--password", "plainword", "--port", "8080"], "image": "web:1"})
    assert out["args"] == ["--user", "app", "--password", masked("plainword"), "--port", "8080"]


def test_own_pending_tokens_are_never_masked() -> None:
    token = "irm_" + "AbC-_9" * 7 + "x"
    assert mask_text(f"token={token}") == f"token={token}"
    assert mask_data({"token": token}) == {"token": token}


def test_event_messages_are_masked_before_any_tool_quotes_them() -> None:
    """list_events, assess_namespace, verify_recovery and the handoff all group events through group_events."""
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    probe = "Readiness probe failed: Get http://admin:hunter2pass@10.0.0.7:8080/health: connection refused"
    event = {
        "type": "Warning",
        "reason": "Unhealthy",
        "message": probe,
        "count": 3,
        "involvedObject": {"kind": "Pod", "name": "web-1"},
        "lastTimestamp": "2026-11-27T02:59:00Z",
    }
    [group] = group_events([event], now)
    assert "hunter2pass" not in group.message and MASKED.search(group.message)
    assert group.message.startswith("Readiness probe failed: Get http://admin:") and group.count == 3
