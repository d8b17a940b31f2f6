"""The simulated store's paged lists: whatever was created and removed in between, the pages of a list (in a
namespace or across all) are the live objects in (namespace, name) order, each once, and `count_after` is what the
following pages hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from incident_response.sim.resources import CONFIGMAPS, NAMESPACES
from incident_response.sim.store import Store

NAMESPACES_USED = ("a", "b", "c")
names = st.text(alphabet="xyz0", min_size=1, max_size=3)
ops = st.lists(st.tuples(st.booleans(), st.sampled_from(NAMESPACES_USED), names), max_size=40)


def pages(store: Store, namespace: str | None, size: int) -> list[list[tuple[str, str]]]:
    found, after = [], None
    while True:
        items, _, after = store.list(CONFIGMAPS, namespace, limit=size, continue_after=after)
        found.append([(o["metadata"]["namespace"], o["metadata"]["name"]) for o in items])
        if after is None:
            return found
        assert store.count_after(CONFIGMAPS, namespace, after) == sum(
            1 for k in live_keys(store) if k > after and namespace in (None, k[0])
        )


def live_keys(store: Store) -> list[tuple[str, str]]:
    return sorted((o["metadata"]["namespace"], o["metadata"]["name"]) for o in store.items(CONFIGMAPS))


@given(ops, st.integers(min_value=1, max_value=5), st.sampled_from([None, *NAMESPACES_USED]))
def test_pages_are_the_live_objects_in_order_after_any_creates_and_removes(
    changes: list[tuple[bool, str, str]], size: int, namespace: str | None
) -> None:
    store = Store()
    for ns in NAMESPACES_USED:
        store.create(NAMESPACES, {"metadata": {"name": ns}})
    model: set[tuple[str, str]] = set()
    for index, (create, ns, name) in enumerate(changes):
        if create and (ns, name) not in model:
            store.create(CONFIGMAPS, {"metadata": {"name": name, "namespace": ns}})
            model.add((ns, name))
        elif not create and (ns, name) in model:
            store.remove(CONFIGMAPS, ns, name)
            model.discard((ns, name))
        if index % 7 == 0:  # lists in between (the order is kept between lists)
            pages(store, namespace, size)
    for _ in range(2):  # then once more after namespace b and everything in it is gone
        got = pages(store, namespace, size)
        assert [k for page in got for k in page] == sorted(k for k in model if namespace in (None, k[0]))
        assert all(len(page) <= size for page in got)
        if ("", "b") in {(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in store.items(NAMESPACES)}:
            store.remove(NAMESPACES, None, "b")
        model = {k for k in model if k[0] != "b"}
