"""The process side of the masking boundary (tools/core/masking.py): log records and the CLI's own output.

- logs: `install_log_masking()` masks every LogRecord when it is created, whatever logger or handler (ours, the
  SDK's, uvicorn's) writes it to stderr;
- CLI: `masked_stdio()` wraps sys.stdout/sys.stderr of every command (pending, approve, deny, demo, sim, serve).

Kept free of MCP imports: `pending`, `approve` and `deny` start without loading the SDK.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

from incident_response.tools.core.masking import catalogue_loaded, mask_text

# --- logs ---------------------------------------------------------------------------------------------------------

_installed = threading.Lock()
_previous_factory: Callable[..., logging.LogRecord] | None = None


def _masked_arg(arg: Any, vendor_rules: bool) -> Any:
    if isinstance(arg, bool | int | float) or arg is None:
        return arg
    return mask_text(arg if isinstance(arg, str) else str(arg), vendor_rules=vendor_rules)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a log record in place: each argument (so formatters that read args keep working, as uvicorn's access
    log does), then the whole message if a credential spans the format and its arguments."""
    # Before the first tool answer has loaded detect-secrets' rules, only ours apply: loading them here would put
    # ~0.3 s on the MCP handshake, which the startup log line precedes (README, Secrets, limits).
    vendor = catalogue_loaded()
    if isinstance(record.args, dict):
        record.args = {k: _masked_arg(v, vendor) for k, v in record.args.items()}
    elif record.args:
        record.args = tuple(_masked_arg(a, vendor) for a in record.args)
    if not isinstance(record.msg, str):
        record.msg = str(record.msg)
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = record.msg
        record.args = None
    clean = mask_text(message, vendor_rules=vendor)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text, vendor_rules=vendor)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info, vendor_rules=vendor)
    return record


def install_log_masking() -> None:
    """Every log record this process creates is masked at creation, before any handler or formatter sees it."""
    global _previous_factory
    with _installed:
        if _previous_factory is not None:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return mask_record(previous(*args, **kwargs))

        _previous_factory = previous
        logging.setLogRecordFactory(factory)


# --- CLI output ---------------------------------------------------------------------------------------------------


class MaskedOutput:
    """A text stream that masks what it is given, a whole line at a time (a PEM block printed at once is one
    write, so it is masked whole); flush() writes out a partial line too."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        cut = self._pending.rfind("\n") + 1
        if cut:
            self.stream.write(mask_text(self._pending[:cut]))
            self._pending = self._pending[cut:]
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.stream.write(mask_text(self._pending))
            self._pending = ""
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def masked_stdio() -> Iterator[None]:
    """sys.stdout and sys.stderr masked for the duration. Writes to their binary `.buffer` (the stdio transport's
    protocol) pass below the masking layer untouched."""
    saved = sys.stdout, sys.stderr
    out, err = MaskedOutput(sys.stdout), MaskedOutput(sys.stderr)
    sys.stdout, sys.stderr = cast(TextIO, out), cast(TextIO, err)
    try:
        yield
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = saved
