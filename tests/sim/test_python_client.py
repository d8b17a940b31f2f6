"""The official `kubernetes` Python client (37.x) against the simulated cluster: every call the tools need."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from support.polling import eventually
from support.sims import SimFactory

from incident_response.sim.serve import RunningSim, run_sim

T = TypeVar("T")

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


def api_client(sim: RunningSim) -> client.ApiClient:
    assert sim.kubeconfig_path is not None
    return config.new_client_from_config(config_file=str(sim.kubeconfig_path), context=sim.context)


@pytest.fixture(scope="module")
def shared_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    """One healthy cluster for the read-mostly tests (writes touch only objects the test creates)."""
    folder = tmp_path_factory.mktemp("client-sim")
    with run_sim("healthy", kubeconfig_path=folder / "kubeconfig") as sim:
        yield sim


@pytest.fixture(scope="module")
def api(shared_sim: RunningSim) -> Iterator[client.ApiClient]:
    with api_client(shared_sim) as c:
        yield c


@pytest.fixture(scope="module")
def target(api: client.ApiClient) -> dict[str, str]:
    """A deployment of the scenario with its namespace, app label, container name and one of its pods."""
    apps = client.AppsV1Api(api)
    deployments = [
        d
        for d in apps.list_deployment_for_all_namespaces().items
        if d.metadata.namespace != "kube-system" and (d.spec.replicas or 0) > 0
    ]
    assert deployments, "the healthy scenario has deployments"
    deploy = deployments[0]
    labels = deploy.spec.selector.match_labels
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    pods = client.CoreV1Api(api).list_namespaced_pod(deploy.metadata.namespace, label_selector=selector).items
    assert pods, f"deployment {deploy.metadata.name} has pods"
    return {
        "namespace": deploy.metadata.namespace,
        "deployment": deploy.metadata.name,
        "selector": selector,
        "container": deploy.spec.template.spec.containers[0].name,
        "pod": pods[0].metadata.name,
        "node": pods[0].spec.node_name or "",
    }


def _deployment(name: str, replicas: int = 2, image: str = "registry.example/web:1.0") -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[
                        client.V1Container(
                            name="web",
                            image=image,
                            resources=client.V1ResourceRequirements(
                                requests={"cpu": "50m", "memory": "32Mi"}, limits={"memory": "128Mi"}
                            ),
                        )
                    ]
                ),
            ),
        ),
    )


def test_version_api_reports_1_32(api: client.ApiClient) -> None:
    info = client.VersionApi(api).get_code()
    assert (info.major, info.minor) == ("1", "32")
    assert info.git_version.startswith("v1.32.")


def test_pods_list_and_read_with_label_and_field_selectors(api: client.ApiClient, target: dict[str, str]) -> None:
    core = client.CoreV1Api(api)
    ns = target["namespace"]
    everything = core.list_pod_for_all_namespaces()
    assert everything.metadata.resource_version
    by_label = core.list_namespaced_pod(ns, label_selector=target["selector"]).items
    assert by_label and all(p.metadata.namespace == ns for p in by_label)
    by_name = core.list_namespaced_pod(ns, field_selector=f"metadata.name={target['pod']}").items
    assert [p.metadata.name for p in by_name] == [target["pod"]]
    running = core.list_pod_for_all_namespaces(field_selector="status.phase=Running").items
    assert running and all(p.status.phase == "Running" for p in running)
    if target["node"]:
        on_node = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={target['node']}").items
        assert on_node and all(p.spec.node_name == target["node"] for p in on_node)
    pod = core.read_namespaced_pod(target["pod"], ns)
    assert pod.metadata.uid and pod.status.container_statuses
    page = core.list_pod_for_all_namespaces(limit=2)
    assert len(page.items) <= 2
    if page.metadata._continue:
        rest = core.list_pod_for_all_namespaces(limit=1000, _continue=page.metadata._continue)
        assert len(page.items) + len(rest.items) == len(everything.items)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("no-such-pod", ns)
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["reason"] == "NotFound"


def test_deployment_read_and_every_patch_type(api: client.ApiClient, target: dict[str, str]) -> None:
    apps = client.AppsV1Api(api)
    ns = target["namespace"]
    apps.create_namespaced_deployment(ns, _deployment("client-patches"))

    def rolled_out() -> bool:
        d = apps.read_namespaced_deployment("client-patches", ns)
        s = d.status
        return bool(
            s
            and s.observed_generation == d.metadata.generation
            and s.updated_replicas == 2
            and s.available_replicas == 2
            and (s.replicas or 0) == 2
        )

    eventually(rolled_out, what="the first revision to roll out")
    current = apps.read_namespaced_deployment("client-patches", ns)
    rv = current.metadata.resource_version

    # json-patch with a `test` op (the tools' optimistic precondition), sent as a list
    patched = apps.patch_namespaced_deployment(
        "client-patches",
        ns,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "registry.example/web:1.1"},
        ],
        field_manager="incident-response-mcp",
    )
    assert patched.spec.template.spec.containers[0].image == "registry.example/web:1.1"
    assert any(m.manager == "incident-response-mcp" for m in patched.metadata.managed_fields or [])
    with pytest.raises(ApiException) as failed_test:
        apps.patch_namespaced_deployment(
            "client-patches",
            ns,
            [
                {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                {"op": "replace", "path": "/spec/replicas", "value": 5},
            ],
        )
    assert failed_test.value.status in (409, 422)

    # strategic merge (the client's default for a dict body): containers merge by name
    strategic = apps.patch_namespaced_deployment(
        "client-patches",
        ns,
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "web", "resources": {"limits": {"memory": "256Mi"}}}]}}
            }
        },
    )
    container = strategic.spec.template.spec.containers[0]
    assert (container.image, container.resources.limits["memory"]) == ("registry.example/web:1.1", "256Mi")

    # merge patch (RFC 7386) via an explicit content type
    merged = apps.patch_namespaced_deployment(
        "client-patches",
        ns,
        {"metadata": {"annotations": {"kubernetes.io/change-cause": "client test"}}},
        _content_type=MERGE,
    )
    assert merged.metadata.annotations["kubernetes.io/change-cause"] == "client test"

    # dry run never persists
    dry = apps.patch_namespaced_deployment("client-patches", ns, {"spec": {"replicas": 7}}, dry_run="All")
    assert dry.spec.replicas == 7
    assert apps.read_namespaced_deployment("client-patches", ns).spec.replicas == 2

    # the controllers roll the new template out
    eventually(rolled_out, what="the patched deployment to roll out")
    replicasets = apps.list_namespaced_replica_set(ns, label_selector="app=client-patches").items
    by_revision = {int(rs.metadata.annotations["deployment.kubernetes.io/revision"]): rs for rs in replicasets}
    # The image and the memory limit were two patches: the controller may have seen the first alone (a revision
    # of its own, as a real one would when it syncs between them) or both together.
    assert sorted(by_revision) in ([1, 2], [1, 2, 3])
    latest = by_revision[max(by_revision)].spec.template.spec.containers[0]
    assert (latest.image, latest.resources.limits["memory"]) == ("registry.example/web:1.1", "256Mi")
    assert all(rs.metadata.owner_references[0].name == "client-patches" for rs in replicasets)


def test_scale_subresource_read_and_patch(api: client.ApiClient, target: dict[str, str]) -> None:
    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)
    ns = target["namespace"]
    apps.create_namespaced_deployment(ns, _deployment("client-scale", replicas=1))
    scale = apps.read_namespaced_deployment_scale("client-scale", ns)
    assert scale.spec.replicas == 1 and scale.kind == "Scale"
    updated = apps.patch_namespaced_deployment_scale("client-scale", ns, {"spec": {"replicas": 3}}, _content_type=MERGE)
    assert updated.spec.replicas == 3
    assert apps.read_namespaced_deployment("client-scale", ns).spec.replicas == 3
    eventually(
        lambda: (
            len(
                [
                    p
                    for p in core.list_namespaced_pod(ns, label_selector="app=client-scale").items
                    if p.status.phase == "Running"
                ]
            )
            == 3
        ),
        what="three running pods",
    )
    assert apps.read_namespaced_deployment_scale("client-scale", ns).status.selector == "app=client-scale"


def test_replicasets_events_and_logs(api: client.ApiClient, target: dict[str, str]) -> None:
    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)
    ns = target["namespace"]
    replicasets = apps.list_namespaced_replica_set(ns, label_selector=target["selector"]).items
    assert replicasets and all(rs.metadata.annotations.get("deployment.kubernetes.io/revision") for rs in replicasets)
    # Events of its own: the scenario starts with none, and another test's deployment may run on another worker.
    apps.create_namespaced_deployment(ns, _deployment("client-events", replicas=1))
    about = "involvedObject.name=client-events"
    only = eventually(lambda: core.list_namespaced_event(ns, field_selector=about).items, what="the deployment's event")
    assert all(e.involved_object.name == "client-events" for e in only)
    assert "ScalingReplicaSet" in {e.reason for e in only if e.involved_object.kind == "Deployment"}, only
    events = core.list_namespaced_event(ns).items
    assert len(events) >= len(only) and all(e.involved_object.name and e.reason for e in events)
    assert client.EventsV1Api  # the tools read core/v1 events; events.k8s.io is not served
    log = core.read_namespaced_pod_log(target["pod"], ns, container=target["container"], tail_lines=5)
    assert isinstance(log, str) and 0 < len(log.splitlines()) <= 5
    stamped = core.read_namespaced_pod_log(target["pod"], ns, tail_lines=1, timestamps=True)
    assert stamped.split(" ", 1)[0].endswith("Z")
    with pytest.raises(ApiException) as no_previous:
        core.read_namespaced_pod_log(target["pod"], ns, previous=True)
    assert no_previous.value.status == 400


def test_previous_logs_of_a_restarted_container(sim_factory: SimFactory) -> None:
    sim = sim_factory("bad-deploy")
    with api_client(sim) as c:
        core = client.CoreV1Api(c)

        def restarted() -> Any:
            return next(
                (
                    p
                    for p in core.list_pod_for_all_namespaces().items
                    if any((s.restart_count or 0) > 0 for s in p.status.container_statuses or [])
                ),
                None,
            )

        pod = eventually(restarted, what="a restarted container")
        previous = core.read_namespaced_pod_log(pod.metadata.name, pod.metadata.namespace, previous=True, tail_lines=20)
        assert previous.strip()


def test_networkpolicy_create_and_delete(api: client.ApiClient, target: dict[str, str]) -> None:
    net = client.NetworkingV1Api(api)
    ns = target["namespace"]
    policy = client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="client-isolate"),
        spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(match_labels={"app": "nothing"}), policy_types=["Ingress"], ingress=[]
        ),
    )
    dry = net.create_namespaced_network_policy(ns, policy, dry_run="All")
    assert dry.metadata.name == "client-isolate"
    with pytest.raises(ApiException):
        net.read_namespaced_network_policy("client-isolate", ns)
    created = net.create_namespaced_network_policy(ns, policy, field_manager="incident-response-mcp")
    assert created.spec.policy_types == ["Ingress"]
    assert net.read_namespaced_network_policy("client-isolate", ns).spec.pod_selector.match_labels == {"app": "nothing"}
    with pytest.raises(ApiException) as again:
        net.create_namespaced_network_policy(ns, policy)
    assert again.value.status == 409
    net.delete_namespaced_network_policy("client-isolate", ns)
    with pytest.raises(ApiException) as gone:
        net.read_namespaced_network_policy("client-isolate", ns)
    assert gone.value.status == 404


def test_service_and_ingress_patches(api: client.ApiClient, target: dict[str, str]) -> None:
    core = client.CoreV1Api(api)
    net = client.NetworkingV1Api(api)
    ns = target["namespace"]
    core.create_namespaced_service(
        ns,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="client-svc"),
            spec=client.V1ServiceSpec(selector={"app": "client-svc"}, ports=[client.V1ServicePort(port=80)]),
        ),
    )
    svc = core.patch_namespaced_service("client-svc", ns, {"spec": {"selector": {"version": "stable"}}})
    assert svc.spec.selector == {"app": "client-svc", "version": "stable"}
    assert svc.spec.ports[0].protocol == "TCP" and svc.spec.cluster_ip
    backend = client.V1IngressBackend(
        service=client.V1IngressServiceBackend(name="client-svc", port=client.V1ServiceBackendPort(number=80))
    )
    net.create_namespaced_ingress(
        ns,
        client.V1Ingress(
            metadata=client.V1ObjectMeta(name="client-ing"),
            spec=client.V1IngressSpec(
                rules=[
                    client.V1IngressRule(
                        host="shop.example",
                        http=client.V1HTTPIngressRuleValue(
                            paths=[client.V1HTTPIngressPath(path="/", path_type="Prefix", backend=backend)]
                        ),
                    )
                ]
            ),
        ),
    )
    ing = net.patch_namespaced_ingress(
        "client-ing",
        ns,
        [{"op": "replace", "path": "/spec/rules/0/http/paths/0/backend/service/name", "value": "other-svc"}],
    )
    assert ing.spec.rules[0].http.paths[0].backend.service.name == "other-svc"
    listed = net.list_ingress_for_all_namespaces().items
    assert any(i.metadata.name == "client-ing" for i in listed)


def test_hpas_and_helm_release_secrets(api: client.ApiClient, target: dict[str, str]) -> None:
    autoscaling = client.AutoscalingV2Api(api)
    core = client.CoreV1Api(api)
    ns = target["namespace"]
    hpas = autoscaling.list_horizontal_pod_autoscaler_for_all_namespaces().items
    assert hpas, "the healthy scenario has HPAs"
    hpa = hpas[0]
    assert hpa.spec.max_replicas >= (hpa.spec.min_replicas or 1)
    assert hpa.spec.scale_target_ref.kind == "Deployment"
    read = autoscaling.read_namespaced_horizontal_pod_autoscaler(hpa.metadata.name, hpa.metadata.namespace)
    assert read.metadata.uid == hpa.metadata.uid
    release = {"name": "shop", "version": 1, "info": {"status": "deployed"}}
    core.create_namespaced_secret(
        ns,
        client.V1Secret(
            metadata=client.V1ObjectMeta(
                name="sh.helm.release.v1.client.v1",
                labels={"owner": "helm", "name": "client", "version": "1", "status": "deployed"},
            ),
            type="helm.sh/release.v1",
            data={"release": base64.b64encode(json.dumps(release).encode()).decode()},
        ),
    )
    secrets = core.list_namespaced_secret(ns, label_selector="owner=helm,name=client").items
    assert [s.metadata.name for s in secrets] == ["sh.helm.release.v1.client.v1"]
    secret = core.read_namespaced_secret("sh.helm.release.v1.client.v1", ns)
    assert secret.type == "helm.sh/release.v1"
    assert json.loads(base64.b64decode(secret.data["release"])) == release


def test_access_and_rules_reviews(shared_sim: RunningSim, api: client.ApiClient, target: dict[str, str]) -> None:
    auth = client.AuthorizationV1Api(api)
    ns = target["namespace"]
    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                verb="patch", resource="deployments", group="apps", namespace=ns
            )
        )
    )
    assert auth.create_self_subject_access_review(review).status.allowed is True
    rules = auth.create_self_subject_rules_review(
        client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=ns))
    )
    assert rules.status.resource_rules and rules.status.incomplete is False
    shared_sim.authz.deny("patch", "deployments", group="apps", namespace=ns)
    try:
        denied = auth.create_self_subject_access_review(review).status
        assert denied.allowed is False
        rules = auth.create_self_subject_rules_review(
            client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=ns))
        )
        deployment_rules = [r for r in rules.status.resource_rules if "deployments" in (r.resources or [])]
        assert deployment_rules and "patch" not in deployment_rules[0].verbs
        with pytest.raises(ApiException) as forbidden:
            client.AppsV1Api(api).patch_namespaced_deployment(target["deployment"], ns, {"metadata": {}})
        assert forbidden.value.status == 403
    finally:
        shared_sim.authz.clear()


def test_metrics_through_custom_objects(api: client.ApiClient, target: dict[str, str]) -> None:
    custom = client.CustomObjectsApi(api)
    ns = target["namespace"]
    pods = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", ns, "pods")
    assert pods["kind"] == "PodMetricsList"
    names = {p["metadata"]["name"] for p in pods["items"]}
    assert target["pod"] in names
    usage = pods["items"][0]["containers"][0]["usage"]
    assert usage["cpu"].endswith("n") and usage["memory"].endswith("Ki")
    selected = custom.list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", ns, "pods", label_selector=target["selector"]
    )
    assert selected["items"] and len(selected["items"]) <= len(pods["items"])
    one = custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", ns, "pods", target["pod"])
    assert one["kind"] == "PodMetrics"
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert nodes["kind"] == "NodeMetricsList" and nodes["items"]
    node_names = {n.metadata.name for n in client.CoreV1Api(api).list_node().items}
    assert {n["metadata"]["name"] for n in nodes["items"]} == node_names


def test_watch_of_pods_sees_the_initial_state_and_new_pods(api: client.ApiClient, target: dict[str, str]) -> None:
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    ns = target["namespace"]
    listed = core.list_namespaced_pod(ns)
    apps.create_namespaced_deployment(ns, _deployment("client-watch", replicas=1))
    seen: list[tuple[str, str]] = []
    running = False
    w = watch.Watch()
    for event in w.stream(
        core.list_namespaced_pod,
        ns,
        label_selector="app=client-watch",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=10,
    ):
        pod = event["object"]
        seen.append((event["type"], pod.metadata.name))
        if pod.status and pod.status.phase == "Running":
            running = True
            w.stop()
    # The stream was stopped on seeing the pod Running (not ended by its 10 s timeout with the pod still starting).
    assert seen and seen[0][0] == "ADDED" and running, seen
    assert all(name.startswith("client-watch-") for _, name in seen)
    bounded = list(watch.Watch().stream(core.list_namespaced_pod, ns, label_selector="app=none", timeout_seconds=1))
    assert bounded == []


def test_cordon_and_eviction(sim_factory: SimFactory) -> None:
    sim = sim_factory("healthy")
    with api_client(sim) as c:
        core = client.CoreV1Api(c)
        pod = next(
            p
            for p in core.list_pod_for_all_namespaces().items
            if p.metadata.namespace != "kube-system" and p.spec.node_name and p.metadata.owner_references
        )
        node = pod.spec.node_name
        cordoned = core.patch_node(node, {"spec": {"unschedulable": True}})
        assert cordoned.spec.unschedulable is True
        eviction = client.V1Eviction(
            metadata=client.V1ObjectMeta(name=pod.metadata.name, namespace=pod.metadata.namespace)
        )
        core.create_namespaced_pod_eviction(pod.metadata.name, pod.metadata.namespace, eviction)

        def gone() -> bool:
            try:
                again = core.read_namespaced_pod(pod.metadata.name, pod.metadata.namespace)
            except ApiException as e:
                return e.status == 404
            return again.metadata.uid != pod.metadata.uid

        eventually(gone, what="the evicted pod to go")

        def replaced_elsewhere() -> bool:
            owner = pod.metadata.owner_references[0].name
            mates = [
                p
                for p in core.list_namespaced_pod(pod.metadata.namespace).items
                if p.metadata.owner_references
                and p.metadata.owner_references[0].name == owner
                and p.metadata.deletion_timestamp is None
                and p.metadata.name != pod.metadata.name
            ]
            return bool(mates) and all(
                p.spec.node_name and p.spec.node_name != node
                for p in mates
                if p.metadata.creation_timestamp > pod.metadata.creation_timestamp
            )

        eventually(replaced_elsewhere, what="a replacement pod on another node")
        uncordoned = core.patch_node(node, {"spec": {"unschedulable": None}})
        assert not uncordoned.spec.unschedulable


def test_kubeconfig_has_one_context_named_sim(shared_sim: RunningSim) -> None:
    assert shared_sim.kubeconfig_path is not None
    contexts, current = config.list_kube_config_contexts(config_file=str(Path(shared_sim.kubeconfig_path)))
    assert [c["name"] for c in contexts] == ["sim"] and current["name"] == "sim"
