"""Play harness (review-assist6): a simulated cluster + real kubectl + an in-process MCP client, with every tool
call's TEXT (what a model reads) and structured size written to a transcript; approvals through the human's real
`incident-response-mcp approve TOKEN --yes` CLI as a subprocess.

Usage in a play script:
    async def play(p: Play) -> None: ...
    run(play, "name")          # transcript -> play/name.out
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import yaml
from mcp import Client

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.kube.client import ClusterSource

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).with_name("incident-response-mcp")


class Play:
    def __init__(self, sim: RunningSim, root: Path, out: Any) -> None:
        self.sim, self.root, self.out = sim, root, out
        self.state = root / "state"
        self.cache = root / "kcache"
        self.client: Client | None = None

    # ----- writing -----
    def say(self, text: str) -> None:
        self.out.write(text.rstrip() + "\n")
        self.out.flush()

    # ----- kubectl -----
    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True, show: bool = True) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        kc = str(self.sim.kubeconfig_path)
        cmd = ["kubectl", "--kubeconfig", kc, "--cache-dir", str(self.cache), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, input=stdin, env=env, timeout=120)
        if show:
            self.say(f"$ kubectl {shlex.join(args)}\n{done.stdout}{done.stderr}".rstrip())
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {args} failed: {done.stderr}")
        return done.stdout + done.stderr

    def apply(self, docs: list[dict[str, Any]] | str, show: bool = False) -> str:
        text = docs if isinstance(docs, str) else yaml.safe_dump_all(docs)
        return self.kubectl("apply", "-f", "-", stdin=text, show=show)

    def shell(self, line: str, check: bool = True) -> str:
        argv = shlex.split(line)
        assert argv[0] == "kubectl", line
        return self.kubectl(*argv[1:], check=check)

    def jget(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json", show=False))

    # ----- waiting -----
    def wait(self, check: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
        end = time.monotonic() + timeout
        while not check():
            if time.monotonic() > end:
                self.say(f"!! timed out waiting for {what}")
                return
            self.sim.wait_ticks(4)

    def advance(self, seconds: float) -> None:
        self.sim.cluster.advance(seconds)

    def pods(self, ns: str, selector: str = "") -> list[dict[str, Any]]:
        args = ["pods", "-n", ns] + (["-l", selector] if selector else [])
        return list(self.jget(*args)["items"])

    # ----- the server -----
    def server(self, mode: str = "standard", namespaces: tuple[str, ...] = ()) -> Any:
        source = ClusterSource(kubeconfig=self.sim.kubeconfig_path, context=self.sim.context)
        return build_server(Settings(mode=mode, namespaces=namespaces, state_dir=self.state, cluster=source))  # type: ignore[arg-type]

    async def call(self, tool: str, quiet: bool = False, **arguments: Any) -> dict[str, Any]:
        assert self.client is not None
        result = await self.client.call_tool(tool, arguments)
        text = "\n".join(getattr(c, "text", "") for c in result.content)
        structured = result.structured_content or {}
        size = len(json.dumps(structured, separators=(",", ":"))) if structured else 0
        self.say(f"\n### {tool}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
                 f"{'  [ERROR]' if result.is_error else ''}  text {len(text)} B, structured {size} B")
        if not quiet:
            self.say(text)
        out = dict(structured)
        out["_text"], out["_error"] = text, result.is_error
        return out

    def approve(self, token: str) -> str:
        done = subprocess.run(
            [str(BIN), "approve", token, "--yes", "--state-dir", str(self.state)],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.say(f"$ incident-response-mcp approve {token[:8]}... --yes  (rc {done.returncode})\n{done.stdout}{done.stderr}")
        return done.stdout

    async def confirm(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Human approves via the CLI, then the assistant confirms."""
        token = plan.get("token")
        if not token:
            self.say("!! no token in plan")
            return {}
        first = await self.call("confirm_command", token=token)
        if first.get("status") == "awaiting_approval":
            self.approve(token)
            return await self.call("confirm_command", token=token)
        return first


def run(play: Callable[[Play], Awaitable[None]], name: str, mode: str = "standard",
        namespaces: tuple[str, ...] = (), scenario: str = "healthy") -> None:
    out_path = HERE / f"{name}.out"
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None) as tmp, \
            open(out_path, "w") as out:
        root = Path(tmp)
        with run_sim(scenario, kubeconfig_path=root / "kubeconfig") as sim:
            p = Play(sim, root, out)

            async def main() -> None:
                async with Client(p.server(mode, namespaces)) as client:
                    p.client = client
                    await play(p)

            anyio.run(main)
    print(f"transcript: {out_path}")
