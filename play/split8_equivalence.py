"""split-8: the split rules.py and trees.py decide exactly as the files they were split from.

A pytest plugin: it loads the old tools/playbook/rules.py and trees.py from git (SPLIT8_BASE, the commit before the
split) beside the new modules, and wraps the new decide() and the three trees so that every call made by the tests
also runs the old code on the same inputs and compares the results (model_dump of the decision; steps, outcome and
cautions of a walk). Mismatches and call counts go to SPLIT8_OUT (default /tmp/split8_equivalence.json).

    SPLIT8_BASE=7c74ba2 PYTHONPATH=play python -m pytest -p split8_equivalence tests/unit/test_decide.py ... -q

The old rules.py/trees.py import only modules the split did not change, so they load as they were.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
import types
from collections import Counter
from typing import Any

BASE = os.environ.get("SPLIT8_BASE", "7c74ba2")
OUT = os.environ.get("SPLIT8_OUT", "/tmp/split8_equivalence.json")
calls: Counter[str] = Counter()
mismatches: list[dict[str, Any]] = []


def load_old(path: str, name: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{BASE}:{path}"], capture_output=True, text=True, check=True).stdout
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module  # dataclasses and pydantic resolve annotations through sys.modules
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def walk_view(walk: Any) -> dict[str, Any]:
    return {
        "steps": [s.model_dump() for s in walk.steps],
        "outcome": walk.outcome.model_dump() if walk.outcome is not None else None,
        "cautions": list(walk.cautions),
    }


def pytest_configure(config: Any) -> None:
    from incident_response.tools.assess import ranked_decisions
    from incident_response.tools.decide import tree_walks
    from incident_response.tools.playbook import ranking, rules

    old_rules = load_old("tools/playbook/rules.py", "split8_old_rules")
    old_trees = load_old("tools/playbook/trees.py", "split8_old_trees")
    new_decide = rules.decide

    def decide(facts: Any) -> Any:
        old_facts = old_rules.Facts(**{f.name: copy.deepcopy(getattr(facts, f.name)) for f in dataclasses.fields(facts)})
        want = old_rules.decide(old_facts).model_dump()
        got = new_decide(facts)
        calls["decide"] += 1
        if got.model_dump() != want:
            mismatches.append({"what": "decide", "new": got.model_dump(), "old": want})
        return got

    for module in (rules, ranking, ranked_decisions):
        module.decide = decide  # type: ignore[attr-defined]

    for name in ("rollback_tree", "scale_tree", "isolate_tree"):
        new_tree = getattr(tree_walks, name)
        old_tree = getattr(old_trees, name)

        def tree(facts: Any, answers: Any, where: Any, _new: Any = new_tree, _old: Any = old_tree, _n: str = name) -> Any:
            want = walk_view(_old(copy.deepcopy(facts), copy.deepcopy(answers), copy.deepcopy(where)))
            got = _new(facts, answers, where)
            calls[_n] += 1
            if walk_view(got) != want:
                mismatches.append({"what": _n, "new": walk_view(got), "old": want})
            return got

        setattr(tree_walks, name, tree)


def pytest_unconfigure(config: Any) -> None:
    with open(OUT, "w") as f:
        json.dump({"calls": calls, "mismatches": mismatches}, f, indent=1, default=str)
