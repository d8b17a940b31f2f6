"""The k8s layer: pure facts about Kubernetes API objects (pods, workloads, events, usage, labels, quantities,
capacity, helm releases). No I/O.

Layer: tools.k8s. May import tools.core.
"""
