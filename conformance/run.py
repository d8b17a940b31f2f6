"""CI: the official MCP conformance server suite and the MCP Inspector CLI against `serve --http` on the sim.

    python conformance/run.py [--header 'Authorization: Bearer T']... [--server-arg=--flag]... [--results DIR]

Starts the simulated cluster (scenario `healthy`) in this process and the server as
`incident-response-mcp serve --http --port 0` against it, then runs, with the Node this folder's package.json pins
(both tools need Node >= 22; npm's `node` package provides it here whatever the machine has):

1. `conformance server --expected-failures baseline.yml`: a failure not in the baseline fails, and so does a baseline
   entry that passes (stale).
2. Inspector CLI checks, in both protocol eras: the tool list with --strict (no error-severity schema problem, and at
   most MAX_PORTABILITY_WARNINGS warnings), the skill through the Skills extension with --verify, the resource and
   a prompt, a tool call against the sim, and a bad call's error.

`serve --http` requires a bearer credential: the run makes one (INCIDENT_RESPONSE_AUTH_TOKEN for the server,
`Authorization: Bearer ...` for the clients) unless `--header 'Authorization: ...'` brings one, with `--server-arg`
for how the server gets it. Headers go on every request: the Inspector sends them itself; the conformance CLI cannot,
so it talks to a local proxy that adds them. Exit 0 only when everything passes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SKILL = "skill://incident-response/SKILL.md"
LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
STARTUP_TIMEOUT = 120.0
# The Inspector's portability warnings on our schemas (a field that accepts anything...): issue 13 asks for none.
MAX_PORTABILITY_WARNINGS = 0
# Except one kind: a nullable field written as a type list (["string", "null"]). The Inspector calls it legal JSON
# Schema that some model providers recommend but some dialects (Gemini's OpenAPI subset) reject; the `anyOf` spelling
# it suggests would add ~5 KB to output schemas that issue 13 holds to 40 KB.
TOLERATED_WARNING = "`type` is an array"


def node_path() -> dict[str, str]:
    """The environment with this folder's node_modules/.bin first: `node` there is the pinned Node 22."""
    env = dict(os.environ)
    env["PATH"] = f"{HERE / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def npm_install() -> None:
    """`npm ci` from the committed lock, unless node_modules already matches it."""
    installed = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


