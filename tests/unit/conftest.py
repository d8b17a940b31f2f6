"""The unit tier opens no network sockets: a test that tries fails at once, saying which tier it belongs in."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_connect, real_bind = socket.socket.connect, socket.socket.bind

    def guard(real: Any) -> Any:
        def call(self: socket.socket, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                raise AssertionError(
                    f"a unit test opened a network socket to {address!r}: move it to tests/sim or tests/e2e"
                )
            return real(self, address)

        return call

    monkeypatch.setattr(socket.socket, "connect", guard(real_connect))
    monkeypatch.setattr(socket.socket, "bind", guard(real_bind))
    yield
