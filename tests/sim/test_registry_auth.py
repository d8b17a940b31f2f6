"""A registry that wants credentials, with real kubectl as the oracle: a pod whose pull secret is gone or wrong shows
the kubelet's ErrImagePull / ImagePullBackOff with the registry's 401 (FailedToRetrieveImagePullSecret naming a
missing Secret), a tag that does not exist shows NotFound instead, and the right Secret lets the next pull through.
Images a node already holds start without a pull (IfNotPresent), as on a real node."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

from conftest import SimFactory
from support.kubectl_runner import Kubectl
from support.polling import eventually

from incident_response.sim import registries
from incident_response.sim.behaviors import PREFIX
from incident_response.sim.serve import RunningSim

NS = "shop"
HOST = "registry.corp.example"
GOOD = f"{HOST}/shop/ledger:1.0"
NEXT = f"{HOST}/shop/ledger:1.1"


def secret(user: str, password: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "regcred", "namespace": NS},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": registries.dockerconfigjson(HOST, user, password)},
        }
    )


def ledger(image: str, replicas: int = 1) -> str:
    labels = {"app": "ledger"}
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "ledger", "namespace": NS},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "imagePullSecrets": [{"name": "regcred"}],
                        "containers": [{"name": "ledger", "image": image}],
                    },
                },
            },
        }
    )


def rows(k: Kubectl) -> list[dict[str, str]]:
    return k.table("pods", "-n", NS, "-l", "app=ledger")


def refusals(k: Kubectl, pod: str) -> int:
    """How many pulls of the pod the registry refused (the kubelet's aggregated Failed event)."""
    events = k.json("get", "events", "-n", NS, "--field-selector", f"involvedObject.name={pod},reason=Failed")["items"]
    return sum(int(e.get("count") or 1) for e in events if "401 Unauthorized" in e.get("message", ""))


def test_a_missing_or_wrong_pull_secret_is_a_401_and_the_right_one_lets_the_pull_through(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    sim.cluster.registries[HOST] = frozenset({"ci:right"})
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=secret("ci", "right"))
    k.run("apply", "-f", "-", stdin=ledger(GOOD))
    k.run("rollout", "status", "deployment/ledger", "-n", NS, "--timeout=60s")
    first = rows(k)[0]["NAME"]
    described = k.run("describe", "pod", first, "-n", NS).stdout
    assert f'Successfully pulled image "{GOOD}"' in described, described
    node = k.json("get", "node", k.run("get", "pod", first, "-n", NS, "-o", "jsonpath={.spec.nodeName}").stdout)
    assert any(GOOD in entry["names"] for entry in node["status"]["images"]), "the node reports the image it holds"

    k.run("delete", "secret", "regcred", "-n", NS)
    k.run("set", "image", "deployment/ledger", f"ledger={NEXT}", "-n", NS)
    eventually(
        lambda: any(r["STATUS"] in ("ErrImagePull", "ImagePullBackOff") for r in rows(k)),
        what="ledger 1.1's pod failing to pull",
    )
    failing = next(r["NAME"] for r in rows(k) if r["STATUS"] in ("ErrImagePull", "ImagePullBackOff"))
    described = k.run("describe", "pod", failing, "-n", NS).stdout
    assert "FailedToRetrieveImagePullSecret" in described and "image pull secrets (regcred)" in described, described
    assert (
        f'failed to resolve reference "{NEXT}": unexpected status from HEAD request to '
        f"https://{HOST}/v2/shop/ledger/manifests/1.1: 401 Unauthorized"
    ) in " ".join(described.split()), described
    assert "Error: ErrImagePull" in described and PREFIX not in described
    assert any(r["STATUS"] == "Running" and r["READY"] == "1/1" for r in rows(k)), "1.0's pod keeps serving"

    refused = refusals(k, failing)
    k.run("apply", "-f", "-", stdin=secret("ci", "wrong"))
    sim.advance(40)  # past the pull back-off: the next pull offers the wrong password, and is refused again
    eventually(lambda: refusals(k, failing) > refused, what="another refused pull with the wrong password")
    assert rows(k) and not all(r["STATUS"] == "Running" for r in rows(k))

    k.run("apply", "-f", "-", stdin=secret("ci", "right"))
    sim.advance(320)  # the back-off is at most five minutes
    k.run("rollout", "status", "deployment/ledger", "-n", NS, "--timeout=60s")
    assert all(r["STATUS"] == "Running" for r in rows(k))


def test_a_tag_that_does_not_exist_is_not_found_not_a_credential_problem(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    sim.cluster.registries[HOST] = frozenset({"ci:right"})
    sim.cluster.images[NEXT] = {PREFIX + "behavior": "image-pull-error"}
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=secret("ci", "right"))
    k.run("apply", "-f", "-", stdin=ledger(NEXT))
    eventually(lambda: any(r["STATUS"] in ("ErrImagePull", "ImagePullBackOff") for r in rows(k)), what="1.1 not found")
    described = " ".join(k.run("describe", "pod", rows(k)[0]["NAME"], "-n", NS).stdout.split())
    assert "code = NotFound" in described and f"{NEXT}: not found" in described, described
    assert "401" not in described and "FailedToRetrieveImagePullSecret" not in described


def send(sim: RunningSim, method: str, body: object = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"{sim.url}/sim/registries",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_a_registry_entered_over_http_refuses_what_it_does_not_accept(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    for bad in (
        {"registry": HOST},
        {"registry": "https://x/y", "credentials": ["ci:right"]},
        {"registry": HOST, "credentials": ["no-colon"]},
        {"registry": HOST, "credentials": "ci:right"},
    ):
        status, answer = send(sim, "POST", bad)
        assert status == 400 and answer["message"], (bad, answer)
    assert send(sim, "GET") == (200, {"registries": {}})  # nothing was entered

    status, answer = send(sim, "POST", {"registry": HOST, "credentials": ["ci:right"]})
    assert (status, answer) == (200, {"registries": {HOST: {"users": ["ci"]}}}), answer  # no password answered
    k.run("apply", "-f", "-", stdin=ledger(GOOD))  # its pull Secret regcred does not exist
    eventually(lambda: any(r["STATUS"] in ("ErrImagePull", "ImagePullBackOff") for r in rows(k)), what="refused")
    assert "401 Unauthorized" in " ".join(k.run("describe", "pod", rows(k)[0]["NAME"], "-n", NS).stdout.split())
    assert send(sim, "POST", {"registry": HOST, "credentials": []}) == (200, {"registries": {}})  # anonymous again


def test_a_pod_listing_no_pull_secret_takes_its_service_accounts(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """The ServiceAccount admission: a pod with no imagePullSecrets gets `default`'s; removed from the account, the
    next pod gets none and its pull is refused (the one already running keeps its copy)."""
    sim = sim_factory("healthy")
    sim.cluster.registries[HOST] = frozenset({"ci:right"})
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=secret("ci", "right"))
    k.run("patch", "serviceaccount", "default", "-n", NS, "-p", '{"imagePullSecrets":[{"name":"regcred"}]}')
    body = json.loads(ledger(GOOD))
    del body["spec"]["template"]["spec"]["imagePullSecrets"]
    k.run("apply", "-f", "-", stdin=json.dumps(body))
    k.run("rollout", "status", "deployment/ledger", "-n", NS, "--timeout=60s")
    first = rows(k)[0]["NAME"]
    given = k.run("get", "pod", first, "-n", NS, "-o", "jsonpath={.spec.imagePullSecrets[*].name}").stdout
    assert given == "regcred", given

    k.run(
        "patch",
        "serviceaccount",
        "default",
        "-n",
        NS,
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/imagePullSecrets"}]',
    )
    k.run("set", "image", "deployment/ledger", f"ledger={NEXT}", "-n", NS)
    failing = eventually(
        lambda: next((r["NAME"] for r in rows(k) if r["STATUS"] in ("ErrImagePull", "ImagePullBackOff")), None),
        what="the next pod refused",
    )
    assert k.run("get", "pod", failing, "-n", NS, "-o", "jsonpath={.spec.imagePullSecrets}").stdout == ""
    assert "401 Unauthorized" in " ".join(k.run("describe", "pod", failing, "-n", NS).stdout.split())


def test_the_pull_policy_defaults_as_the_api_server_sets_it(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """Always for `latest` (or no tag at all), IfNotPresent for a tag or a digest: a `latest` image is pulled on
    every start, so a registry that refuses the pod's credentials refuses it even on a node that holds it."""
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    for name, image, policy in (
        ("latest", f"{HOST}/shop/ledger:latest", "Always"),
        ("untagged", f"{HOST}/shop/ledger", "Always"),
        ("tagged", GOOD, "IfNotPresent"),
        ("digest", f"{HOST}/shop/ledger@sha256:{'a' * 64}", "IfNotPresent"),
    ):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}}
        pod["spec"] = {"containers": [{"name": "ledger", "image": image}]}
        k.run("apply", "-f", "-", stdin=json.dumps(pod))
        got = k.run("get", "pod", name, "-n", NS, "-o", "jsonpath={.spec.containers[0].imagePullPolicy}").stdout
        assert got == policy, (image, got)
