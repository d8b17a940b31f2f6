"""The order test files run in (tests/support/schedule.py): the longest first, each file's tests together and in
their own order, and every file the table names still there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from support.schedule import FILE_SECONDS, LISTED_FROM, estimate, longest_first

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Item:
    nodeid: str


def test_every_file_the_table_names_exists_so_a_renamed_file_keeps_its_place() -> None:
    missing = [path for path in FILE_SECONDS if not (ROOT / path).is_file()]
    assert not missing, f"tests/support/schedule.py names files that are gone (rename or drop them): {missing}"


def test_long_files_first_each_files_tests_together_and_in_order() -> None:
    items = [
        Item("tests/unit/test_a.py::one"),
        Item("tests/unit/test_a.py::two"),
        Item("tests/e2e/test_few.py::only"),
        Item("tests/sim/test_scale.py::ten_thousand_pods"),  # one test, listed as long
        Item("tests/unit/test_a.py::three"),
        Item("tests/e2e/test_many.py::a"),
        Item("tests/e2e/test_many.py::b"),
    ]
    ordered = [item.nodeid for item in longest_first(items)]
    assert ordered == [
        "tests/sim/test_scale.py::ten_thousand_pods",
        "tests/e2e/test_many.py::a",
        "tests/e2e/test_many.py::b",
        "tests/e2e/test_few.py::only",
        "tests/unit/test_a.py::one",
        "tests/unit/test_a.py::two",
        "tests/unit/test_a.py::three",
    ]


def test_a_file_not_listed_is_estimated_below_every_listed_one() -> None:
    assert estimate("tests/e2e/test_new.py", 1000) == LISTED_FROM <= min(FILE_SECONDS.values())
    assert estimate("tests/unit/test_new.py", 100) < estimate("tests/e2e/test_new.py", 1)
