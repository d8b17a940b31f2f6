"""The assessment's scale-up proposals checked against the namespace's ResourceQuota (tools/assess/quota_first.py)."""

from __future__ import annotations

from typing import Any

from support.builders import NOW, deployment, hpa, pod
from support.fakekube import FakeKube

from incident_response.tools.assess.quota_first import QuotaFirst
from incident_response.tools.core import errors
from incident_response.tools.playbook.decision import Decision

WEB = [pod(f"web-{i}", deployment="web") for i in range(4)]
OTHERS = [pod(f"api-{i}", deployment="api") for i in range(3)]


def quota(hard: int, used: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "shop-pods", "namespace": "shop"},
        "spec": {"hard": {"pods": str(hard)}},
        "status": {"hard": {"pods": str(hard)}, "used": {"pods": str(used)}},
    }


def override(minimum: int = 8) -> Decision:
    return Decision(
        primary_action="SCALE",
        rule="overloaded: HPA at max",
        target="hpa/web",
        reason="HPA web is pinned at its maximum",
        evidence=["hpa web: 4/4"],
        next_tool="override_hpa",
        next_arguments={"namespace": "shop", "hpa": "web", "min_replicas": minimum, "max_replicas": minimum},
    )


def checker(kube: FakeKube) -> QuotaFirst:
    hpas = [hpa("web", current=4, desired=8, max_replicas=4)]
    return QuotaFirst(kube, "shop", [deployment("web", replicas=4)], hpas, WEB + OTHERS, NOW)


def test_a_scale_up_a_full_quota_refuses_says_what_holds_it_and_proposes_no_tool() -> None:
    decided = checker(FakeKube(("resourcequotas", quota(7, 7)))).checked(override())
    assert decided.next_tool is None and decided.next_arguments == {}, decided
    assert decided.reason.startswith("HPA web is pinned at its maximum. But ResourceQuota shop-pods (pods: 7 used of 7")
    assert "first free room in it (what holds it: deployment api 3 pods) or have it raised" in decided.reason
    assert '{"pods":"11"}' in decided.reason  # 7 used + the 4 more pods the minimum of 8 asks
    assert decided.reason.endswith("then override_hpa(namespace=shop, hpa=web, min_replicas=8, max_replicas=8)")


def test_room_for_some_or_an_unreadable_quota_leaves_the_proposal_to_the_plan() -> None:
    partial = checker(FakeKube(("resourcequotas", quota(9, 7)))).checked(override())
    assert partial.next_tool == "override_hpa", partial  # 2 of 4 fit: the plan warns
    kube = FakeKube(("resourcequotas", quota(7, 7)))
    kube.fail_reads = errors.Forbidden("resourcequotas is forbidden", code=403, reason="Forbidden")
    assert checker(kube).checked(override()).next_tool == "override_hpa"


def test_other_decisions_are_not_read_for() -> None:
    kube = FakeKube(("resourcequotas", quota(7, 7)))
    kube.fail_reads = errors.Forbidden("no read expected", code=403, reason="Forbidden")
    rollback = override().model_copy(update={"next_tool": "rollback_deployment", "primary_action": "ROLLBACK"})
    assert checker(kube).checked(rollback) == rollback


def test_a_scale_back_to_what_fits_is_no_scale_up() -> None:
    kube = FakeKube(("resourcequotas", quota(7, 7)))
    back = override().model_copy(
        update={
            "next_tool": "scale_deployment",
            "next_arguments": {"namespace": "shop", "deployment": "web", "replicas": 3},
        }
    )
    assert checker(kube).checked(back) == back
