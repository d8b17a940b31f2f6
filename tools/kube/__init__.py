"""Layer kube: the seam to the outside. The only importer of the kubernetes client library and the only
process spawner (the helm binary).

May import tools.core only.
"""
