"""Real kubectl as the oracle: each shipped scenario's bad release shows what a real cluster would (its image, its
limits, its containers' states), and no simulator key (sim.incident-response.dev/...) in the pod it runs nor in the
revision kubectl would roll back from. The releases fail through the sim's image catalogue (sim/behaviors.py)."""

from __future__ import annotations

import re

import pytest
from support.conformance import IMAGE, NS, Shared, eventually
from support.kubectl_runner import Kubectl
from support.sims import SharedSims

from incident_response.sim.behaviors import PREFIX
from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim

# scenario -> (the workload kubectl rolls back, its bad revision, the bad release's image, the label of its pods,
# what `kubectl describe pod` says of the failing one)
RELEASES = {
    "bad-deploy": ("deployment/checkout", 3, "checkout:2.5.0", "app=checkout", r"Reason:\s+CrashLoopBackOff"),
    "oom": ("deployment/payments", 2, "payments:5.1.0", "app=payments", r"Reason:\s+OOMKilled"),
    "canary": ("deployment/web-canary", 1, "web:2.0.0-rc1", "version=canary", r"Reason:\s+CrashLoopBackOff"),
    "poison": ("deployment/api-bad", 1, "api:3.4.0-beta", "version=bad", r"Ready:\s+True"),
    "bad-statefulset": ("statefulset/sessions", 2, "sessions:7.4.0", "app=sessions", r"Reason:\s+CrashLoopBackOff"),
    "bad-daemonset": ("daemonset/db-proxy", 2, "db-proxy:1.15.0", "app=db-proxy", r"Reason:\s+CrashLoopBackOff"),
}


@pytest.fixture(scope="module")
def shared(shared_sims: SharedSims, tmp_path_factory: pytest.TempPathFactory) -> Shared:
    kubectls: dict[str, Kubectl] = {}

    def get(scenario: str) -> tuple[RunningSim, Kubectl]:
        sim = shared_sims(scenario)
        if scenario not in kubectls:
            assert sim.kubeconfig_path is not None
            kubectls[scenario] = Kubectl(sim.kubeconfig_path, tmp_path_factory.mktemp(f"kubectl-{scenario}"))
        return sim, kubectls[scenario]

    return get


@pytest.mark.parametrize("scenario", sorted(RELEASES))
def test_the_bad_release_shows_its_image_and_no_simulator_key(shared: Shared, scenario: str) -> None:
    workload, revision, image, selector, failing = RELEASES[scenario]
    sim, k = shared(scenario)
    history = k.shell(f"kubectl rollout history {workload} -n {NS} --revision={revision}").stdout
    assert re.search(r"Image:\s+" + re.escape(IMAGE.format(image)), history), history
    assert PREFIX not in history, history
    key, value = selector.split("=")
    name = next(
        str(p["metadata"]["name"])
        for p in sorted(sim.store.items(PODS, NS), key=lambda p: str(p["metadata"]["name"]))
        if (p["metadata"].get("labels") or {}).get(key) == value
        and any(c.get("image") == IMAGE.format(image) for c in p["spec"]["containers"])
    )

    def described() -> str | None:
        out = k.shell(f"kubectl describe pod {name} -n {NS}").stdout
        return out if re.search(failing, out) else None

    out = eventually(described, what=f"{failing!r} in kubectl describe pod {name}")
    assert re.search(r"Image:\s+" + re.escape(IMAGE.format(image)), out), out
    assert PREFIX not in out, out
    if scenario == "oom":  # the limit the new release outgrew, as the template has it
        assert re.search(r"Limits:\s+cpu:\s+\S+\s+memory:\s+256Mi", out), out
