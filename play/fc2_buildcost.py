"""CPU of building each tool in a fresh process, in the warm-up's order (first-call-2): how the ~0.46 s splits."""
import pathlib, tempfile, time
import mcp.server, mcp.server.mcpserver  # noqa: F401
from incident_response.server.config import Settings
from incident_response.server.lazy_tools import LIKELY_FIRST, LazyTools
lazy = LazyTools(Settings(state_dir=pathlib.Path(tempfile.mkdtemp())))
c = time.process_time(); lazy.deps; print(f"{'Builder (registration import)':32} {1000*(time.process_time()-c):6.1f} ms")
total = 0.0
for name in [*[n for n in LIKELY_FIRST], *[n for n in lazy.names if n not in LIKELY_FIRST]]:
    c = time.process_time(); lazy.tool(name); d = 1000*(time.process_time()-c); total += d
    print(f"{name:32} {d:6.1f} ms")
print(f"{'all tools':32} {total:6.1f} ms")
