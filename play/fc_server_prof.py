"""Launcher for play/fc_stdio.py: the server, with each tools/call profiled (cProfile, CPU timer, its worker threads
included); the stats of call N go to $FC_PROF_DIR/call-N.prof. FC_FULL=1 runs every masking rule (no gates)."""
import cProfile, functools, os, sys, time
import anyio, anyio.to_thread
from incident_response.server import lazy_tools
from incident_response.tools.core import masking

if os.environ.get("FC_FULL"):
    masking._mask_once = functools.partial(masking._mask_once, gated=False)

OUT = os.environ.get("FC_PROF_DIR")
profiles: list = []
calls = 0
original_run_sync = anyio.to_thread.run_sync

async def run_sync(fn, *args, **kwargs):
    if not OUT:
        return await original_run_sync(fn, *args, **kwargs)
    def wrapped(*a):
        p = cProfile.Profile(time.thread_time)
        p.enable()
        try:
            return fn(*a)
        finally:
            p.disable()
            profiles.append(p)
    return await original_run_sync(wrapped, *args, **kwargs)
anyio.to_thread.run_sync = run_sync

original_middleware = lazy_tools.LazyTools.middleware
async def middleware(self, ctx, call_next):
    global calls
    if os.environ.get("FC_MODULES") and ctx.method == "tools/call":
        before = set(sys.modules)
        try:
            return await original_middleware(self, ctx, call_next)
        finally:
            new = sorted(set(sys.modules) - before)
            print(f"FC new modules in a call: {new}", file=sys.stderr)
    if not OUT or ctx.method != "tools/call":
        return await original_middleware(self, ctx, call_next)
    calls += 1
    profiles.clear()
    p = cProfile.Profile(time.thread_time)
    p.enable()
    try:
        return await original_middleware(self, ctx, call_next)
    finally:
        p.disable()
        import pstats
        s = pstats.Stats(p)
        for q in profiles:
            s.add(q)
        s.dump_stats(f"{OUT}/call-{calls}.prof")
lazy_tools.LazyTools.middleware = middleware

if os.environ.get("FC_SECTIONS"):
    import collections
    from incident_response.server import registration
    from incident_response.tools.assess import pods
    from incident_response.tools.engine import journal as journal_module
    spent = collections.defaultdict(lambda: [0.0, 0.0])
    def timed(module, name):
        original = getattr(module, name)
        @functools.wraps(original)
        def wrapper(*a, **k):
            w, c = time.perf_counter(), time.thread_time()
            try:
                return original(*a, **k)
            finally:
                s = spent[name]
                s[0] += time.perf_counter() - w
                s[1] += time.thread_time() - c
        setattr(module, name, wrapper)
    for module, name in ((registration, "to_call_result"), (registration, "journal_call"), (pods, "fetch_pods"),
                         (journal_module.Journal, "current_incident"), (journal_module.Journal, "record_tool_call")):
        timed(module, name)
    inner = lazy_tools.LazyTools.middleware
    async def sections(self, ctx, call_next):
        if ctx.method != "tools/call":
            return await inner(self, ctx, call_next)
        spent.clear()
        w = time.perf_counter()
        try:
            return await inner(self, ctx, call_next)
        finally:
            print(f"FC call {1000 * (time.perf_counter() - w):.1f} ms: " + "; ".join(f"{k} {1000*v[0]:.1f}/{1000*v[1]:.1f}" for k, v in spent.items()), file=sys.stderr)
    lazy_tools.LazyTools.middleware = sections

if os.environ.get("FC_PRECONNECT"):
    from incident_response.server import registration
    original_warm = registration.warm
    def warm(deps):
        original_warm(deps)
        api = deps.kube._api
        pool = api.rest_client.pool_manager.connection_from_url(api.configuration.host)
        conn = pool._get_conn()
        conn.connect()
        pool._put_conn(conn)
        print("FC preconnected", file=sys.stderr)
    registration.warm = warm

if os.environ.get("FC_NEWCODE"):
    import threading
    seen: set = set()
    phase = {"n": 0, "new": {}}
    def tracer(frame, event, arg):
        if event == "call":
            code = frame.f_code
            if code not in seen:
                seen.add(code)
                if phase["n"] == 1:
                    phase["new"][code] = phase["new"].get(code, 0) + 1
        return None
    sys.setprofile(tracer)
    threading.setprofile(tracer)
    inner_mw = lazy_tools.LazyTools.middleware
    async def newcode(self, ctx, call_next):
        if ctx.method != "tools/call":
            return await inner_mw(self, ctx, call_next)
        phase["n"] += 1
        try:
            return await inner_mw(self, ctx, call_next)
        finally:
            if phase["n"] == 1:
                phase["n"] = 99
                import collections
                new = list(phase["new"])
                by_file = collections.Counter(c.co_filename for c in new)
                print(f"FC first-time code objects: {len(new)}", file=sys.stderr)
                for f, n in by_file.most_common(40):
                    names = sorted({c.co_name for c in new if c.co_filename == f})[:12]
                    print(f"FC   {n:4} {f[-60:]} {names}", file=sys.stderr)
    lazy_tools.LazyTools.middleware = newcode

if os.environ.get("FC_WARMREQ"):
    from incident_response.server import registration as registration_
    original_warm_ = registration_.warm
    def warm_(deps):
        original_warm_(deps)
        deps.kube.version()
        print("FC warm request", file=sys.stderr)
    registration_.warm = warm_

if os.environ.get("FC_REBUILDS"):
    import pydantic, traceback
    original_rebuild = pydantic.BaseModel.model_rebuild.__func__
    def rebuild(cls, *a, **k):
        print(f"FC rebuild {cls.__module__}.{cls.__qualname__} in {__import__('threading').current_thread().name}", file=sys.stderr)
        return original_rebuild(cls, *a, **k)
    pydantic.BaseModel.model_rebuild = classmethod(rebuild)

from incident_response.server.cli import main
main()
