"""The mitigation planners, one module per family: each validates, dry-runs and returns a pending command.

Layer: tools.mitigate. May import tools.playbook and the layers below it; not tools.assess (a sibling), tools.decide or
tools.incident.
"""
