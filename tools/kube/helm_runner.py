"""Running the helm binary for a confirmed plan: exact argv, no shell, bounded time, captured output.

The binary is looked up when it is needed (plan and confirm), not at start-up, so installing helm while the
server runs is enough. `INCIDENT_RESPONSE_HELM` names it explicitly; otherwise `helm` on PATH.

Layer: tools.kube.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from typing import Protocol

from incident_response.tools.core import errors

HELM_ENV = "INCIDENT_RESPONSE_HELM"
DEFAULT_TIMEOUT = 300.0
MAX_OUTPUT = 2000

# Inherited variables that would point helm at another cluster than the plan's kubeconfig and context.
CLUSTER_OVERRIDES = ("KUBECONFIG", "HELM_KUBE")


class Invocation(Protocol):
    """What running helm needs of a plan's step (the engine's `ExecRun`): the exact argv and the plan's env."""

    @property
    def argv(self) -> list[str]: ...

    @property
    def env(self) -> dict[str, str]: ...


def find_helm(env: Mapping[str, str]) -> str | None:
    """The helm binary this environment would run, or None."""
    explicit = env.get(HELM_ENV)
    if explicit:
        return explicit if os.path.isfile(explicit) and os.access(explicit, os.X_OK) else None
    return shutil.which("helm", path=env.get("PATH"))


def child_env(run: Invocation, env: Mapping[str, str]) -> dict[str, str]:
    """The server's environment (HOME, PATH, helm's cache dirs) minus cluster overrides, plus the plan's own."""
    kept = {k: v for k, v in env.items() if not k.startswith(CLUSTER_OVERRIDES)}
    return kept | run.env


class HelmRunner:
    """The engine's ExecRunner for helm. `environ` is read at each call (tests swap PATH)."""

    def __init__(
        self, *, timeout: float = DEFAULT_TIMEOUT, environ: Callable[[], Mapping[str, str]] = lambda: os.environ
    ) -> None:
        self.timeout = timeout
        self.environ = environ

    def binary(self) -> str | None:
        return find_helm(self.environ())

    def missing_reason(self) -> str | None:
        """Why a helm plan cannot run here, or None when a helm binary is available."""
        if self.binary() is not None:
            return None
        named = self.environ().get(HELM_ENV)
        where = f"{HELM_ENV}={named} is not an executable file" if named else "`helm` is not on the server's PATH"
        return f"{where}: a human can run it, or install helm (or set {HELM_ENV}) and plan again"

    def __call__(self, run: Invocation) -> str:
        if not run.argv or run.argv[0] != "helm":
            raise errors.InvalidArgument(f"not a helm command: {run.argv[:1]}")
        environ = self.environ()
        binary = find_helm(environ)
        if binary is None:
            raise errors.InvalidArgument(self.missing_reason() or "no helm binary; nothing was run")
        try:
            done = subprocess.run(
                [binary, *run.argv[1:]],
                env=child_env(run, environ),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            # helm may have written part of the release before it was stopped.
            raise errors.OutcomeUnknown(
                f"helm did not finish within {self.timeout:.0f}s and was stopped; the release may be half rolled "
                "back. Run helm_history and list_pods before doing anything else."
            ) from e
        except OSError as e:
            raise errors.InvalidArgument(f"helm could not be started ({e}); nothing was run") from e
        if done.returncode != 0:
            output = errors.truncate((done.stderr or done.stdout).strip(), MAX_OUTPUT)
            raise HelmFailed(
                f"helm exited with status {done.returncode}: {output}. helm may have recorded a failed revision; "
                "run helm_history before retrying."
            )
        return errors.truncate(done.stdout.strip(), MAX_OUTPUT)


class HelmFailed(errors.OutcomeUnknown):
    """helm ran and reported failure. helm may have written part of the rollback (it records a failed revision)
    before giving up, so the engine reports the step `unknown`, not `failed`: "nothing changed" is not known."""
