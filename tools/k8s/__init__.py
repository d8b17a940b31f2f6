"""Layer k8s: pure facts about Kubernetes API objects (pods, workloads, labels, quantities, capacity). No I/O.

May import tools.core only.
"""
