"""What assess_namespace makes of each page of pods while the next is read (tools.assess.page_work): components at
once, usage rows once the metrics are in; every pod's row in the end, in the pods' order, whenever the metrics came."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime

from support.builders import pod

from incident_response.tools.assess.page_work import PageWork, Usage
from incident_response.tools.core import errors
from incident_response.tools.k8s.podstatus import pod_row

NOW = datetime.now(UTC)
PAGES = [[pod(f"web-{p}{i}", deployment="web") for i in range(3)] for p in "abc"]
USAGE = {f"web-{p}{i}": (0.1, 2.0**20) for p in "abc" for i in range(3)}


def fed(work: PageWork, pages: list[list[dict]], then: Future[Usage | None] | None = None) -> None:
    for pods in pages:
        work.page(pods, [pod_row(p, NOW) for p in pods])
        if then is not None and pods is pages[0]:
            then.set_result(USAGE)


def test_usage_rows_come_out_in_the_pods_order_whether_the_metrics_came_first_midway_or_last() -> None:
    names = [p["metadata"]["name"] for page in PAGES for p in page]
    before: Future[Usage | None] = Future()
    before.set_result(USAGE)
    midway: Future[Usage | None] = Future()
    for metrics, arrives in ((before, None), (midway, midway)):
        work = PageWork(metrics)
        fed(work, PAGES, arrives)
        rows = work.finish(USAGE)
        assert [u.name for u in rows] == names and {u.cpu for u in rows} == {"100m"}
        assert set(work.components.values()) == {"web"} and len(work.components) == 9
    last: Future[Usage | None] = Future()
    work = PageWork(last)
    fed(work, PAGES)
    last.set_result(USAGE)
    assert [u.name for u in work.finish(USAGE)] == names


def test_without_readable_metrics_every_pod_still_gets_its_row_from_what_the_caller_read() -> None:
    forbidden: Future[Usage | None] = Future()
    forbidden.set_exception(errors.Forbidden("no metrics for you", code=403, reason="Forbidden"))
    work = PageWork(forbidden)
    fed(work, PAGES)
    rows = work.finish({})
    assert len(rows) == 9 and {u.cpu for u in rows} == {"-"}


def test_pods_by_ip_and_their_labels_are_kept_as_the_whole_list_would_give_them() -> None:
    ready: Future[Usage | None] = Future()
    ready.set_result(USAGE)
    work = PageWork(ready)
    fed(work, PAGES)
    assert work.pod_of_ip == {"10.0.0.1": "web-c2"} and work.component_of_ip == {"10.0.0.1": "web"}  # the last one
    assert work.labels_of_pod["web-a0"] is PAGES[0][0]["metadata"]["labels"]  # read, not copied
    assert len(work.labels_of_pod) == 9
