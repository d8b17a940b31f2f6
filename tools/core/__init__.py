"""The core layer of tools/: typed errors, shared result models, command-line rendering, secret masking.

Layer: tools.core. Imports nothing else from tools/.
"""
