"""CPU of the server's warm-up parts, in a fresh process (after the SDK's import, as `serve` has it)."""
import pathlib, sys, tempfile, time
import mcp.server, mcp.server.mcpserver  # noqa: F401
from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
kubeconfig = pathlib.Path(sys.argv[1])
settings = Settings(state_dir=pathlib.Path(tempfile.mkdtemp()), kubeconfig=kubeconfig, cluster=resolve_cluster(kubeconfig, None, {}))
server = build_server(settings)
def step(name, fn):
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    print(f"{name:28} cpu {1000*(time.process_time()-c):7.1f} ms  wall {1000*(time.perf_counter()-w):7.1f} ms")
    return out
built = step("build tools", server.lazy.built)
deps = built.deps
step("yaml", lambda: __import__("yaml"))
from incident_response.tools.core import masking
step("detect-secrets catalogue", masking.catalogue)
step("masking gates", masking.prepare)
step("kube (client import, config)", lambda: deps.kube)
step("journal", lambda: deps.journal)
step("incident scope", deps.incident_scope)
