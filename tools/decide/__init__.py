"""Layer tools (top): evaluate_decision, walking the playbook's decision trees with the cluster's facts.

May import tools.assess, tools.mitigate and everything below them.
"""
