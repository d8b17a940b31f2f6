"""Rendering the exact command lines a human would type.

Every value is shell-quoted (`shlex.join`), so what we show round-trips through `shlex.split` into the argv a
shell would hand to kubectl. Flag order follows the playbook: `kubectl VERB ARGS -n NS [FLAGS] --context CTX`.

Layer: tools.core.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence


def kubectl_argv(
    args: Sequence[str],
    *,
    namespace: str | None = None,
    context: str | None = None,
    flags: Sequence[str] = (),
) -> list[str]:
    """The argv of a kubectl command; `namespace` None means a cluster-scoped object (no `-n`)."""
    argv = ["kubectl", *args]
    if namespace is not None:
        argv += ["-n", namespace]
    argv += list(flags)
    if context:
        argv += ["--context", context]
    return argv


def kubectl(
    args: Sequence[str],
    *,
    namespace: str | None = None,
    context: str | None = None,
    flags: Sequence[str] = (),
) -> str:
    """A shell-quoted kubectl command line, e.g. `kubectl rollout undo deployment/web -n shop --context prod`."""
    return shlex.join(kubectl_argv(args, namespace=namespace, context=context, flags=flags))


def helm_argv(
    args: Sequence[str],
    *,
    namespace: str | None = None,
    kube_context: str | None = None,
    flags: Sequence[str] = (),
) -> list[str]:
    """The argv of a helm command; helm names the context flag `--kube-context`."""
    argv = ["helm", *args]
    if namespace is not None:
        argv += ["-n", namespace]
    argv += list(flags)
    if kube_context:
        argv += ["--kube-context", kube_context]
    return argv


def helm(
    args: Sequence[str],
    *,
    namespace: str | None = None,
    kube_context: str | None = None,
    flags: Sequence[str] = (),
) -> str:
    """A shell-quoted helm command line."""
    return shlex.join(helm_argv(args, namespace=namespace, kube_context=kube_context, flags=flags))


def join_steps(commands: Sequence[str]) -> str:
    """Several commands as one line that stops at the first failure, as a human would paste it."""
    return " && ".join(commands)


def with_connection(command: str, *, kubeconfig: str | None = None, cache_dir: str | None = None) -> list[str]:
    """The argv of a rendered kubectl command pointed at a specific kubeconfig (tests, the demo)."""
    argv = shlex.split(command)
    extra: list[str] = []
    if kubeconfig:
        extra += ["--kubeconfig", kubeconfig]
    if cache_dir:
        extra += ["--cache-dir", cache_dir]
    return [argv[0], *extra, *argv[1:]]
