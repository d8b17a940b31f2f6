"""Discovery and OpenAPI documents: what kubectl reads to learn which resources exist and how to patch them.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from incident_response.sim.resources import ResourceType, group_versions, served_in

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4-sim",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def _resources_in(group: str, version: str, extra: Iterable[ResourceType]) -> list[ResourceType]:
    return served_in(group, version, extra)


def core_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def api_groups(extra: Iterable[ResourceType] = ()) -> dict[str, Any]:
    """The APIGroupList; `extra` are the types the cluster's CustomResourceDefinitions define (as below)."""
    groups: dict[str, dict[str, Any]] = {}
    for group, version in group_versions(extra):
        if not group:
            continue
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        # the first version listed is the storage version, which is also the preferred one
        entry = groups.setdefault(group, {"name": group, "versions": [], "preferredVersion": gv})
        entry["versions"].append(gv)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(groups.values())}


def _subresource_entry(res: ResourceType, sub: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": f"{res.plural}/{sub}", "singularName": "", "namespaced": res.namespaced}
    if sub == "scale":
        entry.update(kind="Scale", group="autoscaling", version="v1", verbs=["get", "patch", "update"])
    elif sub == "eviction":
        entry.update(kind="Eviction", group="policy", version="v1", verbs=["create"])
    elif sub == "token":
        entry.update(kind="TokenRequest", group="authentication.k8s.io", version="v1", verbs=["create"])
    elif sub == "log":
        entry.update(kind="Pod", verbs=["get"])
    else:
        entry.update(kind=res.kind, verbs=["get", "patch", "update"])
    return entry


def resource_list(group: str, version: str, extra: Iterable[ResourceType] = ()) -> dict[str, Any] | None:
    members = _resources_in(group, version, extra)
    if not members:
        return None
    out: list[dict[str, Any]] = []
    for res in members:
        entry: dict[str, Any] = {
            "name": res.plural,
            "singularName": res.singular,
            "namespaced": res.namespaced,
            "kind": res.kind,
            "verbs": list(res.verbs),
        }
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        if not res.virtual:
            entry["storageVersionHash"] = hashlib.sha256(res.key.encode()).hexdigest()[:12]
        out.append(entry)
        out.extend(_subresource_entry(res, sub) for sub in res.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": out,
    }


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else "api/v1"


def openapi_document(group: str, version: str, extra: Iterable[ResourceType] = ()) -> dict[str, Any] | None:
    """A synthesized OpenAPI v3 document: just enough for kubectl to do server-side field validation."""
    members = [r for r in _resources_in(group, version, extra) if not r.virtual]
    if not members:
        return None
    paths: dict[str, Any] = {}
    for res in members:
        prefix = f"/{_gv_path(group, version)}"
        item = (
            f"{prefix}/namespaces/{{namespace}}/{res.plural}/{{name}}"
            if res.namespaced
            else (f"{prefix}/{res.plural}/{{name}}")
        )
        gvk = {"group": group, "version": version, "kind": res.kind}
        operation = {
            "x-kubernetes-group-version-kind": gvk,
            "x-kubernetes-action": "patch",
            "parameters": [
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            ],
            "responses": {"200": {"description": "OK"}},
        }
        paths[item] = {"patch": operation}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (simulated)", "version": VERSION_INFO["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }


def openapi_root(extra: Iterable[ResourceType] = ()) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, version in group_versions(extra):
        doc = openapi_document(group, version, extra)
        if doc is None:
            continue
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16].upper()
        gv = _gv_path(group, version)
        paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest}"}
    return {"paths": paths}
