"""The simulated Kubernetes API server that tests, benchmarks and the demo run against.

Layer: sim (the simulated cluster; apart from the product). Imports neither server/ nor tools/.
"""
