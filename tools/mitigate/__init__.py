"""Layer tools (planned mutations): one module per mitigation family; each plans a pending command, nothing more.

May import tools.playbook and everything below it; not tools.assess, tools.decide or tools.incident.
"""
