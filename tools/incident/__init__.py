"""declare_incident and incident_handoff: the incident's record and its handoff for root-cause analysis.

Layer: tools.incident. May import tools.assess, tools.mitigate and the layers below them; not tools.decide (a sibling).
"""
