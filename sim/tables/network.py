"""Service, Endpoints, Ingress and NetworkPolicy columns (upstream printers.go).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ._common import (
    AGE_COLUMN,
    NAME_COLUMN,
    NONE,
    UNKNOWN,
    Cell,
    Column,
    Obj,
    Printer,
    age,
    format_label_selector,
    format_labels,
    get,
    get_dicts,
    get_list,
    get_str,
    join_host_port,
    name_of,
)

# Cells listing many items show the first three and "+ N more...".
_SHOWN = 3

SERVICE_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Type",
        "string",
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
        'ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP '
        "address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not "
        "specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "
        '"None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than '
        'a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the '
        'same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external '
        "load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "
        '"ExternalName" aliases this service to the specified externalName. Several other fields do not apply '
        "to ExternalName services. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
    ),
    Column(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly. "
        "More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    Column(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also "
        "accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for "
        "ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that "
        "are not part of the Kubernetes system.",
    ),
    Column(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    AGE_COLUMN,
    Column(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector. "
        "If empty or not present, the service is assumed to have an external process managing its endpoints, "
        "which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored "
        "if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
        priority=1,
    ),
)

ENDPOINTS_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Endpoints",
        "string",
        "The set of all endpoints is the union of all subsets. Addresses are placed into "
        "subsets according to the IPs they share. A single address with multiple ports, some of which are ready "
        "and some of which are not (because they come from different containers) will result in the address "
        "being displayed in different subsets for the different ports. No address will appear in both Addresses "
        "and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
    ),
    AGE_COLUMN,
)

INGRESS_COLUMNS = (
    NAME_COLUMN,
    Column("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
    Column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
    Column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    Column("Ports", "string", "Ports of TLS configurations that open"),
    AGE_COLUMN,
)

NETWORKPOLICY_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Pod-Selector",
        "string",
        "Selects the pods to which this NetworkPolicy object applies.  The array of "
        "ingress rules is applied to any pods selected by this field. Multiple network policies can select the "
        "same set of pods.  In this case, the ingress rules for each are combined additively. This field is NOT "
        "optional and follows standard label selector semantics. An empty podSelector matches all pods in this "
        "namespace.",
    ),
    AGE_COLUMN,
)


def _load_balancer_addresses(status: Any) -> list[str]:
    """(ingress)LoadBalancerStatusStringer with wide=true (the server always prints wide): sorted unique IPs/hosts."""
    found: set[str] = set()
    for entry in get_dicts(status, "ingress"):
        value = get_str(entry, "ip") or get_str(entry, "hostname")
        if value:
            found.add(value)
    return sorted(found)


def service_external_ip(svc: Obj) -> str:
    external = [str(ip) for ip in get_list(svc, "spec", "externalIPs")]
    svc_type = get_str(svc, "spec", "type")
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if svc_type == "LoadBalancer":
        lb = _load_balancer_addresses(get(svc, "status", "loadBalancer"))
        if external:
            return ",".join(lb + external)
        return ",".join(lb) or "<pending>"
    if svc_type == "ExternalName":
        return get_str(svc, "spec", "externalName")
    return UNKNOWN


def service_ports(svc: Obj) -> str:
    pieces = []
    for port in get_dicts(svc, "spec", "ports"):
        # protocol is defaulted to TCP by the API server; show the default for objects stored without it.
        protocol = get_str(port, "protocol") or "TCP"
        number, node_port = get(port, "port"), get(port, "nodePort")
        if isinstance(node_port, int) and node_port > 0:
            pieces.append(f"{number}:{node_port}/{protocol}")
        else:
            pieces.append(f"{number}/{protocol}")
    return ",".join(pieces) or NONE


def _cluster_ip(svc: Obj) -> str:
    ips = get_list(svc, "spec", "clusterIPs")
    # clusterIPs[0] mirrors clusterIP in served objects; fall back to clusterIP for objects that only set it.
    ip = ips[0] if ips and isinstance(ips[0], str) else get_str(svc, "spec", "clusterIP")
    return ip or NONE


def service_cells(svc: Obj, now: datetime) -> list[Cell]:
    return [
        name_of(svc),
        get_str(svc, "spec", "type"),
        _cluster_ip(svc),
        service_external_ip(svc),
        service_ports(svc),
        age(svc, now),
        format_labels(get(svc, "spec", "selector")),
    ]


def _subset_entries(subset: Mapping[str, Any]) -> list[list[str]]:
    """One group of endpoint strings per port (or one bare-IP group for a headless subset without ports)."""
    ips = [get_str(a, "ip") for a in get_dicts(subset, "addresses")]
    ports = get_dicts(subset, "ports")
    if not ports:
        return [ips]
    groups = []
    for port in ports:
        number = get(port, "port")
        groups.append([join_host_port(ip, number if isinstance(number, int) else 0) for ip in ips])
    return groups


def format_endpoints(obj: Obj) -> str:
    """formatEndpoints: `ip:port,...` for the first three, then ` + N more...`; `<none>` without subsets."""
    subsets = get_dicts(obj, "subsets")
    if not subsets:
        return NONE
    shown: list[str] = []
    count, more = 0, False
    for subset in subsets:
        for group in _subset_entries(subset):
            count += len(group)
            for entry in group:
                if len(shown) == _SHOWN:
                    more = True
                    break
                shown.append(entry)
    text = ",".join(shown)
    return f"{text} + {count - _SHOWN} more..." if more else text


def endpoints_cells(obj: Obj, now: datetime) -> list[Cell]:
    return [name_of(obj), format_endpoints(obj), age(obj, now)]


def ingress_hosts(obj: Obj) -> str:
    rules = get_dicts(obj, "spec", "rules")
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == _SHOWN:
            more = True
        host = get_str(rule, "host")
        if not more and host:
            hosts.append(host)
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - _SHOWN} more..." if more else text


def ingress_cells(obj: Obj, now: datetime) -> list[Cell]:
    return [
        name_of(obj),
        get_str(obj, "spec", "ingressClassName") or NONE,
        ingress_hosts(obj),
        ",".join(_load_balancer_addresses(get(obj, "status", "loadBalancer"))),
        "80, 443" if get_list(obj, "spec", "tls") else "80",
        age(obj, now),
    ]


def networkpolicy_cells(obj: Obj, now: datetime) -> list[Cell]:
    # The internal podSelector is a value, not a pointer: a missing selector prints like an empty one.
    selector = get(obj, "spec", "podSelector")
    return [name_of(obj), format_label_selector(selector if selector is not None else {}), age(obj, now)]


PRINTERS = {
    "services": Printer(SERVICE_COLUMNS, service_cells),
    "endpoints": Printer(ENDPOINTS_COLUMNS, endpoints_cells),
    "ingresses.networking.k8s.io": Printer(INGRESS_COLUMNS, ingress_cells),
    "networkpolicies.networking.k8s.io": Printer(NETWORKPOLICY_COLUMNS, networkpolicy_cells),
}
