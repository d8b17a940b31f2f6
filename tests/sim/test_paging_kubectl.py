"""The pages the tools read are the pages kubectl reads: with a small page size (`--chunk-size`, limit and continue)
real kubectl and `fetch_pods` see the same pods, each once, with the same STATUS; the Table pages carry each pod
(includeObject=Object) on every page, not only the first."""

from __future__ import annotations

from collections.abc import Callable

from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim
from incident_response.tools.assess.pods import fetch_pods
from incident_response.tools.kube.client import ClusterSource, RealKube
from incident_response.tools.kube.paging import list_pages

PAGE = 7


def test_kubectl_and_the_tools_page_through_the_same_pods_with_the_same_status(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("bad-deploy", extra_pods=40)
    kubectl = kubectl_for(sim)
    assert sim.kubeconfig_path is not None
    kube = RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path))
    for namespace in ("shop", "scale"):
        out = kubectl.run("get", "pods", "-n", namespace, "--no-headers", f"--chunk-size={PAGE}").stdout
        printed = {line.split()[0]: line.split()[2] for line in out.splitlines() if line.strip()}
        fetched = fetch_pods(kube, namespace, limit=10_000)
        names = [str(pod["metadata"]["name"]) for pod, _ in fetched.pods]
        assert len(names) == len(set(names)) == len(printed), namespace
        assert fetched.status_source == "table" and not fetched.truncated
        ours = {name: status for name, (_, status) in zip(names, fetched.pods, strict=True)}
        assert set(ours) == set(printed), namespace
        # A crash-looping container may die or restart between the two reads; every other STATUS must agree.
        crashing = {"CrashLoopBackOff", "Error", "Running"}
        differ = {n for n in printed if ours[n] != printed[n]}
        assert all({ours[n], printed[n]} <= crashing for n in differ), {n: (ours[n], printed[n]) for n in differ}
        assert len(differ) < len(printed) / 2

    pages = list(list_pages(kube, "pods", "scale", page_size=PAGE))
    assert [len(p.items) for p in pages] == [PAGE] * (40 // PAGE) + [40 % PAGE]
    assert pages[0].remaining == 40 - PAGE and pages[-1].continue_token is None
