"""Launcher for play/fc3_runs.py experiments: FC3=version|real|both adds to the warm-up (upper bounds)."""
import os, sys
from incident_response.server import registration
original = registration.warm
def warm(deps):
    original(deps)
    what = os.environ.get("FC3", "")
    if what in ("version", "both"):
        deps.kube.version()
    if what in ("real", "both"):
        from incident_response.tools.assess.pods import list_pods
        registration.to_call_result(list_pods(deps, "kube-system"))
registration.warm = warm
from incident_response.server.cli import main; main()
