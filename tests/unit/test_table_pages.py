"""Pod Table pages read from the real seam: the continue token comes from the head of each body (tools.kube.body), so
the next page is asked for before this one is decoded; a body that contradicts its head is refused."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from support.builders import container_status, pod

from incident_response.tools.assess.pods import fetch_pods
from incident_response.tools.core import errors
from incident_response.tools.kube.body import HEAD_BYTES, leading_metadata
from incident_response.tools.kube.client import RealKube
from incident_response.tools.kube.table_pages import table_pages

COLUMNS = [{"name": "Name"}, {"name": "Ready"}, {"name": "Status"}]


class BodyKube(RealKube):
    """The real seam with its HTTP replaced: pods `p0000`... answered as kube-apiserver writes a Table (kind,
    apiVersion, metadata, columnDefinitions, rows); `shape` can move or double the metadata."""

    def __init__(self, count: int, shape: str = "apiserver") -> None:  # no ApiClient: nothing is sent
        self.pods = [pod(f"p{i:04d}", deployment="web") for i in range(count)]
        self.pods[-1]["status"]["containerStatuses"] = [
            container_status("web", ready=False, waiting="CrashLoopBackOff", restarts=7)
        ]
        self.shape = shape
        self.tokens: list[str | None] = []
        self.asked = threading.Condition()

    def table_body(self, resource: str, namespace: str | None = None, **options: Any) -> bytes:
        token, limit = options.get("continue_token"), int(options["limit"])
        start = int(token or 0)
        items = self.pods[start : start + limit]
        meta: dict[str, Any] = {"resourceVersion": "7"}
        if start + limit < len(self.pods):
            meta["continue"] = str(start + limit)
            meta["remainingItemCount"] = len(self.pods) - start - limit
        rows = [
            {
                "cells": [p["metadata"]["name"], "1/1", "CrashLoopBackOff" if p is self.pods[-1] else "Running"],
                "object": p,
            }
            for p in items
        ]
        head = '{"kind":"Table","apiVersion":"meta.k8s.io/v1",'
        if self.shape == "apiserver":
            body = head + f'"metadata":{json.dumps(meta)},"columnDefinitions":{json.dumps(COLUMNS)},'
            body += f'"rows":{json.dumps(rows)}}}'
        elif self.shape == "metadata-last":
            body = head + f'"columnDefinitions":{json.dumps(COLUMNS)},"rows":{json.dumps(rows)},'
            body += f'"metadata":{json.dumps(meta)}}}'
        else:  # "twice": a second metadata (the one a decoder keeps) that pages elsewhere
            other = {**meta, "continue": "0"} if "continue" in meta else meta
            body = head + f'"metadata":{json.dumps(meta)},"rows":{json.dumps(rows)},"metadata":{json.dumps(other)}}}'
        with self.asked:
            self.tokens.append(token)
            self.asked.notify_all()
        return body.encode()


def test_the_continue_token_is_read_from_the_head_of_a_body_as_the_api_server_writes_it() -> None:
    body = b'{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"continue":"abc","remainingItemCount":5},'
    assert leading_metadata(body + b'"rows":[{"cells":[' + b"1," * 100_000 + b"1]}]}") == {
        "continue": "abc",
        "remainingItemCount": 5,
    }
    assert leading_metadata(b'{\n  "kind": "PodList",\n  "metadata": {\n    "continue": "x"\n  }\n}') == {
        "continue": "x"
    }
    assert leading_metadata(b'{"kind":"PodList","items":[]}') == {}  # a list that says nothing more: the last page
    assert leading_metadata(b"{}") == {}


@pytest.mark.parametrize(
    "body",
    [
        b'{"kind":"Table","rows":[' + b'{"cells":[1]},' * 5000 + b'{"cells":[1]}],"metadata":{"continue":"x"}}',
        b'{"kind":"Table","metadata":{"continue":"' + b"x" * HEAD_BYTES + b'"}}',  # longer than the head
        b'["not", "an object"]',
        b"<html>bad gateway</html>",
        b'{"metadata":"text"}',
        b'{"kind" "Table"}',
        b"",
    ],
)
def test_a_head_that_does_not_tell_the_token_says_so(body: bytes) -> None:
    assert leading_metadata(body) is None


def test_the_next_page_is_asked_for_before_this_one_is_decoded() -> None:
    kube = BodyKube(600)
    pages = table_pages(kube, "pods", "shop", page_size=250)
    first = next(pages)
    assert first.raw is not None and first.decoded is None and first.continue_token == "250"
    with kube.asked:  # the second request goes out while the first page is still bytes
        assert kube.asked.wait_for(lambda: len(kube.tokens) == 2, timeout=10)
    assert first.raw is not None
    assert [len(page.table()["rows"]) for page in [first, *pages]] == [250, 250, 100]
    assert kube.tokens == [None, "250", "500"]


def test_a_crash_looping_pod_on_the_last_page_is_read_with_the_servers_status() -> None:
    kube = BodyKube(1201)
    fetched = fetch_pods(kube, "shop", now=datetime.now(UTC))
    assert len(fetched.pods) == len(fetched.rows) == 1201 and fetched.pages == 5 and not fetched.truncated
    problems = [row for row in fetched.rows if row.problem]
    assert [(r.name, r.status, r.restarts) for r in problems] == [("p1200", "CrashLoopBackOff", 7)]


def test_a_body_whose_metadata_comes_last_is_decoded_to_find_its_token() -> None:
    kube = BodyKube(600, shape="metadata-last")
    fetched = fetch_pods(kube, "shop")
    assert len(fetched.pods) == 600 and kube.tokens == [None, "250", "500"]


def test_a_body_that_names_two_tokens_is_refused_not_read_twice() -> None:
    kube = BodyKube(600, shape="twice")
    pages = table_pages(kube, "pods", "shop", page_size=250)
    first = next(pages)
    for _ in range(2):  # asked again, it is refused again
        with pytest.raises(errors.ServerError, match="two different continue tokens"):
            first.table()
    pages.close()
