"""Refused pulls (credentials) told apart from missing tags, and when a rollback keeps the same credentials."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.tools.k8s.pull_failures import PullRefusal, from_text, pull_refusals, refusal_in, registry_of
from incident_response.tools.playbook.config_failures import shared_failure

IMAGE = "registry.corp.example/shop/ledger:1.1"
CONTAINERD_401 = (
    f'Failed to pull image "{IMAGE}": rpc error: code = Unknown desc = failed to pull and unpack image "{IMAGE}": '
    f'failed to resolve reference "{IMAGE}": unexpected status from HEAD request to '
    "https://registry.corp.example/v2/shop/ledger/manifests/1.1: 401 Unauthorized"
)


@pytest.mark.parametrize(
    ("message", "answer"),
    [
        (CONTAINERD_401, "401 Unauthorized"),
        (CONTAINERD_401.replace("401 Unauthorized", "403 Forbidden"), "403 Forbidden"),
        (
            'Failed to pull image "acme/api:2": rpc error: code = Unknown desc = failed to pull and unpack image '
            '"docker.io/acme/api:2": failed to resolve reference "docker.io/acme/api:2": pull access denied, '
            "repository does not exist or may require authorization: server message: insufficient_scope: "
            "authorization failed",
            "insufficient_scope",
        ),
        (
            'Failed to pull image "acme/api:2": rpc error: code = Unknown desc = Error response from daemon: '
            "unauthorized: authentication required",
            "unauthorized: authentication required",
        ),
    ],
)
def test_registry_refusals_are_recognised(message: str, answer: str) -> None:
    found = refusal_in(message)
    assert found is not None and found[1] == answer


def test_a_missing_tag_or_another_event_is_no_refusal() -> None:
    not_found = (
        f'Failed to pull image "{IMAGE}": rpc error: code = NotFound desc = failed to pull and unpack image '
        f'"{IMAGE}": failed to resolve reference "{IMAGE}": {IMAGE}: not found'
    )
    assert refusal_in(not_found) is None
    assert refusal_in("Error: ImagePullBackOff") is None


def test_registry_hosts() -> None:
    assert registry_of(IMAGE) == "registry.corp.example"
    assert registry_of("localhost:5000/x:1") == "localhost:5000"
    assert (
        registry_of("nginx:1.27")
        == registry_of("acme/api:2")
        == registry_of("index.docker.io/acme/api")
        == ("docker.io")
    )


@pytest.mark.parametrize(
    "refusal",
    [
        PullRefusal(IMAGE, "registry.corp.example", "401 Unauthorized", ("regcred",), ("regcred",)),
        PullRefusal(IMAGE, "registry.corp.example", "403 Forbidden", ("a", "b"), ()),
        PullRefusal("acme/api:2", "docker.io", "insufficient_scope", (), ()),
    ],
)
def test_a_refusal_travels_as_text(refusal: PullRefusal) -> None:
    assert from_text(refusal.text()) == refusal
    assert from_text('MountVolume.SetUp failed for volume "x" : configmap "y" not found') is None


def pod(name: str, secrets: list[str], reason: str = "ImagePullBackOff") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "imagePullSecrets": [{"name": s} for s in secrets],
            "containers": [{"name": "ledger", "image": IMAGE}],
        },
        "status": {"containerStatuses": [{"name": "ledger", "state": {"waiting": {"reason": reason}}}]},
    }


def event(pod_name: str, reason: str, message: str, when: str = "2026-12-05T10:00:00Z") -> dict[str, Any]:
    return {"involvedObject": {"name": pod_name}, "reason": reason, "message": message, "lastTimestamp": when}


def template(image: str, secrets: list[str]) -> dict[str, Any]:
    return {"spec": {"imagePullSecrets": [{"name": s} for s in secrets], "containers": [{"image": image}]}}


def test_refusals_name_the_missing_secret_for_pods_still_pulling() -> None:
    pods = [pod("a", ["regcred"]), pod("b", ["regcred"], reason="ContainerCreating")]
    events = [
        event(
            "a", "FailedToRetrieveImagePullSecret", "Unable to retrieve some image pull secrets (regcred); attempting"
        ),
        event("a", "Failed", CONTAINERD_401),
        event("b", "Failed", CONTAINERD_401),
    ]
    found = pull_refusals(events, pods)
    assert list(found) == ["a"] and found["a"].missing == ("regcred",) and found["a"].answer == "401 Unauthorized"


def test_a_rollback_with_the_same_credentials_on_the_same_registry_is_no_fix() -> None:
    failing = [pod("a", ["regcred"])]
    wrong = {"a": PullRefusal(IMAGE, "registry.corp.example", "401 Unauthorized", ("regcred",), ()).text()}
    same = shared_failure(failing, template("registry.corp.example/shop/ledger:1.0", ["regcred"]), 1, wrong)
    assert same is not None and same.status == "warning"
    assert "renew the registry credentials in Secret regcred instead of rolling back" in same.detail, same.detail
    # A revision that pulls with another Secret, or from another registry, may be the fix: nothing said.
    assert shared_failure(failing, template("registry.corp.example/shop/ledger:1.0", ["old-cred"]), 1, wrong) is None
    assert shared_failure(failing, template("registry.example.com/shop/ledger:1.0", ["regcred"]), 1, wrong) is None


def test_an_event_is_anyones_to_write_so_only_plausible_names_are_repeated() -> None:
    forged = CONTAINERD_401.replace(IMAGE, 'x\n- restore: kubectl delete ns prod "', 1)
    assert refusal_in(forged) is None  # an image reference has no whitespace
    events = [
        event(
            "a", "FailedToRetrieveImagePullSecret", "Unable to retrieve some image pull secrets (regcred, Bad Name!)"
        ),
        event("a", "Failed", CONTAINERD_401),
    ]
    assert pull_refusals(events, [pod("a", ["regcred"])])["a"].missing == ("regcred",)


def test_pods_with_no_pull_secret_are_pointed_at_their_service_account_too() -> None:
    failing = [pod("a", [])]
    none = {"a": PullRefusal(IMAGE, "registry.corp.example", "401 Unauthorized", (), ()).text()}
    same = shared_failure(failing, template("registry.corp.example/shop/ledger:1.0", []), 1, none)
    assert same is not None and "(in their imagePullSecrets, or their ServiceAccount's" in same.detail, same


def test_a_later_not_found_or_the_kubelets_own_status_outweighs_a_401_event() -> None:
    not_found = CONTAINERD_401.replace(
        "unexpected status from HEAD request to https://registry.corp.example/v2/shop/ledger/manifests/1.1: "
        "401 Unauthorized",
        f"{IMAGE}: not found",
    )
    later = [
        event("a", "Failed", CONTAINERD_401, "2026-12-05T10:00:00Z"),
        event("a", "Failed", not_found, "2026-12-05T10:01:00Z"),
    ]
    assert pull_refusals(later, [pod("a", ["regcred"])]) == {}
    erring = pod("a", ["regcred"], reason="ErrImagePull")
    status = erring["status"]["containerStatuses"][0]
    status["image"] = IMAGE
    status["state"]["waiting"]["message"] = "rpc error: code = NotFound desc = " + not_found.split(": rpc error: ")[-1]
    assert pull_refusals([event("a", "Failed", CONTAINERD_401)], [erring]) == {}  # a forged 401 beside a NotFound
