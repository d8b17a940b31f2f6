"""A throwaway serving certificate for the simulated cluster, so it can listen on HTTPS.

kubectl (client-go) sends a kubeconfig's bearer token only over TLS; a cluster whose RBAC is tested with real
kubectl and ServiceAccount tokens must therefore serve HTTPS. The certificate is self-signed for 127.0.0.1 and
localhost, made by openssl (an EC key: fast), and trusted through the kubeconfig's certificate-authority-data.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path


def serving_context() -> tuple[ssl.SSLContext, bytes]:
    """A server SSL context with a fresh self-signed certificate, and that certificate (PEM) for clients to trust."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the simulated cluster needs openssl on PATH to serve HTTPS (tls=True); install openssl")
    with tempfile.TemporaryDirectory(prefix="sim-tls-") as tmp:
        cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=simulated-apiserver",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context, cert.read_bytes()
