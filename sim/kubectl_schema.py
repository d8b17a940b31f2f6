"""The Kubernetes API's protobuf schema, read from the kubectl binary that sends the protobuf bodies.

kubectl (like every client-go program) registers each API group's FileDescriptorProto with the protobuf runtime at
start-up, so its binary carries them as gzipped blobs, each named `k8s.io/.../generated.proto`. The simulated API
server reads them from the kubectl it finds: `INCIDENT_RESPONSE_SIM_KUBECTL`, else `kubectl` on PATH. Nothing of
the schema is kept in this repository, and the schema matches the client that sends the bodies.

Only gzip members whose first decompressed bytes name such a file are decompressed whole (a 57 MB kubectl holds
about 70 gzip headers); the scan stops at MAX_CANDIDATES headers and a blob at MAX_BLOB bytes.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import mmap
import os
import re
import shutil
import zlib
from pathlib import Path

ENV = "INCIDENT_RESPONSE_SIM_KUBECTL"
GZIP_MAGIC = b"\x1f\x8b\x08\x00\x00\x00\x00\x00"  # deflate, no flags, no mtime: how Go's gzip writer starts
MAX_CANDIDATES = 10_000
MAX_BLOB = 8 << 20  # core/v1, the largest, is about 0.4 MB
_CHUNK = 64 << 10
_VENDORED = "k8s.io/kubernetes/vendor/"
# A serialized FileDescriptorProto starts with field 1 (its name): tag 0x0a, a one-byte length, the name.
_NAME = re.compile(rb"\x0a[\x00-\x7f](k8s\.io/[A-Za-z0-9_./-]+/generated\.proto)")


class SchemaUnavailable(Exception):
    """No Kubernetes protobuf schema could be read; the message says why and what to do."""


def canonical(name: str) -> str:
    """kubectl before 1.30 names its files from the vendor tree (`k8s.io/kubernetes/vendor/k8s.io/api/...`)."""
    return name.removeprefix(_VENDORED)


def find_kubectl() -> Path | None:
    """The kubectl to read the schema from: the environment's choice, else the one on PATH."""
    chosen = os.environ.get(ENV)
    if chosen:
        return Path(chosen)
    found = shutil.which("kubectl")
    return Path(found) if found else None


def embedded_files(binary: Path) -> dict[str, bytes]:
    """The serialized FileDescriptorProtos in the binary, by canonical file name (`k8s.io/api/core/v1/generated.proto`).

    The blobs keep the names the binary gives them (see `canonical`).
    """
    try:
        with binary.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _scan(data)
    except (OSError, ValueError) as e:  # ValueError: mmap of an empty file
        raise SchemaUnavailable(f"cannot read {binary}: {e}") from e


def _scan(data: mmap.mmap) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    at = data.find(GZIP_MAGIC)
    for _ in range(MAX_CANDIDATES):
        if at < 0:
            break
        name = _name_at(data, at)
        name = canonical(name) if name else None
        if name is not None and name not in files:
            blob = _inflate(data, at, MAX_BLOB)
            if blob is not None:
                files[name] = blob
        at = data.find(GZIP_MAGIC, at + 1)
    return files


def _name_at(data: mmap.mmap, at: int) -> str | None:
    head = _inflate(data, at, 512, window=4096)
    match = _NAME.match(head) if head else None
    return match.group(1).decode("ascii") if match else None


def _inflate(data: mmap.mmap, at: int, limit: int, window: int | None = None) -> bytes | None:
    """Up to `limit` bytes of the gzip member at `at` (None if it is not one), reading `window` bytes at most.

    Whole members (no window) must end within `limit` bytes: a longer one is not a descriptor we can use.
    """
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    end = len(data) if window is None else min(len(data), at + window)
    try:
        while at < end and len(out) < limit and not inflater.eof:
            chunk = data[at : min(end, at + _CHUNK)]
            at += len(chunk)
            out += inflater.decompress(chunk, limit - len(out))
            if inflater.unconsumed_tail and len(out) >= limit:
                break
    except zlib.error:
        return None
    if window is None and not inflater.eof:
        return None
    return bytes(out)
