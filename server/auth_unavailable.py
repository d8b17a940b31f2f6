"""HTTP 503 when a client's token cannot be checked because the Kubernetes API did not answer its TokenReview.

The SDK's bearer middleware knows only "valid" (go on) and "invalid" (401); a 401 would tell a client with a good
token to fetch another, and letting the request through is out of the question. This outer ASGI middleware turns
`ReviewUnavailable`, raised by the verifier before anything was sent, into 503 with Retry-After.

Layer: server (MCP wiring).
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from incident_response.server.kube_auth import ReviewUnavailable

RETRY_AFTER_SECONDS = 5


class ReviewUnavailableAs503:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except ReviewUnavailable as e:
            response = JSONResponse(
                {"error": "temporarily_unavailable", "error_description": str(e)},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
