"""A cluster whose TLS fails: the tool's error says what failed and for which server (not only a traceback on
stderr). The API server is a local TLS listener with a throwaway certificate made by openssl."""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import TextContent

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster

pytestmark = pytest.mark.anyio


def make_certificate(folder: Path, san: str) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not on PATH")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test-apiserver",
            "-addext",
            f"subjectAltName={san}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def tls_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    """An HTTPS listener on 127.0.0.1 with a certificate for `request.param` (a subjectAltName); yields its URL and
    the certificate."""
    cert, key = make_certificate(tmp_path, request.param)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


def kubeconfig_for(path: Path, url: str, ca: Path | None) -> Path:
    cluster: dict[str, str] = {"server": url}
    if ca is not None:
        cluster["certificate-authority"] = str(ca)
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "tls",
                "clusters": [{"name": "tls", "cluster": cluster}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "tls", "context": {"cluster": "tls", "user": "u"}}],
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("tls_server", "trust_it", "says"),
    [
        ("IP:127.0.0.1", False, "self-signed certificate"),
        ("DNS:apiserver.example", True, "not valid for '127.0.0.1'"),
    ],
    indirect=["tls_server"],
)
async def test_a_certificate_that_fails_verification_is_named_in_the_tools_error(
    tls_server: tuple[str, Path], trust_it: bool, says: str, tmp_path: Path
) -> None:
    url, cert = tls_server
    kubeconfig = kubeconfig_for(tmp_path / "kubeconfig", url, cert if trust_it else None)
    settings = Settings(
        state_dir=tmp_path / "state", kubeconfig=kubeconfig, cluster=resolve_cluster(kubeconfig, None, {})
    )
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("list_pods", {"namespace": "shop"})
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    assert f"certificate verify failed for {url}: " in block.text and says in block.text, block.text
    assert "nothing was changed" in block.text and "\n" not in block.text
