"""evaluate_decision: the playbook's decision trees walked with the cluster's facts.

Layer: tools.decide. May import tools.assess, tools.mitigate and the layers below them; not tools.incident (a sibling).
"""
