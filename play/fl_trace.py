"""Launcher: the server, with a timeline of its warm-up steps and tool calls appended to $FL_TRACE (one file per
server process: "<ms since tools/list> <event>"). For play/fl_runs.py."""
import os, sys, threading, time
from incident_response.server import lazy_tools
registration = None

OUT = open(os.environ["FL_TRACE"], "a", buffering=1)
T0 = [None]
lock = threading.Lock()

def mark(event: str) -> None:
    now = time.perf_counter()
    with lock:
        base = T0[0] if T0[0] is not None else now
        OUT.write(f"{os.getpid()} {(now - base) * 1000:8.1f} {threading.current_thread().name} {event}\n")

original_tool = lazy_tools.LazyTools.tool
def tool(self, name, *, warming=False):
    if name in self._tools:
        return self._tools[name]
    c = time.thread_time()
    mark(f"{'warm' if warming else 'call'}-build {name} begin")
    try:
        return original_tool(self, name, warming=warming)
    finally:
        mark(f"{'warm' if warming else 'call'}-build {name} end cpu {(time.thread_time() - c) * 1000:.1f}")
lazy_tools.LazyTools.tool = tool

for module, name in ():
    original = getattr(module, name)
    def wrapped(*a, _o=original, _n=name, **k):
        c = time.thread_time()
        mark(f"step {_n} begin")
        try:
            return _o(*a, **k)
        finally:
            mark(f"step {_n} end cpu {(time.thread_time() - c) * 1000:.1f}")
    setattr(module, name, wrapped)

if hasattr(lazy_tools.LazyTools, "_warm"):
    original_warm = lazy_tools.LazyTools._warm
    def _warm(self, step):
        c = time.thread_time()
        mark(f"step {step.what} begin")
        try:
            return original_warm(self, step)
        finally:
            mark(f"step {step.what} end cpu {(time.thread_time() - c) * 1000:.1f}")
    lazy_tools.LazyTools._warm = _warm
    original_aside = lazy_tools.LazyTools._step_aside
    def _step_aside(self):
        if not self._calls_running:
            return
        w = time.perf_counter()
        original_aside(self)
        mark(f"stood aside {(time.perf_counter() - w) * 1000:.1f} ms")
    lazy_tools.LazyTools._step_aside = _step_aside

original_warm_up = lazy_tools.LazyTools.warm_up
def warm_up(self):
    c = time.thread_time()
    mark("warm-up begin")
    try:
        original_warm_up(self)
    finally:
        mark(f"warm-up end cpu {(time.thread_time() - c) * 1000:.1f}")
lazy_tools.LazyTools.warm_up = warm_up

def warm_cpu(self) -> str:
    t = self.warming
    if t is None or t.native_id is None:
        return "-"
    try:
        return f"{int(open(f'/proc/self/task/{t.native_id}/schedstat').read().split()[0]) / 1e6:.1f}"
    except OSError:
        return "ended"

import collections, functools, sys as _sys
spent = collections.defaultdict(float)
patched = []

def patch_sections() -> None:
    """Time a call's sections (wall): patched at the first call, once the warm-up imported the modules."""
    if patched or not os.environ.get("FL_SECTIONS"):
        return
    patched.append(True)
    reg = _sys.modules.get("incident_response.server.registration")
    pods = _sys.modules.get("incident_response.tools.assess.pods")
    client = _sys.modules.get("incident_response.tools.kube.client")
    masking = _sys.modules.get("incident_response.server.mcp_masking")
    journal = _sys.modules.get("incident_response.tools.engine.journal")
    attribution = _sys.modules.get("incident_response.tools.engine.attribution")
    deps = _sys.modules.get("incident_response.tools.engine.deps")
    def timed(owner, name):
        if owner is None:
            return
        original = getattr(owner, name)
        @functools.wraps(original)
        def wrapper(*a, **k):
            w = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                spent[name] += time.perf_counter() - w
        setattr(owner, name, wrapper)
    for owner, name in ((reg, "to_call_result"), (reg, "journal_call"), (pods, "fetch_pods"),
                        (client and client.RealKube, "table"), (lazy_tools.LazyTools, "tool"),
                        (journal and journal.Journal, "record_tool_call"), (attribution, "call_incidents"),
                        (deps and deps.Deps, "cluster_record")):
        timed(owner, name)

original_middleware = lazy_tools.LazyTools.middleware
async def middleware(self, ctx, call_next):
    if ctx.method == "tools/call":
        p0 = time.process_time()
        patch_sections()
        spent.clear()
        mark(f"call begin warm-up cpu {warm_cpu(self)} at {time.perf_counter():.6f}")
        try:
            return await original_middleware(self, ctx, call_next)
        finally:
            mark(f"call end at {time.perf_counter():.6f} process cpu {(time.process_time() - p0) * 1000:.1f} warm-up cpu {warm_cpu(self)} sections " + " ".join(f"{k}={v * 1000:.1f}" for k, v in spent.items()))
    result = await original_middleware(self, ctx, call_next)
    if ctx.method == "tools/list" and T0[0] is None:
        T0[0] = time.perf_counter()
        mark("listed")
    return result
lazy_tools.LazyTools.middleware = middleware

from incident_response.server.cli import main
main()