@contextlib.contextmanager
def serve(kubeconfig: Path, state: Path, extra: list[str], token: str | None) -> Iterator[str]:
    """`serve --http` on a free port; yields its MCP URL once uvicorn says where it listens. `token` is the bearer
    credential it requires (through the environment: never on a command line other users can read)."""
    argv = [
        sys.executable, "-c", "from incident_response.server.cli import main; main()", "serve", "--http",
        "--host", "127.0.0.1", "--port", "0", "--kubeconfig", str(kubeconfig), "--state-dir", str(state), *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENT_RESPONSE_"))}
    env["HOME"] = str(state.parent)  # never the developer's ~/.kube
    if token is not None:
        env["INCIDENT_RESPONSE_AUTH_TOKEN"] = token
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    assert process.stdout is not None
    port: list[int] = []
    ready = threading.Event()
    log = state.parent / "server.log"

    def read() -> None:
        assert process.stdout is not None
        with log.open("w", encoding="utf-8") as out:
            for raw in process.stdout:
                line = raw.decode("utf-8", errors="replace")
                out.write(line)
                out.flush()
                if not port and (found := LISTENING.search(line)):
                    port.append(int(found.group(1)))
                    ready.set()
        ready.set()  # exited before listening

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(STARTUP_TIMEOUT) or not port:
            raise SystemExit(f"the server did not start listening:\n{log.read_text(encoding='utf-8')}")
        yield f"http://127.0.0.1:{port[0]}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=10)


@contextlib.contextmanager
def header_proxy(upstream: str, headers: dict[str, str]) -> Iterator[str]:
    """A local HTTP proxy adding `headers` to every request to `upstream` (responses streamed: SSE passes through)."""
    import aiohttp
    from aiohttp import web

    hop_by_hop = {"host", "content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()
    address: list[str] = []

    async def forward(request: web.Request) -> web.StreamResponse:
        assert session is not None
        sent = {k: v for k, v in request.headers.items() if k.lower() not in hop_by_hop} | headers
        body = await request.read()
        async with session.request(request.method, upstream, headers=sent, data=body) as answer:
            response = web.StreamResponse(
                status=answer.status,
                headers={k: v for k, v in answer.headers.items() if k.lower() not in hop_by_hop},
            )
            await response.prepare(request)
            try:
                async for chunk in answer.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
            except ConnectionResetError:  # the client closed its stream (an SSE GET it no longer wants)
                pass
            return response

    session: aiohttp.ClientSession | None = None

    async def main() -> None:
        nonlocal session
        session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/mcp", forward)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        sockets = site._server.sockets if site._server else []  # noqa: SLF001 (aiohttp has no public accessor)
        address.append(f"http://127.0.0.1:{sockets[0].getsockname()[1]}/mcp")
        started.set()
        await stop.wait()
        await runner.cleanup()
        await session.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not started.wait(30):
        raise SystemExit("the header proxy did not start")
    try:
        yield address[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)


def unknown_baseline_entries() -> list[str]:
    """Baseline names the pinned suite does not have (a typo would excuse nothing and hide nothing)."""
    import yaml

    listing = subprocess.run(["conformance", "list"], env=node_path(), capture_output=True, text=True, check=True)
    server_part = listing.stdout.split("Client scenarios")[0]
    known = set(re.findall(r"^\s*- ([a-z0-9-]+)", server_part, flags=re.M))
    excused = yaml.safe_load((HERE / "baseline.yml").read_text(encoding="utf-8"))["server"]
    return [name for name in excused if name not in known]


def run_conformance(url: str, results: Path) -> bool:
    unknown = unknown_baseline_entries()
    if unknown:
        print(f"baseline.yml names scenarios the suite does not have: {', '.join(unknown)}", file=sys.stderr)
        return False
    command = [
        "conformance", "server", "--url", url, "--expected-failures", str(HERE / "baseline.yml"), "-o", str(results),
    ]  # fmt: skip
    done = subprocess.run(command, env=node_path(), capture_output=True, text=True, timeout=900)
    summary = done.stdout[done.stdout.find("=== SUMMARY ===") :] if "=== SUMMARY ===" in done.stdout else done.stdout
    print(summary.strip(), file=sys.stderr)
    if done.returncode != 0:
        print(done.stderr.strip()[-4000:], file=sys.stderr)
    return done.returncode == 0


@dataclass(frozen=True)
class Check:
    what: str
    arguments: list[str]
    # Given (exit code, stdout, stderr): None when it passed, else what went wrong.
    judge: Callable[[int, str, str], str | None]


def result_of(out: str) -> Any:
    """The `result` of the Inspector's `--format json` line (a tool error result too), or None."""
    for line in out.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            answer = json.loads(line)
            if isinstance(answer, dict) and "result" in answer:
                return answer["result"]
    return None


def exits_zero_and(test: Callable[[Any], str | None]) -> Callable[[int, str, str], str | None]:
    def judge(code: int, out: str, err: str) -> str | None:
        result = result_of(out)
        if code != 0 or result is None:
            return f"exit {code}: {err.strip()[-1500:] or out.strip()[-1500:]}"
        return test(result)

    return judge


def tool_error(says: str) -> Callable[[int, str, str], str | None]:
    """A tool call that must answer a tool error (the Inspector exits non-zero for it) containing `says`."""

    def judge(code: int, out: str, err: str) -> str | None:
        result = result_of(out)
        if code == 0 or result is None:
            return f"expected a tool error, got exit {code}: {out.strip()[-1500:]}"
        return tool_result(True, says)(result)

    return judge


def strict_tool_list(code: int, out: str, err: str) -> str | None:
    if code != 0:
        return f"exit {code} (6: a tool schema has an error-severity portability problem):\n{err[-3000:]}"
    issues = [
        line.strip().removeprefix("Issue:").strip() for line in err.splitlines() if line.strip().startswith("Issue:")
    ]
    tolerated = [issue for issue in issues if issue.startswith(TOLERATED_WARNING)]
    others = [issue for issue in issues if not issue.startswith(TOLERATED_WARNING)]
    print(
        f"    tools/list --strict: {len(others)} portability warnings (at most {MAX_PORTABILITY_WARNINGS}); "
        f"{len(tolerated)} nullable type lists, tolerated",
        file=sys.stderr,
    )
    return None if len(others) <= MAX_PORTABILITY_WARNINGS else "\n".join(others[:20])


def skill_verified(code: int, out: str, err: str) -> str | None:
    if code != 0:
        return f"exit {code} (7: a conformance or digest check failed):\n{out[-2000:]}{err[-2000:]}"
    reports = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if [r.get("uri") for r in reports] != [SKILL] or not all(r.get("ok") for r in reports):
        return f"expected one verified skill {SKILL}: {out[-2000:]}"
    return None


def tool_result(expect_error: bool, says: str) -> Callable[[Any], str | None]:
    def test(result: Any) -> str | None:
        texts = [block.get("text", "") for block in result.get("content", [])]
        if bool(result.get("isError")) != expect_error or not any(says in text for text in texts):
            return f"expected isError={expect_error} and {says!r}: {json.dumps(result)[:1500]}"
        return None

    return test


def checks() -> list[Check]:
    listed: list[Check] = []
    for era in ("legacy", "modern"):
        listed += [
            Check(f"{era}: tools/list --strict", ["--method", "tools/list", "--strict"], strict_tool_list),
            Check(f"{era}: skills/list --verify", ["--method", "skills/list", "--verify"], skill_verified),
            Check(
                f"{era}: skills/get --verify", ["--method", "skills/get", "--uri", SKILL, "--verify"], skill_verified
            ),
        ]
    listed += [
        Check(
            "resources/read of the skill",
            ["--method", "resources/read", "--uri", SKILL, "--format", "json"],
            exits_zero_and(
                lambda r: None if r["contents"][0]["text"].startswith("---\nname: incident-response") else str(r)[:500]
            ),
        ),
        Check(
            "prompts/get stabilize",
            [
                "--method",
                "prompts/get",
                "--prompt-name",
                "stabilize",
                "--prompt-args",
                "namespace=shop",
                "--format",
                "json",
            ],
            exits_zero_and(
                lambda r: (
                    None
                    if 'assess_namespace(namespace="shop")' in r["messages"][0]["content"]["text"]
                    else json.dumps(r)[:500]
                )
            ),
        ),  # fmt: skip
        Check(
            "tools/call list_pods on the sim",
            ["--method", "tools/call", "--tool-name", "list_pods", "--tool-arg", "namespace=shop", "--format", "json"],
            exits_zero_and(tool_result(False, "web")),
        ),
        Check(
            "tools/call with a bad argument",
            [
                "--method",
                "tools/call",
                "--tool-name",
                "list_pods",
                "--tool-args-json",
                '{"namespace": "shop", "limit": 0}',
                "--format",
                "json",
            ],
            tool_error("invalid arguments for list_pods: limit should be greater than"),
        ),  # fmt: skip
    ]
    return listed


def run_inspector(url: str, headers: dict[str, str]) -> bool:
    passed = True
    header_args = [arg for name, value in headers.items() for arg in ("--header", f"{name}: {value}")]
    for check in checks():
        era = ["--protocol-era", "modern"] if check.what.startswith("modern") else []
        command = ["mcp-inspector", "--cli", url, *era, *header_args, *check.arguments]
        done = subprocess.run(command, env=node_path(), capture_output=True, text=True, timeout=300)
        problem = check.judge(done.returncode, done.stdout, done.stderr)
        print(f"  {'ok  ' if problem is None else 'FAIL'} {check.what}", file=sys.stderr)
        if problem is not None:
            print("    " + problem.replace("\n", "\n    "), file=sys.stderr)
            passed = False
    return passed


def parse_header(value: str) -> tuple[str, str]:
    name, sep, content = value.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--header {value!r}: write it as 'Name: value'")
    return name.strip(), content.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--header", action="append", type=parse_header, default=[], help="'Name: value' (repeatable)")
    parser.add_argument("--server-arg", action="append", default=[], help="extra argument for serve (repeatable)")
    parser.add_argument("--results", type=Path, help="keep the conformance results here (default: a temp dir)")
    args = parser.parse_args()
    headers = dict(args.header)
    # serve --http requires a bearer credential: one made for this run, unless the caller brings its own.
    token = None
    if not any(name.lower() == "authorization" for name in headers):
        token = secrets.token_urlsafe(32)
        headers["Authorization"] = f"Bearer {token}"
    npm_install()
    from incident_response.sim.serve import run_sim

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        results = args.results or folder / "results"
        with run_sim("healthy", kubeconfig_path=folder / "kubeconfig") as sim:
            assert sim.kubeconfig_path is not None
            with serve(sim.kubeconfig_path, folder / "state", args.server_arg, token) as url:
                print(f"conformance server suite against {url}", file=sys.stderr)
                proxied = header_proxy(url, headers) if headers else contextlib.nullcontext(url)
                with proxied as suite_url:
                    suite = run_conformance(suite_url, results)
                print("MCP Inspector CLI checks", file=sys.stderr)
                inspector = run_inspector(url, headers)
    print(f"conformance: {'passed' if suite else 'FAILED'}; inspector: {'passed' if inspector else 'FAILED'}")
    return 0 if suite and inspector else 1


if __name__ == "__main__":
    sys.exit(main())
