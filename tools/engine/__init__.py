"""Layer engine: plans as data, the pending-command store and executor, the journal, what tools get from the
server (Deps).

May import tools.kube, tools.k8s and tools.core.
"""
