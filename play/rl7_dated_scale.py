"""review-landed7: does a scale to 0 soon after a dated (rolled-out-minutes-ago) deployment's creation record its
ScalingReplicaSet event? (test_lone_scale_event's dark-service case timed out twice under load waiting for it.)"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from tempfile import mkdtemp

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import run_sim
from incident_response.tools.kube.client import RealKube
from incident_response.tools.kube.client import ClusterSource

delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
folder = Path(mkdtemp())
with run_sim("healthy", kubeconfig_path=folder / "kubeconfig") as sim:
    kube = RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context))
    body = deployment_body("orders2", namespace="shop", replicas=2, image="registry.example.com/shop/orders2:1.0",
                           annotations={behaviors.ROLLED_OUT_MINUTES_AGO: "4320"})
    kube.create("deployments", {"apiVersion": "apps/v1", "kind": "Deployment", **body}, "shop")
    t0 = time.monotonic()
    while len([p for p in kube.list("pods", "shop", label_selector="app=orders2").items
               if any(c.get("type") == "Ready" and c.get("status") == "True" for c in p["status"].get("conditions", []))]) < 2:
        sim.wait_ticks(1)
    print(f"ready after {time.monotonic() - t0:.1f}s wall; waiting {delay}s")
    time.sleep(delay)
    kube.patch("deployments", "orders2", {"spec": {"replicas": 0}}, "shop", patch_type="merge")
    for _ in range(20):
        sim.wait_ticks(1)
    events = kube.list("events", "shop", field_selector="reason=ScalingReplicaSet").items
    print([e["message"] for e in events if "orders2" in e["message"]])
