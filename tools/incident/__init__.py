"""Layer tools (top): declare_incident and incident_handoff, the incident's record and its RCA handoff.

May import tools.assess, tools.mitigate and everything below them.
"""
