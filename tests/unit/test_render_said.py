r"""server/render.py's said(): a scalar the summary states as a whole word, read from each occurrence's neighbours
(no regex compiled per value); the same answers as the regex it replaced, `(?<![\w./-])value(?![\w/-]|\.\w)`."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from incident_response.server.render import said


def by_regex(value: Any, summary: str) -> bool:
    if not isinstance(value, str | int | float) or isinstance(value, bool) or len(str(value)) < 4:
        return False
    return re.search(rf"(?<![\w./-]){re.escape(str(value))}(?![\w/-]|\.\w)", summary) is not None


# Words and the characters that join or separate them, non-ASCII letters and digits included (re's \w is Unicode).
pieces = st.sampled_from(["api", "api-bad", "web", "2.5", "3d", ".", "/", "-", "_", " ", ",", "é", "٣", "(", "ok"])
summary = st.lists(pieces, max_size=12).map("".join)
value = st.one_of(
    st.lists(pieces, min_size=1, max_size=4).map("".join), st.integers(0, 100_000), st.booleans(), st.none()
)


@settings(max_examples=3 * settings().max_examples)
@given(value, summary)
def test_said_answers_as_the_regex_does(v: Any, s: str) -> None:
    assert said(v, s) == by_regex(v, s)


def test_said_examples() -> None:
    assert said("api-bad", "pods of api-bad crash")
    assert not said("api", "pods of api-bad crash")
    assert not said("no", "no load pressure")  # shorter than SAID_MIN
    assert said("web-1", "restarted web-1.")  # a full stop ends the word
    assert not said("web-1", "see web-1.log")
    assert not said("node", "nodes: node_1")
    assert said(12345, "12345 requests")
    assert not said(True, "True story")
