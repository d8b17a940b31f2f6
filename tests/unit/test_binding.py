"""The binding rules on plain values: what identifies a cluster, and when a server may confirm or show a plan."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from incident_response.tools.engine.binding import Binding, ClusterIdentity, cluster_mismatch, misplaced
from incident_response.tools.kube.client import ClusterSource, RealKube

# A throwaway self-signed CA; FINGERPRINT is what `openssl x509 -noout -fingerprint -sha256` prints for it.
CA = """-----BEGIN CERTIFICATE-----
MIIBezCCASGgAwIBAgIUQLKvvUg/BbcFDKW1bahy1rF0k30wCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdGVzdC1jYTAgFw0yNjEyMDQxOTI4NTJaGA8yMTI2MTExMDE5
Mjg1MlowEjEQMA4GA1UEAwwHdGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABA2rUIYj6ph7y0UOci8mbafFOIHheUg2MV9Cpt+It4w2m+hmPrzZYkW6bKJ9
vo+Uwd1nnhf5XPVUcxtLBVCumcajUzBRMB0GA1UdDgQWBBQmd/F5SWiqb+bJpNax
Habh70ZkAjAfBgNVHSMEGDAWgBQmd/F5SWiqb+bJpNaxHabh70ZkAjAPBgNVHRMB
Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCE+upbdkE5UJMH94sCHjCAWl8r
XfK11DqAmgAbkdGytgIgV9Y6jBnCMAhmTdXTfUKvMW+m5Kiiz0E4wv2lnAT4RvM=
-----END CERTIFICATE-----
"""
FINGERPRINT = "18:CC:84:CA:1F:A4:BC:4A:74:B7:B8:67:D0:45:C6:B6:6C:EB:EA:82:4B:58:52:6C:00:BE:38:62:99:7A:B6:12"


def kubeconfig(tmp_path: Path, server: str, **cluster: Any) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "prod",
                "clusters": [{"name": "prod", "cluster": {"server": server, **cluster}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "u"}}],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_the_endpoint_is_the_server_url_and_the_trusted_cas_fingerprint(tmp_path: Path) -> None:
    """No request is made: the address and CA come from the configuration (nothing listens at this address)."""
    data = base64.b64encode(CA.encode()).decode()
    kube = RealKube.connect(
        ClusterSource(kubeconfig(tmp_path, "https://10.255.0.1:6443", **{"certificate-authority-data": data}))
    )
    assert kube.endpoint() == ("https://10.255.0.1:6443", FINGERPRINT.replace(":", "").lower())
    insecure = RealKube.connect(
        ClusterSource(kubeconfig(tmp_path, "https://10.255.0.1:6443", **{"insecure-skip-tls-verify": True}))
    )
    assert insecure.endpoint() == ("https://10.255.0.1:6443", None)


PLANNED = ClusterIdentity(server="https://a:6443", context="prod", ca_sha256="ca-a", kube_system_uid="uid-a")


@pytest.mark.parametrize(
    ("here", "strict", "reason"),
    [
        ({}, True, None),
        ({"server": "https://b:6443"}, False, "the API server address differs"),
        ({"context": "admin"}, False, "the context differs (prod when planned, admin here)"),
        ({"ca_sha256": "ca-b"}, False, "the API server's CA certificate differs"),
        ({"kube_system_uid": "uid-b"}, False, "the kube-system namespace's uid (another cluster behind the same "
         "address) differs"),
        # The uid could not be read now: never enough to run the plan, enough to show it.
        ({"kube_system_uid": None}, True, "the kube-system namespace's uid (another cluster behind the same "
         "address) could not be read to check it"),
        ({"kube_system_uid": None}, False, None),
    ],
)  # fmt: skip
def test_what_tells_clusters_apart(here: dict[str, Any], strict: bool, reason: str | None) -> None:
    assert cluster_mismatch(PLANNED, PLANNED.model_copy(update=here), strict=strict) == reason


def test_what_the_plan_could_not_record_is_not_asked_for() -> None:
    unread = PLANNED.model_copy(update={"kube_system_uid": None, "ca_sha256": None})
    assert cluster_mismatch(unread, PLANNED, strict=True) is None
    assert cluster_mismatch(PLANNED, None, strict=False) == "this server has no cluster configured"


def at(*namespaces: str, cluster: ClusterIdentity | None = PLANNED) -> Binding:
    return Binding(cluster=cluster, mode="full", namespaces=list(namespaces))


def test_every_namespace_a_plan_touches_must_be_in_the_confirming_servers_allow_list() -> None:
    assert misplaced(at("shop"), {"shop"}, [], at(), strict=True) is None
    assert misplaced(at(), {"shop"}, [], at("shop", "payments"), strict=True) is None
    status, message = misplaced(at(), {"shop", "kube-system"}, [], at("shop"), strict=True) or ("", "")
    assert status == "outside_allow_list" and "kube-system" not in message and "(shop)" in message
    # drain_node include_outside_allow_list=True: the namespaces it was told to act in travel with the plan...
    assert misplaced(at("shop"), {"shop", "kube-system"}, ["kube-system"], at("shop"), strict=True) is None
    # ...but do not let a server with another allow-list act in the planner's own namespaces.
    refused = misplaced(at("shop"), {"shop", "kube-system"}, ["kube-system"], at("payments"), strict=True)
    assert refused is not None and refused[0] == "outside_allow_list"


def test_a_plan_recorded_without_a_cluster_is_never_confirmed_but_still_shown_to_be_cancelled() -> None:
    refused = misplaced(None, {"shop"}, [], at(), strict=True)
    assert refused is not None and refused[0] == "wrong_cluster" and "plan it again" in refused[1]
    assert misplaced(None, {"shop"}, [], at(), strict=False) is None
    assert misplaced(at(), {"shop"}, [], at(cluster=None), strict=False) is not None
