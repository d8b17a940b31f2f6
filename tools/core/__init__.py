"""Layer core (the bottom of tools/): typed errors, shared result models, command-line rendering, secret masking.

Imports nothing else from tools/.
"""
