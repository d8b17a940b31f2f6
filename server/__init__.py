"""The MCP wiring: the server built over tools/, its tool catalogue, the CLI and its commands.

Layer: server (MCP wiring). Imports tools/; nothing in tools/ imports it.
"""
