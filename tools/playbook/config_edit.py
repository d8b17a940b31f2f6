"""How every tool names a ConfigMap edit that is the likely cause of a failure, in the same words.

Pods that began failing after a ConfigMap they read was edited (and after every rollout of theirs) most likely fail
on the edit: a rollback restores the pod template, not the ConfigMap, and a revision that reads it too fails the
same way. assess_namespace, evaluate_decision, check_rollback_safety, the rollback plans and the handoff all say it
with these sentences (review-assist7 H11, notes-judge-agree "still missing"): the object, the keys the edit set,
when and by whom, and the fix (restore the key, not a rollback).

Layer: tools.playbook.
"""

from __future__ import annotations

import re

from incident_response.tools.k8s.config_keys import keys_text
from incident_response.tools.playbook.config_failures import INSTEAD

LIKELY = "the likely cause"
FIX_MARK = "began failing (a fix?)"  # in an edit's words when it came after the failure began
SAID = re.compile(
    r"(ConfigMap \S+ (?:\([^)]*\) )?was edited .*?: "
    + LIKELY
    + r").*?(restore \S+ \S+ \(from source control\) "
    + INSTEAD
    + ")",
    re.IGNORECASE,
)


def edited(name: str, keys: list[str], ago: str, by: str) -> str:
    """'ConfigMap checkout-config (key TIMEOUT_MS) was edited 4m ago by kubectl-patch'; `by`: ' by MANAGER' or ''."""
    what = f" ({keys_text(keys)})" if keys else ""
    return f"ConfigMap {name}{what} was edited {ago} ago{by}"


def restore(keys: list[str]) -> str:
    """The fix, said the same way by every tool: the edit put back, not a rollback."""
    what = "that key" if len(keys) == 1 else "those keys" if keys else "its previous data"
    return f"restore {what} (from source control) {INSTEAD}"


def later(name: str, keys: list[str], ago: str, by: str, whose: str) -> str:
    """An edit made after the failure began: not its cause (a ConfigMap keeps only its newest write), most likely the
    fix; crash-looping containers read it as they restart."""
    return f"{edited(name, keys, ago, by)}, after {whose} {FIX_MARK}"


def cause(name: str, keys: list[str], ago: str, by: str, whose: str) -> str:
    """'ConfigMap X (key K) was edited 4m ago by M, before pods of checkout began failing: the likely cause'."""
    return f"{edited(name, keys, ago, by)}, before {whose} began failing: {LIKELY}"


def said_in(reason: str) -> str | None:
    """The cause and its fix as a decision's reason says them ('ConfigMap X (key K) was edited ... the likely cause;
    restore that key ... instead of rolling back'), for a tool that repeats the assessment; None when it names none."""
    found = SAID.search(reason)
    return f"{found.group(1)}; {found.group(2)[0].lower()}{found.group(2)[1:]}" if found else None
