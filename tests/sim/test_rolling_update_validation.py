"""The sim refuses a rolling update that can never progress, as upstream does (review-assist6: it stored maxSurge 0
with maxUnavailable 0, so an incident "rollout stuck by maxSurge=0/maxUnavailable=0" could be built that no real
cluster admits). Real kubectl is the client."""

from __future__ import annotations

from collections.abc import Callable

from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim


def test_max_surge_and_max_unavailable_both_zero_is_refused(
    shared_sims: Callable[[str], RunningSim], kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    kubectl = kubectl_for(shared_sims("healthy"))
    both = '{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":0,"maxSurge":"0%"}}}}'
    refused = kubectl.run("patch", "deployment/api", "-n", "shop", "--dry-run=server", "-p", both, check=False)
    assert refused.returncode != 0, refused.stdout
    assert "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0" in (
        refused.stderr
    ), refused.stderr
    one = '{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":0,"maxSurge":1}}}}'
    assert kubectl.run("patch", "deployment/api", "-n", "shop", "--dry-run=server", "-p", one).returncode == 0
