"""Compile the vendored Kubernetes .proto files into the descriptor set the simulated API server decodes with.

    python sim/proto/compile.py           # rewrite sim/proto/k8s.binpb
    python sim/proto/compile.py --check   # exit 1 if k8s.binpb is not what the .proto files compile to

Needs grpcio-tools (a test dependency), whose bundled protoc parses the schema. The server itself only needs the
protobuf runtime and the compiled k8s.binpb, so a plain install never runs protoc.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "k8s.binpb"


def sources() -> list[str]:
    return sorted(str(p.relative_to(HERE)) for p in HERE.rglob("*.proto"))


def compile_set() -> bytes:
    """The FileDescriptorSet of every vendored .proto file (imports included, no source info: smaller)."""
    from grpc_tools import protoc  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        code = protoc.main(["protoc", f"-I{HERE}", "--include_imports", f"--descriptor_set_out={out}", *sources()])
        if code != 0:
            raise SystemExit(f"protoc failed ({code}) compiling {HERE}")
        return out.read_bytes()


def same_descriptors(a: bytes, b: bytes) -> bool:
    """Equal as descriptor sets (file order aside), so two protoc versions' byte layouts do not matter."""
    from google.protobuf import descriptor_pb2

    def files(raw: bytes) -> dict[str, bytes]:
        parsed = descriptor_pb2.FileDescriptorSet.FromString(raw)
        return {f.name: f.SerializeToString(deterministic=True) for f in parsed.file}

    return files(a) == files(b)


def main(argv: list[str]) -> int:
    fresh = compile_set()
    if "--check" in argv:
        if OUTPUT.exists() and same_descriptors(OUTPUT.read_bytes(), fresh):
            return 0
        print(f"{OUTPUT} is stale: run python sim/proto/compile.py", file=sys.stderr)
        return 1
    OUTPUT.write_bytes(fresh)
    print(f"wrote {OUTPUT} ({len(fresh)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
