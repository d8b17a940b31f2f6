"""The conformance baseline CI runs with: every scenario it excuses carries its reason (a comment right above it or
its group), and the tools are pinned. (conformance/run.py checks the names against the pinned suite's list.)"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "conformance"


def test_every_excused_scenario_has_a_reason() -> None:
    lines = (FOLDER / "baseline.yml").read_text(encoding="utf-8").splitlines()
    entries = [i for i, line in enumerate(lines) if line.startswith("  - ")]
    assert entries
    for i in entries:
        above = lines[i - 1].strip()
        assert above.startswith("#") or lines[i - 1].startswith("  - "), f"no reason above {lines[i].strip()}"
    groups = [i for i in entries if not lines[i - 1].startswith("  - ")]
    assert all(lines[i - 1].strip().startswith("#") for i in groups)
    listed = yaml.safe_load((FOLDER / "baseline.yml").read_text(encoding="utf-8"))
    assert set(listed) == {"server"} and len(listed["server"]) == len(set(listed["server"])) == len(entries)


def test_the_tools_are_pinned_with_a_lock() -> None:
    package = json.loads((FOLDER / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((FOLDER / "package-lock.json").read_text(encoding="utf-8"))
    pinned = package["dependencies"]
    assert set(pinned) == {"node", "@modelcontextprotocol/conformance", "@modelcontextprotocol/inspector"}
    assert all(version[0].isdigit() for version in pinned.values()), pinned  # exact versions, no ranges
    assert int(pinned["node"].split(".")[0]) >= 22  # both tools need Node 22 or newer
    for name, version in pinned.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert "conformance/run.py" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
