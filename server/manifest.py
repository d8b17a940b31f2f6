"""The tools' definitions as the server lists them (description, input and output schema), generated into
server/tool_manifest.json so that `tools/list` answers without importing a tool or deriving a schema.

    python -m incident_response.server.manifest          # rewrite the file after changing a tool
    python -m incident_response.server.manifest --check  # exit 1 if it is out of date

The titles, annotations and which tools are listed come from server/catalog.py at run time (they depend on the
mode); tests/unit/test_startup.py holds the file equal to what the tools derive.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

FILE = "tool_manifest.json"


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """Per tool name: its description, inputSchema and outputSchema, as the file holds them."""
    text = resources.files("incident_response.server").joinpath(FILE).read_text(encoding="utf-8")
    loaded: dict[str, dict[str, Any]] = json.loads(text)
    return loaded


def generate() -> dict[str, dict[str, Any]]:
    """What the tools derive now: every tool of the catalog, built as the server builds them."""
    from incident_response.server import catalog
    from incident_response.server.config import Settings
    from incident_response.server.registration import build_tools

    with tempfile.TemporaryDirectory() as state:
        built = build_tools(Settings(state_dir=Path(state)), list(catalog.CATALOG))
    return {
        name: {
            "description": tool.description,
            "inputSchema": tool.parameters,
            "outputSchema": tool.output_schema,
        }
        for name, tool in sorted(built.tools.items())
    }


def render(manifest: dict[str, dict[str, Any]]) -> str:
    return json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only say whether the file is up to date")
    args = parser.parse_args()
    path = Path(__file__).with_name(FILE)
    fresh = render(generate())
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if args.check:
        if fresh != current:
            print(f"{path} is out of date: run python -m incident_response.server.manifest", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        path.write_text(fresh, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
