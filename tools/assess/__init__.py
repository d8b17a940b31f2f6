"""The read-only tools, one module per tool family (assess_namespace, list_pods, verify_recovery...).

Layer: tools.assess. May import tools.playbook and the layers below it; not tools.mitigate (a sibling), tools.decide or
tools.incident.
"""
