"""The engine layer: plans as data, the pending-command store and executor, the journal, temporary measures,
what tools get from the server (Deps).

Layer: tools.engine. May import tools.kube, tools.k8s and tools.core.
"""
