"""Shared fixtures: the anyio backend; simulated-cluster fixtures live in tests/simfixtures.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
