"""The distribution installs one import package: the wheel pip builds from this repository (a separate process)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_installs_only_the_incident_response_package(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"incident_response"}
    # Every source package of the repository ships (a new subpackage must be listed in pyproject.toml).
    for init in sorted(ROOT.glob("*/**/__init__.py")):
        relative = init.relative_to(ROOT).as_posix()
        if relative.split("/")[0] in ("server", "tools", "sim", "prompts"):
            assert f"incident_response/{relative}" in names, f"{relative} is missing from the wheel"
    assert "incident_response/SKILL.md" in names
    assert "incident_response/py.typed" in names
    assert not any(name.startswith("incident_response/tests/") for name in names)
