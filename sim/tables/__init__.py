"""meta.k8s.io/v1 Table output for `kubectl get`, with the columns of upstream's printers.

Upstream reference: kubernetes/pkg/printers/internalversion/printers.go (v1.32). One module per group of kinds:
pods, workloads (deployments, replicasets, hpa, pdb), cluster (nodes, namespaces, events), network (services,
endpoints, ingress, netpol) and storage (secrets, configmaps, pvc).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from ._common import human_duration
from .pods import pod_ready, pod_restarts, pod_status
from .render import PRINTERS, render_table

__all__ = ["PRINTERS", "human_duration", "pod_ready", "pod_restarts", "pod_status", "render_table"]
