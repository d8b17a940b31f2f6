"""POST /sim/images with real kubectl as the oracle: a tag entered in the catalogue as crash-looping crashes once
`kubectl set image` rolls it out, with the image the one template difference (no simulator key in rollout history or
describe), and `kubectl rollout undo` heals it; bad input is refused with what to send, and nothing changes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from conftest import SimFactory
from support.kubectl_runner import Kubectl
from support.polling import eventually

from incident_response.sim.behaviors import PREFIX
from incident_response.sim.serve import RunningSim

NS = "shop"
GOOD = "registry.example.com/shop/api:3.3.0"
BAD = "registry.example.com/shop/api:3.4.0"


def send(sim: RunningSim, method: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{sim.url}/sim/images",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def api_pods(k: Kubectl) -> list[dict[str, str]]:
    return k.table("pods", "-n", NS, "-l", "app=api")


def test_a_tag_the_catalogue_says_crashes_crashes_when_rolled_out_and_undo_heals_it(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    for bad in (
        {"image": BAD},
        {"image": BAD, "does": {"behaviour": "crashloop"}},
        {"image": BAD, "does": {"behavior": "explode"}},
        {"image": BAD, "does": {"memory-need": "lots"}},
        {"image": BAD, "does": {"poisons": "app in ("}},
        {"image": "", "does": {"behavior": "crashloop"}},
    ):
        status, answer = send(sim, "POST", bad)
        assert status == 400 and answer["message"], (bad, answer)
    assert send(sim, "GET") == (200, {"images": {}})  # nothing was entered

    status, answer = send(sim, "POST", {"image": BAD, "does": {"behavior": "crashloop"}})
    assert status == 200 and answer["images"][BAD] == {"behavior": "crashloop"}, answer
    k.run("set", "image", "deployment/api", f"api={BAD}", "-n", NS)
    eventually(
        lambda: any(r["STATUS"] == "CrashLoopBackOff" for r in api_pods(k)), what="api 3.4.0's pods crash-looping"
    )
    history = k.run("rollout", "history", "deployment/api", "-n", NS, "--revision=3").stdout
    assert BAD in history and PREFIX not in history, history
    crashing = next(r["NAME"] for r in api_pods(k) if r["STATUS"] == "CrashLoopBackOff")
    described = k.run("describe", "pod", crashing, "-n", NS).stdout
    assert BAD in described and PREFIX not in described, described

    k.run("rollout", "undo", "deployment/api", "-n", NS)
    k.run("rollout", "status", "deployment/api", "-n", NS, "--timeout=60s")
    image = k.run("get", "deployment/api", "-n", NS, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image.stdout == GOOD
    eventually(
        lambda: (rows := api_pods(k)) and all(r["STATUS"] == "Running" and r["READY"] == "1/1" for r in rows),
        what="api's pods Running and ready again",
    )
    assert send(sim, "POST", {"image": BAD, "does": {}}) == (200, {"images": {}})  # an empty entry removes it


def image_ids(k: Kubectl, selector: str) -> dict[str, str]:
    """pod name -> its container's imageID, as kubectl reads it."""
    pods = json.loads(k.run("get", "pods", "-n", NS, "-l", selector, "-o", "json").stdout)["items"]
    return {
        p["metadata"]["name"]: p["status"]["containerStatuses"][0].get("imageID", "")
        for p in pods
        if not p["metadata"].get("deletionTimestamp")
    }


def test_a_tag_pushed_again_gives_new_pods_a_new_digest(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """The imageID is the digest the registry served at pull time: pods pulled before a push of a new build under
    the same tag keep the old one, pods pulled after get the new one; without a push it stays the same."""
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    tag = "registry.example.com/shop/api:stable"
    k.run("patch", "deployment/api", "-n", NS, "-p", json.dumps(template(tag)))
    k.run("rollout", "status", "deployment/api", "-n", NS, "--timeout=60s")
    before = image_ids(k, "app=api")
    assert len(set(before.values())) == 1 and "@sha256:" in next(iter(before.values())), before
    (old,) = set(before.values())
    assert old.startswith("registry.example.com/shop/api@sha256:"), old
    # Entering what the tag does is not a push: a restart pulls the same digest.
    assert send(sim, "POST", {"image": tag, "does": {"log-lines": "ok"}})[0] == 200
    k.run("rollout", "restart", "deployment/api", "-n", NS)
    k.run("rollout", "status", "deployment/api", "-n", NS, "--timeout=60s")
    assert set(image_ids(k, "app=api").values()) == {old}
    status, answer = send(sim, "POST", {"image": tag, "does": {}, "push": "yes"})
    assert status == 400 and '"push" takes true or false' in answer["message"], answer
    assert send(sim, "POST", {"image": tag, "does": {"log-lines": "ok"}, "push": True})[0] == 200
    k.run("rollout", "restart", "deployment/api", "-n", NS)
    k.run("rollout", "status", "deployment/api", "-n", NS, "--timeout=60s")
    after = set(image_ids(k, "app=api").values())
    assert len(after) == 1 and old not in after, after
    (new,) = after
    assert new.startswith("registry.example.com/shop/api@sha256:"), new
    # The nodes report the build they hold under its digest name.
    nodes = json.loads(k.run("get", "nodes", "-o", "json").stdout)["items"]
    held = {name for n in nodes for i in n["status"].get("images") or [] for name in i["names"]}
    assert new in held and tag in held, held


def template(image: str) -> dict[str, Any]:
    container = {"name": "api", "image": image, "imagePullPolicy": "Always"}
    return {"spec": {"template": {"spec": {"containers": [container]}}}}
