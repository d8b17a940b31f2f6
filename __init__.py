"""incident-response-mcp: Kubernetes incident response over MCP, with confirmed mitigations."""

__version__ = "0.1.0"
