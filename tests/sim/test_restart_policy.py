"""restartPolicy with real kubectl as the oracle: under Never a container that exits is not restarted and the pod ends
Failed (`Error`) or Succeeded (`Completed`); under OnFailure only a failed one restarts; under Always even one that
completed does (and backs off)."""

from __future__ import annotations

import json
from collections.abc import Callable

from support.kubectl_runner import Kubectl
from support.sims import SimFactory

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

NS = "shop"


def _pod(name: str, policy: str, behavior: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "annotations": {behaviors.BEHAVIOR: behavior}},
            "spec": {"restartPolicy": policy, "containers": [{"name": "main", "image": "busybox"}]},
        }
    )


def test_exited_containers_restart_as_their_pods_restart_policy_says(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    cases = {
        "never-fails": ("Never", behaviors.CRASHLOOP),
        "never-completes": ("Never", behaviors.COMPLETE),
        "onfailure-fails": ("OnFailure", behaviors.CRASHLOOP),
        "onfailure-completes": ("OnFailure", behaviors.COMPLETE),
        "always-completes": ("Always", behaviors.COMPLETE),
    }
    for name, (policy, behavior) in cases.items():
        k.run("apply", "-f", "-", stdin=_pod(name, policy, behavior))
    sim.advance(30)
    rows = {r["NAME"]: r for r in k.table("pods", "-n", NS) if r["NAME"] in cases}
    assert (rows["never-fails"]["READY"], rows["never-fails"]["STATUS"], rows["never-fails"]["RESTARTS"]) == (
        "0/1",
        "Error",
        "0",
    )
    assert (rows["never-completes"]["STATUS"], rows["never-completes"]["RESTARTS"]) == ("Completed", "0")
    assert (rows["onfailure-completes"]["STATUS"], rows["onfailure-completes"]["RESTARTS"]) == ("Completed", "0")
    assert int(rows["onfailure-fails"]["RESTARTS"].split()[0]) >= 1  # restarted, backing off
    assert int(rows["always-completes"]["RESTARTS"].split()[0]) >= 1

    def pod(name: str) -> dict[str, object]:
        return k.json("get", "pod", name, "-n", NS)  # type: ignore[no-any-return]

    failed, done = pod("never-fails"), pod("never-completes")
    assert failed["status"]["phase"] == "Failed"  # type: ignore[index]
    assert done["status"]["phase"] == "Succeeded"  # type: ignore[index]
    terminated = failed["status"]["containerStatuses"][0]["state"]["terminated"]  # type: ignore[index]
    assert (terminated["reason"], terminated["exitCode"]) == ("Error", 1)
    ready = next(c for c in failed["status"]["conditions"] if c["type"] == "Ready")  # type: ignore[index]
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")
    assert pod("onfailure-fails")["status"]["phase"] == "Running"  # type: ignore[index]
    # Nothing more happens to a finished pod, however long: no restart, no back-off events.
    sim.advance(600)
    again = {r["NAME"]: r for r in k.table("pods", "-n", NS) if r["NAME"] in cases}
    assert again["never-fails"]["RESTARTS"] == "0" and again["never-completes"]["STATUS"] == "Completed"
    backoffs = k.run("get", "events", "-n", NS, "--field-selector=involvedObject.name=never-fails").stdout
    assert "BackOff" not in backoffs
