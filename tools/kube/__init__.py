"""The kube layer: the seam to the outside, the only importer of the kubernetes client library and the only
process spawner (the helm binary).

Layer: tools.kube. May import tools.core.
"""
