"""The warm-up's steps, in order: first what any first call runs after its tool is built (the tools' shared code, the
masker, the Kubernetes client, the journal, one harmless read and a dry run of a pod list), then the tools, the likely
first ones first. A first call that comes before the warm-up is done then finds its read path ready, and most often its
tool too (list_pods' build is ~6 ms of CPU; assess_namespace's imports ~0.2 s).

Each step says whether it may stop inside, at its import statements, while a call runs (server/step_aside.py): only
steps that hold no lock a call could want but module locks (those stop only while no thread waits for one) and the
warm-up's build turn (which stops nobody: a call waiting for it goes first). Connecting (Deps' lock), opening the
journal and the read (a pooled connection) run whole; they are short once the imports before them are done.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import functools
import importlib
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from incident_response.server import catalog
from incident_response.tools.core.errors import IncidentError

if TYPE_CHECKING:
    from incident_response.server.registration import Builder

logger = logging.getLogger("incident_response.server")


@dataclass(frozen=True)
class Step:
    what: str
    run: Callable[[], object]
    aside: bool  # may stop at its import statements while a call runs
    turn: bool  # touches the Builder (not thread-safe): runs in the build turn; else it only imports or reads


def steps(builder: Callable[[], Builder], build: Callable[[str], object], tools: Sequence[str]) -> list[Step]:
    """The warm-up of one server: `builder` makes (once) what its tools share, `build` builds one tool. A tool's
    module is imported outside the build turn (most of a build's time): a call that needs its own tool built meanwhile
    builds it while that import stands aside, rather than waiting for it."""

    def shared_code() -> None:
        import incident_response.server.registration  # noqa: F401

    def masker() -> None:
        import yaml  # noqa: F401  (imported for its side effect: loaded once, here)

        from incident_response.tools.core.masking import prepare

        prepare()

    def client_library() -> None:
        from incident_response.tools.kube.client import RealKube

        RealKube.import_library()

    def cluster() -> None:
        try:
            builder().deps.kube  # noqa: B018  (the property connects: loads the kubeconfig, no request)
        except IncidentError as e:
            logger.debug("no cluster to prepare: %s", e)

    def journal() -> None:
        from incident_response.tools.engine.journal import Journal

        deps = builder().deps
        try:
            if isinstance(journal := deps.journal, Journal):  # opened; a write that changes nothing starts its WAL
                journal.prepare_writes()
            deps.incident_scope()  # which incidents are this server's (no request is sent)
        except (OSError, sqlite3.Error, IncidentError) as e:
            logger.warning("could not open the journal: %s", e)

    def read() -> None:
        from incident_response.server.warm_read import read_version

        read_version(builder().deps)

    def dry_run() -> None:
        from incident_response.server.warm_read import dry_run_of_a_pod_list

        dry_run_of_a_pod_list()

    def family(name: str) -> None:
        importlib.import_module(f"incident_response.{catalog.CATALOG[name].module}")

    tool_steps = [
        Step(what, run, aside=True, turn=turn)
        for name in tools
        for what, run, turn in (
            (f"{name}'s module", functools.partial(family, name), False),
            (f"tool {name}", functools.partial(build, name), True),
        )
    ]
    return [
        Step("the tools' shared code", shared_code, aside=True, turn=False),
        Step("the tools' dependencies", builder, aside=True, turn=True),
        Step("masking", masker, aside=True, turn=False),
        Step("the Kubernetes client's import", client_library, aside=True, turn=False),
        Step("the cluster's configuration", cluster, aside=False, turn=True),
        Step("the journal", journal, aside=False, turn=True),
        Step("GET /version", read, aside=False, turn=True),
        Step("a made-up pod list", dry_run, aside=True, turn=False),
        *tool_steps,
    ]
