"""Helm 3 release records as its Secret storage driver writes them (`sh.helm.release.v1.<name>.v<rev>`).

The driver stores base64(gzip(JSON release)) under data.release, and a Secret's data is base64 again on the
wire, so `data.release` here is base64(base64(gzip(json))).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

Obj = dict[str, Any]


def encode_release(release: Obj) -> str:
    raw = gzip.compress(json.dumps(release, separators=(",", ":")).encode(), mtime=0)
    return base64.b64encode(base64.b64encode(raw)).decode()


def decode_release(data: str) -> Obj:
    raw = base64.b64decode(base64.b64decode(data))
    if raw[:3] == b"\x1f\x8b\x08":
        raw = gzip.decompress(raw)
    result: Obj = json.loads(raw)
    return result


def release_secret(
    *,
    name: str,
    namespace: str,
    revision: int,
    status: str,
    chart: str,
    chart_version: str,
    app_version: str,
    first_deployed: str,
    last_deployed: str,
    description: str,
    values: Obj,
    manifest: str,
) -> Obj:
    release: Obj = {
        "name": name,
        "info": {
            "first_deployed": first_deployed,
            "last_deployed": last_deployed,
            "deleted": "",
            "description": description,
            "status": status,
            "notes": f"{chart} {app_version} is listening on port 8080.\n",
        },
        "chart": {
            "metadata": {
                "name": chart,
                "version": chart_version,
                "description": f"A Helm chart for the {chart} service",
                "apiVersion": "v2",
                "appVersion": app_version,
                "type": "application",
            },
            "lock": None,
            "templates": [],
            "values": {"replicaCount": 2, "image": {"repository": f"registry.example.com/shop/{chart}"}},
            "schema": None,
            "files": [],
        },
        "config": values,
        "manifest": manifest,
        "version": revision,
        "namespace": namespace,
    }
    return {
        "metadata": {
            "name": f"sh.helm.release.v1.{name}.v{revision}",
            "namespace": namespace,
            "labels": {"name": name, "owner": "helm", "status": status, "version": str(revision)},
        },
        "type": "helm.sh/release.v1",
        "data": {"release": encode_release(release)},
    }
