"""The masker: every credential of the corpus is masked, no look-alike is, and positions hide any value."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from support.fakekube import FakeKube
from support.secrets_corpus import CREDENTIALS, LOOK_ALIKE_OBJECTS, LOOK_ALIKES, Planted

from incident_response.tools.core.masking import LAST_APPLIED, MASKED, mask_data, mask_text, mask_text_counted, masked
from incident_response.tools.engine.pending import shown
from incident_response.tools.k8s.events import group_events
from incident_response.tools.mitigate.isolation import plan_isolate


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
    assert json.loads(masked_annotations[LAST_APPLIED]) == {"env": [{"name": "X", "value": masked("plain")}]}
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


def applied(manifest: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "x", "annotations": {LAST_APPLIED: json.dumps(manifest)}}}


def test_a_last_applied_manifest_is_masked_by_position_inside_it() -> None:
    """The annotation copies a whole manifest: a Secret's data, env values, credential-named keys and the value after
    --password are masked there as in the live object; every planted credential too, and nothing shows in clear."""
    secrets = [p.secret for p in CREDENTIALS]
    secret = {"kind": "Secret", "data": {"a": "eHl6MTIz"}, "stringData": {"b": "plainword"}}
    container = {
        "name": "web", "env": [{"name": f"V{i}", "value": s} for i, s in enumerate(["plainword", *secrets])],
        "args": ["--password", "otherword"], "image": "web:1",
    }  # fmt: skip
    config = {
        "kind": "ConfigMap",
        "data": {"db-password": "thirdword", **{f"k{i}": p.text for i, p in enumerate(CREDENTIALS)}},
    }
    for manifest in (secret, {"kind": "Deployment", "spec": {"containers": [container]}}, config):
        shown_text = mask_data(applied(manifest))["metadata"]["annotations"][LAST_APPLIED]
        leaked = [v for v in ("eHl6MTIz", "plainword", "otherword", "thirdword", *secrets) if v in shown_text]
        assert not leaked
        assert json.loads(shown_text)["kind"] == manifest["kind"]
        assert mask_data(applied(manifest)) == mask_data(mask_data(applied(manifest)))


@pytest.mark.parametrize(
    "text",
    [
        "kind: Secret\ndata:\n  a: eHl6MTIz\n",  # not JSON: masked whole
        '["eHl6MTIz"]',  # JSON, but no manifest
        '{"kind":"Secret","data":{"a":"eHl6MTIz"},"data":{}}',  # a duplicate key would hide the first value
    ],
)
def test_a_last_applied_value_that_is_not_one_json_object_is_masked_whole(text: str) -> None:
    assert mask_data({"annotations": {LAST_APPLIED: text}}) == {"annotations": {LAST_APPLIED: masked(text)}}


@pytest.mark.parametrize("obj", LOOK_ALIKE_OBJECTS, ids=lambda o: f"{o['kind']}-{len(json.dumps(o))}")
def test_no_look_alike_object_is_masked(obj: dict[str, Any]) -> None:
    assert mask_data(obj) == obj


def test_an_isolation_plan_is_shown_as_planned_not_refused() -> None:
    """isolate_network's NetworkPolicy carries its own manifest as kubectl's last-applied annotation: no credential,
    so the plan is kept whole (a write that masking would change is refused)."""
    pod = {"metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web", "track": "canary"}}}
    draft = plan_isolate(FakeKube(("pods", pod)), "shop", "app=web,track=canary")
    assert LAST_APPLIED in draft.steps[0].action.body["metadata"]["annotations"]
    plan = shown(draft, b"k" * 32)
    assert plan.steps[0].action == draft.steps[0].action
    assert plan.diff == draft.diff and plan.summary == draft.summary


@pytest.mark.parametrize(
    "line",
    ["credentials: hunter2pass", "credentials=services", 'credentials: "services"', "DB_CREDENTIALS: services"],
)
def test_only_prose_listing_after_credentials_is_left_alone(line: str) -> None:
    """`these credentials: services, nodes` is a list; an assignment, a quoted or digit-bearing value or a compound
    key still holds a credential."""
    assert "[masked:" in mask_text(line)


def test_echoed_secrets_are_the_pod_s_credentials_by_position_long_enough_to_look_for() -> None:
    from incident_response.tools.core.masking import masked
    from incident_response.tools.core.secret_echoes import echoed_secrets, mask_echoes

    spec = {
        "initContainers": [{"name": "init", "env": [{"name": "MIGRATE_TOKEN", "value": "init-t0ken-value"}]}],
        "containers": [
            {
                "name": "app",
                "env": [
                    {"name": "DB_PASSWORD", "value": "Tr0ub4dor&3"},
                    {"name": "API_KEY", "value": "abc"},  # too short to look for
                    {"name": "AUTH_ENABLED", "value": "true"},  # names a setting, not a credential
                    {"name": "SECRET_REF", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                    {"name": "PAYMENTS_URL", "value": "http://payments:8080"},
                    {"name": "CLIENT_SECRET", "value": "${CLIENT_SECRET}"},  # a placeholder
                ],
                "args": ["--db-password", "hunter2hunter2", "--api-token=tok-123456", "--port", "8080"],
            }
        ],
    }
    assert echoed_secrets(spec) == sorted(["init-t0ken-value", "Tr0ub4dor&3", "hunter2hunter2", "tok-123456"])
    assert echoed_secrets(None) == [] and echoed_secrets({"containers": ["x"]}) == []
    text, count = mask_echoes("a Tr0ub4dor&3 b Tr0ub4dor&3x tok-123456 8080", echoed_secrets(spec))
    assert count == 3 and "Tr0ub4dor" not in text and "tok-123456" not in text and text.endswith(" 8080")
    assert masked("Tr0ub4dor&3") in text  # the same mask as the env value shows by position
    # A value inside a longer one: the longer is masked whole, not split around the shorter.
    assert mask_echoes("xx secret-value-long yy", ["secret-value", "secret-value-long"]) == (
        f"xx {masked('secret-value-long')} yy",
        1,
    )
    # A mask written is not scanned again: a value that is part of another value's mask stays out of it.
    inner = masked("Tr0ub4dor&3")[8:14]
    assert mask_echoes("Tr0ub4dor&3", ["Tr0ub4dor&3", inner]) == (masked("Tr0ub4dor&3"), 1)
