"""What the helm drift check takes from a release's manifest: workloads' images only, and nothing from a manifest
it cannot read (review-assist F25)."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.sim.scenarios.helm import release_secret
from incident_response.tools.core import errors
from incident_response.tools.k8s.helm_releases import HelmRevision, manifest_images
from incident_response.tools.mitigate.helm_drift import same_image
from incident_response.tools.mitigate.helm_rollback import pick_revision

MANIFEST = """---
apiVersion: v1
kind: Secret
metadata:
  name: cart-db
stringData:
  password: hunter2
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        image: shop/cart-migrate:2.4.0
      containers:
      - name: cart
        image: shop/cart:2.4.0
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: cart-cache
spec:
  template:
    spec:
      containers:
      - name: redis
        image: redis:7
"""


def secret(manifest: str) -> dict[str, Any]:
    return release_secret(
        name="cart",
        namespace="shop",
        revision=3,
        status="deployed",
        chart="cart",
        chart_version="1.4.2",
        app_version="2.4.0",
        first_deployed="",
        last_deployed="",
        description="",
        values={},
        manifest=manifest,
    )


def test_only_workload_images_are_taken() -> None:
    assert manifest_images(secret(MANIFEST)) == {
        ("deployment", "cart"): {"migrate": "shop/cart-migrate:2.4.0", "cart": "shop/cart:2.4.0"},
        ("statefulset", "cart-cache"): {"redis": "redis:7"},
    }


def test_a_manifest_that_is_not_yaml_gives_nothing_to_compare() -> None:
    assert manifest_images(secret("kind: Deployment\n  bad: [unclosed")) == {}


def test_a_digest_pinned_by_a_webhook_is_not_a_change() -> None:
    assert same_image("shop/cart:2.4.0@sha256:" + "a" * 64, "shop/cart:2.4.0")
    assert not same_image("shop/cart:2.3.2-hotfix", "shop/cart:2.4.0")
    assert not same_image("shop/cart:2.4.0@sha256:" + "a" * 64, "shop/cart:2.4.0@sha256:" + "b" * 64)


def rows(*statuses: str) -> dict[int, HelmRevision]:
    return {
        n: HelmRevision(revision=n, status=s, chart=f"cart-1.4.{n}", app_version=None, updated=None, description=None)
        for n, s in enumerate(statuses, start=1)
    }


def test_with_drift_the_deployed_revision_is_the_default_and_may_be_chosen() -> None:
    history = rows("superseded", "superseded", "deployed")
    assert pick_revision("cart", history, None, drifted=True)[1] == 3
    assert pick_revision("cart", history, 3, drifted=True)[1] == 3
    assert pick_revision("cart", history, 2, drifted=True)[1] == 2  # asked for: planned (with a warning)
    # A failed upgrade that changed the workloads: re-applying the deployed revision is what helm's default is too.
    assert pick_revision("cart", rows("superseded", "deployed", "failed"), None, drifted=True)[1] == 2
    with pytest.raises(errors.InvalidArgument, match="is the deployed revision"):
        pick_revision("cart", history, 3)  # no drift: nothing to roll back
