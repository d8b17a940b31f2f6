"""Whole lists read page by page (tools.kube.paging) and every pod of a namespace read that way (fetch_pods), on a
stand-in API that pages as kube-apiserver does: `limit`, then `continue` with the token the last page gave."""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime
from typing import Any

import pytest
from support.builders import container_status, pod

from incident_response.tools.assess.pods import fetch_pods
from incident_response.tools.core import errors
from incident_response.tools.kube.client import ListResult
from incident_response.tools.kube.paging import list_all

POD_COLUMNS = [{"name": "Name"}, {"name": "Ready"}, {"name": "Status"}]


class PagingApi:
    """Pods `p000`...; lists and Tables in pages; records each request's (limit, continue)."""

    def __init__(self, count: int, *, tables: bool = True, repeat_token: bool = False) -> None:
        self.pods = [pod(f"p{i:03d}", deployment="web") for i in range(count)]
        self.pods[-1]["status"]["containerStatuses"] = [
            container_status("web", ready=False, waiting="CrashLoopBackOff")
        ]
        self.tables = tables
        self.repeat_token = repeat_token
        self.requests: list[tuple[int | None, str | None]] = []
        self.fail_at: int | None = None
        self.context = None

    def _page(self, limit: int | None, token: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        self.requests.append((limit, token))
        if self.fail_at is not None and len(self.requests) > self.fail_at:
            raise errors.ServerError("etcd is unhappy", code=500, reason="InternalError")
        start = 0 if token is None or self.repeat_token else int(token)
        end = len(self.pods) if limit is None else start + limit
        meta: dict[str, Any] = {"resourceVersion": "7"}
        if end < len(self.pods):
            meta["continue"] = str(end)
            meta["remainingItemCount"] = len(self.pods) - end
        return self.pods[start:end], meta

    def list(self, resource: str, namespace: str | None = None, **options: Any) -> ListResult:
        items, meta = self._page(options.get("limit"), options.get("continue_token"))
        return ListResult(
            items=items,
            truncated="continue" in meta,
            remaining=meta.get("remainingItemCount"),
            resource_version=meta["resourceVersion"],
            continue_token=meta.get("continue"),
        )

    def table(self, resource: str, namespace: str | None = None, **options: Any) -> dict[str, Any]:
        if not self.tables:
            raise errors.NotFound("no Table output here", code=404, reason="NotFound")
        items, meta = self._page(options.get("limit"), options.get("continue_token"))
        rows = [{"cells": [p["metadata"]["name"], "1/1", "Running"], "object": p} for p in items]
        return {"kind": "Table", "columnDefinitions": POD_COLUMNS, "rows": rows, "metadata": meta}


def test_a_list_is_read_whole_following_the_continue_tokens() -> None:
    api = PagingApi(1234)
    listed = list_all(api, "pods", "shop")  # type: ignore[arg-type]
    assert [p["metadata"]["name"] for p in listed.items] == [f"p{i:03d}" for i in range(1234)]
    assert not listed.truncated
    assert api.requests == [(500, None), (500, "500"), (500, "1000")]


def test_a_list_stops_at_its_cap_and_says_how_many_more_exist() -> None:
    api = PagingApi(1234)
    listed = list_all(api, "pods", "shop", cap=700)  # type: ignore[arg-type]
    assert len(listed.items) == 700 and listed.truncated and listed.remaining == 534


def test_each_object_is_shaped_as_its_page_arrives_and_the_cap_counts_objects_read() -> None:
    api = PagingApi(1234)
    pages_seen: list[int] = []

    def keep(item: dict[str, Any]) -> dict[str, Any] | None:
        pages_seen.append(len(api.requests))
        name = item["metadata"]["name"]
        return None if name.endswith("1") else {"name": name}

    listed = list_all(api, "pods", "shop", cap=1100, keep=keep)  # type: ignore[arg-type]
    assert listed.items[:3] == [{"name": "p000"}, {"name": "p002"}, {"name": "p003"}]
    assert len(listed.items) == 1100 - 110 and listed.truncated and listed.remaining == 134
    # The first page is shaped while the second is being read ahead: never all pages first.
    assert pages_seen[0] <= 2 and pages_seen[-1] == 3


def test_a_server_that_ignores_continue_is_an_error_not_an_endless_read() -> None:
    api = PagingApi(1234, repeat_token=True)
    with pytest.raises(errors.ServerError, match="same continue token twice"):
        list_all(api, "pods", "shop")  # type: ignore[arg-type]
    assert len(api.requests) <= 3


def test_an_error_on_a_later_page_is_raised_not_taken_for_the_end_of_the_list() -> None:
    api = PagingApi(1234)
    api.fail_at = 1
    with pytest.raises(errors.ServerError, match="etcd is unhappy"):
        list_all(api, "pods", "shop")  # type: ignore[arg-type]


def test_every_pod_is_read_from_table_pages_with_the_servers_status() -> None:
    api = PagingApi(1201)
    fetched = fetch_pods(api, "shop")  # type: ignore[arg-type]
    assert len(fetched.pods) == 1201 and not fetched.truncated and fetched.pages == 5  # pages of 250
    assert fetched.status_source == "table" and {status for _, status in fetched.pods} == {"Running"}
    assert fetched.pods[-1][0]["metadata"]["name"] == "p1200"  # the crash-looping pod on the last page


def test_without_table_output_every_pod_is_listed_and_its_status_computed() -> None:
    api = PagingApi(1201, tables=False)
    fetched = fetch_pods(api, "shop")  # type: ignore[arg-type]
    assert len(fetched.pods) == 1201 and fetched.status_source == "computed"
    assert fetched.pods[-1][1] is None


def test_a_read_with_a_limit_stops_there_and_counts_the_rest() -> None:
    api = PagingApi(1201)
    fetched = fetch_pods(api, "shop", limit=300)  # type: ignore[arg-type]
    assert len(fetched.pods) == 300 and fetched.truncated and fetched.remaining == 901
    assert fetched.total_text() == "1201"
    assert api.requests[:2] == [(250, None), (250, "250")]  # the second page is cut at the limit


def test_pages_read_ahead_are_read_as_the_same_caller() -> None:
    caller: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="nobody")
    seen: list[str] = []

    class Api(PagingApi):
        def list(self, resource: str, namespace: str | None = None, **options: Any) -> ListResult:
            seen.append(caller.get())
            return super().list(resource, namespace, **options)

    caller.set("alice")
    list_all(Api(1234), "pods", "shop")  # type: ignore[arg-type]
    assert seen == ["alice"] * 3


def test_a_table_without_a_status_column_is_read_whole_with_status_computed_from_each_pod() -> None:
    api = PagingApi(600)
    plain = api.table

    def without_status(resource: str, namespace: str | None = None, **options: Any) -> dict[str, Any]:
        table = plain(resource, namespace, **options)
        table["columnDefinitions"] = [{"name": "Name"}, {"name": "Age"}]
        table["rows"] = [{**row, "cells": row["cells"][:1] + ["1h"]} for row in table["rows"]]
        return table

    api.table = without_status  # type: ignore[method-assign]
    fetched = fetch_pods(api, "shop", now=datetime.now(UTC))  # type: ignore[arg-type]
    assert fetched.status_source == "computed" and len(fetched.rows) == 600
    assert [(r.name, r.status) for r in fetched.rows if r.problem] == [("p599", "CrashLoopBackOff")]
