"""The startup floor bench/startup.py compares us with: a bare MCPServer with one tool, over stdio."""

from mcp.server import MCPServer

mcp = MCPServer("bare")


@mcp.tool()
def echo(text: str) -> str:
    """Return the text."""
    return text


if __name__ == "__main__":
    mcp.run()
