"""The simulated cluster's controllers: what kube-controller-manager and the kubelet would do, tick by tick.

Layer: sim (the simulated cluster; apart from the product).
"""
