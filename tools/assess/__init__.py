"""Layer tools (read-only): the assessment tools, one module per tool family (assess_namespace, list_pods,
verify_recovery...).

May import tools.playbook and everything below it; not tools.mitigate, tools.decide or tools.incident.
"""
