"""Print the journal requests of each team-mode call (bench/team_requests.py's calls)."""
import pathlib, sys, tempfile, anyio, traceback
sys.path.insert(0, "bench")
import team_requests as t
from mcp import Client
from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.serve import run_sim

import contextlib
from incident_response.server import registration
if "--no-memo" in sys.argv: registration.call_reads.one_call = contextlib.nullcontext
STACKS = "--stacks" in sys.argv
class K(t.CountingKube):
    def _request(self, method, path, **kw):
        if STACKS and "/namespaces/incident-response/" in path:
            st = [f"{f.filename.split('team-requests/')[-1]}:{f.lineno}:{f.name}" for f in traceback.extract_stack()[:-1] if "team-requests/" in f.filename and ".venv" not in f.filename and "kube/client" not in f.filename]
            self.paths.append("   " + " <- ".join(reversed(st[-7:])))
        return super()._request(method, path, **kw)

async def main():
    folder = pathlib.Path(tempfile.mkdtemp())
    with run_sim("bad-deploy", kubeconfig_path=folder / "kubeconfig") as sim:
        t.install_store(sim, folder)
        settings = Settings(state_dir=folder / "s", kubeconfig=sim.kubeconfig_path, cluster=resolve_cluster(sim.kubeconfig_path, None, {}), store="kubernetes", store_namespace=t.STORE_NAMESPACE)
        kube = K.connect(t.ClusterSource(kubeconfig=sim.kubeconfig_path)); kube.paths=[]; kube.lock=t.threading.Lock()
        only = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None
        async with Client(build_server(settings, kube)) as client:
            for tool, args in t.CALLS:
                kube.paths.clear()
                await client.call_tool(tool, args)
                if only and tool != only: continue
                print("==", tool)
                for p in kube.paths:
                    if "incident-response" in p or p.startswith("   "): print("  ", p.replace("/apis/incident-response.dev/v1alpha1/namespaces/incident-response/", "~/"))
anyio.run(main)
