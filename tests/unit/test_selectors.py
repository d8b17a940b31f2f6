"""Label and field selectors: parsing, canonical form, matching and the API server's error messages."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.sim.selectors import (
    SUPPORTED_FIELDS,
    LabelSelector,
    Operator,
    SelectorError,
    new_requirement,
    parse_field_selector,
    parse_label_selector,
    selector_from_map,
    selector_from_spec,
)

WEB = {"app": "web", "tier": "frontend", "env": "prod"}


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("app=web", "app=web"),
        ("app==web", "app==web"),
        ("app!=web", "app!=web"),
        ("app in (web,api)", "app in (api,web)"),
        ("app notin (x, y)", "app notin (x,y)"),
        ("app in (b,a,b)", "app in (a,b)"),
        ("app", "app"),
        ("!app", "!app"),
        ("  tier = frontend ,  app  ", "app,tier=frontend"),
        ("z=1,a=2,m", "a=2,m,z=1"),
        ("app=", "app="),
        ("app in ()", "app in ()"),
        ("app in (,x)", "app in (,x)"),
        ("app.kubernetes.io/name=web", "app.kubernetes.io/name=web"),
        ("in=notin", "in=notin"),
        ("replicas>2", "replicas>2"),
        ("replicas<2", "replicas<2"),
        ("a=b,!c,d notin (e)", "a=b,!c,d notin (e)"),
    ],
)
def test_label_selector_parses_to_canonical_form(text: str, canonical: str) -> None:
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("", None, True),
        ("", WEB, True),
        ("app=web", WEB, True),
        ("app==web", WEB, True),
        ("app=api", WEB, False),
        ("app=web", None, False),
        ("app!=api", WEB, True),
        ("app!=web", WEB, False),
        ("missing!=x", WEB, True),
        ("app in (api,web)", WEB, True),
        ("app in (api)", WEB, False),
        ("missing in (x)", WEB, False),
        ("app notin (api)", WEB, True),
        ("app notin (web)", WEB, False),
        ("missing notin (x)", WEB, True),
        ("app", WEB, True),
        ("missing", WEB, False),
        ("!missing", WEB, True),
        ("!app", WEB, False),
        ("!app", None, True),
        ("app=web,tier=frontend", WEB, True),
        ("app=web,tier=backend", WEB, False),
        ("empty=", {"empty": ""}, True),
        ("empty=", {}, False),
        ("n>2", {"n": "3"}, True),
        ("n>2", {"n": "2"}, False),
        ("n<2", {"n": "1"}, True),
        ("n>2", {"n": "x"}, False),
        ("n>2", {}, False),
    ],
)
def test_label_selector_matches(text: str, labels: dict[str, str] | None, expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a=b,", "found '', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a=!", "unable to parse requirement: found '!', expected: identifier"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a=<>", "unable to parse requirement: found '<', expected: identifier"),
        ("a>b", "for 'Gt', 'Lt' operators, the value must be an integer"),
        ("-a=b", 'unable to parse requirement: <nil>: Invalid value: "-a": name part must consist of'),
        ("a=-b", 'unable to parse requirement: values[0][a]: Invalid value: "-b": a valid label must be'),
        ("a/b/c=d", "a qualified name must consist of"),
        ("/a=b", "prefix part must be non-empty"),
        ("a/=b", "name part must be non-empty"),
        ("Example.com/a=b", "prefix part a lowercase RFC 1123 subdomain must consist of"),
        ("k" * 64 + "=v", "name part must be no more than 63 characters"),
        ("k=" + "v" * 64, "must be no more than 63 characters"),
        ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ],
)
def test_invalid_label_selector_raises_api_server_message(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_label_selector(text)
    assert message in str(err.value)


def test_selector_error_is_a_value_error_answered_as_bad_request() -> None:
    with pytest.raises(ValueError) as err:
        parse_label_selector("a in b")
    assert isinstance(err.value, SelectorError)
    status = err.value.api_error().status()
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
    assert status["message"].startswith("unable to parse requirement")


@pytest.mark.parametrize(
    "key",
    ["a", "A1", "a.b-c_d", "example.com/app", "a" * 63, "x" * 253 + "/n", "k8s.io/a.b"],
)
def test_valid_label_keys_are_accepted(key: str) -> None:
    assert parse_label_selector(f"{key}=v").matches({key: "v"})


@pytest.mark.parametrize("key", ["a_", "_a", ".a", "a b", "x" * 254 + "/n", "a..b/c", "é"])
def test_invalid_label_keys_are_rejected(key: str) -> None:
    with pytest.raises(SelectorError):
        new_requirement(key, Operator.EXISTS)


def test_everything_and_nothing_selectors() -> None:
    assert LabelSelector.everything().is_everything
    assert LabelSelector.everything().matches(None)
    assert not LabelSelector.nothing().matches(WEB)
    assert not LabelSelector.nothing().is_everything
    assert str(LabelSelector.nothing()) == ""


@pytest.mark.parametrize(
    ("spec", "labels", "expected"),
    [
        (None, WEB, True),
        ({}, WEB, True),
        ({"matchLabels": {"app": "web"}}, WEB, True),
        ({"matchLabels": {"app": "api"}}, WEB, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "x"]}]}, WEB, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]}, WEB, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, WEB, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, WEB, False),
        (
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "env", "operator": "In", "values": ["dev"]}]},
            WEB,
            False,
        ),
    ],
)
def test_selector_from_spec_matches(spec: dict[str, Any] | None, labels: dict[str, str], expected: bool) -> None:
    assert selector_from_spec(spec).matches(labels) is expected


def test_selector_from_spec_canonical_form_is_sorted() -> None:
    spec = {"matchLabels": {"z": "1"}, "matchExpressions": [{"key": "a", "operator": "In", "values": ["y", "x"]}]}
    assert str(selector_from_spec(spec)) == "a in (x,y),z=1"


@pytest.mark.parametrize("spec", [None, {}])
def test_unset_spec_selects_nothing_when_asked(spec: dict[str, Any] | None) -> None:
    assert not selector_from_spec(spec, matches_nothing_if_empty=True).matches(WEB)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, '"Gt" is not a valid label selector'),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "values set can't be empty"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "values set must be empty"),
        ({"matchLabels": {"-bad": "x"}}, 'key: Invalid value: "-bad"'),
        ({"matchLabels": {"ok": "bad value"}}, 'values[0][ok]: Invalid value: "bad value"'),
    ],
)
def test_invalid_spec_selector_raises(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorError) as err:
        selector_from_spec(spec)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({"app": "web"}, WEB, True),
        ({"app": "web", "tier": "frontend"}, WEB, True),
        ({"app": "web", "tier": "backend"}, WEB, False),
        ({}, WEB, False),
        (None, WEB, False),
    ],
)
def test_service_map_selector_and_empty_selects_nothing(
    selector: dict[str, str] | None, labels: dict[str, str], expected: bool
) -> None:
    assert selector_from_map(selector).matches(labels) is expected


def test_netpol_empty_pod_selector_selects_all_but_empty_service_selector_selects_none() -> None:
    assert selector_from_spec({}).matches({"any": "pod"})
    assert not selector_from_map({}).matches({"any": "pod"})


POD: dict[str, Any] = {
    "metadata": {"name": "web-1", "namespace": "shop"},
    "spec": {"nodeName": "node-a", "restartPolicy": "Always", "schedulerName": "default-scheduler"},
    "status": {"phase": "Running", "podIP": "10.0.0.7"},
}
PENDING_POD: dict[str, Any] = {"metadata": {"name": "web-2", "namespace": "shop"}, "spec": {}, "status": {}}
NODE: dict[str, Any] = {"metadata": {"name": "node-a"}, "spec": {"unschedulable": True}}
EVENT: dict[str, Any] = {
    "metadata": {"name": "web-1.17a", "namespace": "shop"},
    "involvedObject": {
        "kind": "Pod",
        "name": "web-1",
        "namespace": "shop",
        "uid": "u-1",
        "apiVersion": "v1",
        "resourceVersion": "42",
        "fieldPath": "spec.containers{web}",
    },
    "reason": "BackOff",
    "type": "Warning",
    "source": {"component": "kubelet", "host": "node-a"},
    "reportingComponent": "kubelet",
}


@pytest.mark.parametrize(
    ("text", "obj", "expected"),
    [
        ("", POD, True),
        ("metadata.name=web-1", POD, True),
        ("metadata.name==web-1", POD, True),
        ("metadata.name!=web-1", POD, False),
        ("metadata.namespace=shop", POD, True),
        ("spec.nodeName=node-a", POD, True),
        ("spec.nodeName=", POD, False),
        ("spec.nodeName=", PENDING_POD, True),
        ("spec.nodeName!=", PENDING_POD, False),
        ("status.phase!=Running", POD, False),
        ("status.phase=Running,spec.nodeName=node-a", POD, True),
        ("status.phase=Running,spec.nodeName=node-b", POD, False),
        ("status.phase!=Succeeded,status.phase!=Failed", POD, True),
        ("status.phase!=Running", PENDING_POD, True),
        ("spec.restartPolicy=Always", POD, True),
        ("spec.schedulerName=default-scheduler", POD, True),
        ("status.podIP=10.0.0.7", POD, True),
        ("spec.unschedulable=true", NODE, True),
        ("spec.unschedulable=false", NODE, False),
        ("spec.unschedulable=false", {"metadata": {"name": "n"}, "spec": {}}, True),
        ("involvedObject.kind=Pod,involvedObject.name=web-1", EVENT, True),
        ("involvedObject.namespace=shop,involvedObject.uid=u-1", EVENT, True),
        ("involvedObject.apiVersion=v1,involvedObject.resourceVersion=42", EVENT, True),
        ("involvedObject.fieldPath=spec.containers{web}", EVENT, True),
        ("reason=BackOff,type=Warning", EVENT, True),
        ("type!=Normal", EVENT, True),
        ("source=kubelet", EVENT, True),
        ("reportingComponent=kubelet", EVENT, True),
        ("involvedObject.name=web-2", EVENT, False),
    ],
)
def test_field_selector_matches(text: str, obj: dict[str, Any], expected: bool) -> None:
    assert parse_field_selector(text).matches(obj) is expected


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("metadata.name==a", "metadata.name=a"),
        ("status.phase!=Running,metadata.name=a", "metadata.name=a,status.phase!=Running"),
        ("metadata.name=a\\,b", "metadata.name=a\\,b"),
        ("metadata.name=,", "metadata.name="),
    ],
)
def test_field_selector_canonical_form(text: str, canonical: str) -> None:
    assert str(parse_field_selector(text)) == canonical


def test_field_selector_unescapes_values() -> None:
    sel = parse_field_selector("metadata.name=a\\,b\\=c\\\\d")
    assert sel.matches({"metadata": {"name": "a,b=c\\d"}})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spec.bogus=1", "field label not supported: spec.bogus"),
        ("metadata.labels=x", "field label not supported: metadata.labels"),
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("metadata.name=a=b", "invalid field selector: unescaped character in value"),
        ("metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"),
    ],
)
def test_invalid_field_selector_raises_api_server_message(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_field_selector(text)
    assert str(err.value) == message or message in str(err.value)


def test_field_selector_can_be_narrowed_to_one_resources_fields() -> None:
    pod_fields = {"metadata.name", "spec.nodeName", "status.phase"}
    assert parse_field_selector("spec.nodeName=x", supported=pod_fields).matches({"spec": {"nodeName": "x"}})
    with pytest.raises(SelectorError, match="field label not supported: reason"):
        parse_field_selector("reason=BackOff", supported=pod_fields)


def test_supported_fields_cover_the_ones_kubectl_and_tools_use() -> None:
    needed = {
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "spec.unschedulable",
        "status.phase",
        "spec.restartPolicy",
        "spec.schedulerName",
        "status.podIP",
        "reason",
        "type",
        "source",
        "reportingComponent",
    } | {f"involvedObject.{f}" for f in ("kind", "name", "namespace", "uid", "apiVersion", "resourceVersion")}
    assert needed <= SUPPORTED_FIELDS
