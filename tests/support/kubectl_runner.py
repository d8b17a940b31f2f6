"""Run real kubectl against a simulated cluster: always with our own kubeconfig and cache dir."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest


def find_kubectl() -> str | None:
    return shutil.which("kubectl")


class Kubectl:
    def __init__(self, kubeconfig: Path, cache_dir: Path) -> None:
        binary = find_kubectl()
        if binary is None:
            pytest.skip("kubectl is not on PATH (.ci/run installs one)")
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env["KUBECONFIG"] = str(self.kubeconfig)
        cmd = [self.binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache_dir), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=timeout, env=env)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stderr}\n{done.stdout}")
        return done

    def shell(self, command_line: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a rendered command line (as a human would paste it) with our kubeconfig and cache dir."""
        import shlex

        argv = shlex.split(command_line)
        assert argv and argv[0] == "kubectl", f"not a kubectl command: {command_line}"
        return self.run(*argv[1:], check=check, timeout=timeout)

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)

    def table(self, *args: str) -> list[dict[str, str]]:
        """`kubectl get` output parsed into rows keyed by column header."""
        lines = [line for line in self.run("get", *args).stdout.splitlines() if line.strip()]
        if not lines:
            return []
        header = lines[0]
        starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[i - 1] == " ")]
        names = [header[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
        rows = []
        for line in lines[1:]:
            cells = [line[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
            rows.append(dict(zip(names, cells, strict=True)))
        return rows
