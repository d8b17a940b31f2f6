"""The playbook layer: the judgement of the incident-response playbook: decision rules and trees, rollback and
recovery checks, handoff analysis.

Layer: tools.playbook. May import tools.engine, tools.kube, tools.k8s and tools.core.
"""
