"""Plans as data: what a mitigation will write, what it depended on, and how to tell whether that still holds.

Pure: no I/O. Planners build a `PlanDraft`; `tools.engine.pending` turns it into a `PendingCommand` with a token
and runs it. Preconditions name JSON pointers into objects read at plan time; at confirm time the same pointers are read
again and any difference is drift. Only the pointers a plan depends on are compared, so status churn (restarts,
ready counts) is never drift.

Layer: tools.engine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from incident_response.tools.core.masking import mask_data
from incident_response.tools.core.plan_warnings import PlanWarning, fingerprint_form
from incident_response.tools.engine.binding import Binding
from incident_response.tools.k8s import backends, labels
from incident_response.tools.kube.client import PatchType

Risk = Literal["mutation", "destructive"]


class Target(BaseModel):
    kind: str
    namespace: str | None = None
    name: str
    uid: str | None = None


def target_text(plan: dict[str, Any]) -> str:
    """A journaled plan's target as kubectl names it: `deployment/web -n shop`, `node/node-2`."""
    target = plan.get("target") or {}
    where = f" -n {target['namespace']}" if target.get("namespace") else ""
    return f"{str(target.get('kind', '')).lower()}/{target.get('name')}{where}"


class Change(BaseModel):
    """One field a plan changes, as the server-side dry run reported it."""

    path: str
    before: Any = None
    after: Any = None


class Precondition(BaseModel):
    """Values observed at plan time that the plan depends on (JSON pointer -> value).

    With `name` it is one object; with `label_selector` (and no name) it is a list of the live (not terminating)
    items, and each pointer's value is the sorted list of that pointer over them (e.g. `/metadata/uid` -> the pods a
    label removal hits). `min_ready` makes it a floor instead: at least that many selected pods Ready (the endpoints a
    traffic change promised would remain), since readiness itself churns.
    """

    resource: str = Field(description="Plural resource name as the API knows it, e.g. deployments.")
    namespace: str | None = None
    name: str | None = None
    label_selector: str | None = None
    # Like label_selector, by fields (spec.nodeName=N: the pods on a node, which a drain must have seen all of).
    field_selector: str | None = None
    expect: dict[str, Any]
    digests: list[str] = Field(
        default_factory=list,
        description="Pointers of `expect` kept as a SHA-256 digest (a whole pod template: compared, never stored).",
    )
    min_ready: int | None = Field(default=None, description="With label_selector: Ready pods needed at confirm time.")
    unless_selector: str | None = Field(default=None, description="Pods it matches do not count towards min_ready.")


class Drift(BaseModel):
    """Something a plan depended on that changed between planning and confirmation."""

    resource: str
    namespace: str | None = None
    name: str | None = None
    path: str
    planned: Any = None
    now: Any = None

    selector: str | None = None

    def describe(self) -> str:
        where = (
            f"{self.resource}/{self.name}"
            if self.name
            else f"{self.resource} -l {self.selector}"
            if self.selector
            else f"{self.resource} in {self.namespace}"
        )
        return f"{where} {pointer_label(self.path)}: {self.planned!r} -> {self.now!r}"


class KubeWrite(BaseModel):
    """One API write, executed through the Kube seam."""

    kind: Literal["kube"] = "kube"
    verb: Literal["patch", "create", "delete", "evict"]
    resource: str
    namespace: str | None = None
    name: str | None = None
    body: Any = None
    patch_type: PatchType | None = None
    subresource: str | None = None


class ExecRun(BaseModel):
    """Running a binary (helm) with an exact argv and no shell; needs a runner handed to the engine."""

    kind: Literal["exec"] = "exec"
    argv: list[str]
    env: dict[str, str] = Field(default_factory=dict)


StepAction = Annotated[KubeWrite | ExecRun, Field(discriminator="kind")]


class Step(BaseModel):
    description: str
    command: str = Field(description="The exact command line a human would type for this step.")
    action: StepAction
    undo_command: str | None = None


def patch_step(
    description: str,
    command: str,
    resource: str,
    name: str,
    namespace: str | None,
    body: Any,
    patch_type: PatchType,
    *,
    subresource: str | None = None,
    undo_command: str | None = None,
) -> Step:
    """A step whose write is one patch of one object."""
    action = KubeWrite(
        verb="patch",
        resource=resource,
        namespace=namespace,
        name=name,
        body=body,
        patch_type=patch_type,
        subresource=subresource,
    )
    return Step(description=description, command=command, action=action, undo_command=undo_command)


class PlanDraft(BaseModel):
    """What a planner returns: everything about a mitigation except its token and lifetime."""

    tool: str
    summary: str
    target: Target
    risk: Risk = "mutation"
    steps: list[Step]
    undo_command: str | None = None
    diff: list[Change] = Field(default_factory=list)
    preconditions: list[Precondition] = Field(default_factory=list)
    warnings: list[PlanWarning] = Field(default_factory=list)
    temporary: bool = Field(default=False, description="Leaves a temporary measure to restore after the incident.")
    restores: str | None = Field(default=None, description="Token of the temporary measure this plan restores.")
    command_line: str | None = Field(
        default=None,
        description="One command that makes every step's write (kubectl label -l, kubectl drain); default: the "
        "steps' commands joined with &&.",
    )
    accepted_outside_allow_list: list[str] = Field(
        default_factory=list,
        description="Namespaces outside the planning server's allow-list the caller explicitly let this plan act "
        "in (drain_node include_outside_allow_list=True).",
    )

    @property
    def command(self) -> str:
        return self.command_line or " && ".join(step.command for step in self.steps)

    def namespaces(self) -> set[str]:
        """Every namespace the plan reads or writes: its target's, its writes', its preconditions'."""
        found = {self.target.namespace, *(p.namespace for p in self.preconditions)}
        found |= {s.action.namespace for s in self.steps if isinstance(s.action, KubeWrite)}
        return {n for n in found if n}


class PendingCommand(PlanDraft):
    binding: Binding | None = Field(
        default=None, description="Where it was planned; None only in journals written before plans were bound."
    )
    principal: str | None = Field(
        default=None,
        description="The authenticated HTTP principal that planned it (only it may confirm or cancel it); None: a "
        "local client over stdio.",
    )
    token: str
    incident: str
    created_at: datetime
    expires_at: datetime
    fingerprint: str = ""

    @field_validator("warnings", mode="before")
    @classmethod
    def _journaled_as_text(cls, value: Any) -> Any:
        """A plan journaled before warnings had a shape holds strings (tools/core/plan_warnings.py)."""
        return [PlanWarning.of_text(item) for item in value] if isinstance(value, list) else value


def fingerprint(cmd: PendingCommand) -> str:
    """SHA-256 over the canonical JSON of everything in the plan except the fingerprint itself."""
    data = cmd.model_dump(mode="json", exclude={"fingerprint"})
    data["warnings"] = [fingerprint_form(w) for w in data["warnings"]]
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- JSON pointers (RFC 6901) -------------------------------------------------------------------------------------


def pointer(*parts: str | int) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_parts(path: str) -> list[str]:
    if not path:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")]


def pointer_label(path: str) -> str:
    """`/metadata/annotations/deployment.kubernetes.io~1revision` -> `metadata.annotations[deployment...]`."""
    out = ""
    for part in pointer_parts(path):
        out += f"[{part}]" if ("." in part or "/" in part) else (f".{part}" if out else part)
    return out or "(object)"


def resolve(obj: Any, path: str) -> Any:
    """The value at `path`, or None where any part is missing."""
    cur = obj
    for part in pointer_parts(path):
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    return cur


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(_sort_key(value).encode()).hexdigest()[:16]


def live(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items not being deleted: a terminating pod has left the selection as far as a plan is concerned."""
    return [item for item in items if not (item.get("metadata") or {}).get("deletionTimestamp")]


def pointed_values(pre: Precondition, found: dict[str, Any] | list[dict[str, Any]] | None) -> dict[str, Any]:
    """Read the precondition's pointers from an object (or the live items of a list) as they are now."""
    if found is None:
        return {}

    def read(item: dict[str, Any], path: str) -> Any:
        value = resolve(item, path)
        return digest(value) if path in pre.digests else value

    if isinstance(found, list):
        return {p: sorted((read(item, p) for item in live(found)), key=_sort_key) for p in pre.expect}
    return {p: read(found, p) for p in pre.expect}


def ready_pods(pre: Precondition, found: list[dict[str, Any]]) -> list[str]:
    """Names of the selected pods that count towards `min_ready`: Ready, not terminating, not `unless_selector`'s."""
    unless = labels.parse(pre.unless_selector) if pre.unless_selector else None
    return sorted(
        backends.name_of(p)
        for p in found
        if backends.ready(p) and not (unless and labels.matches(unless, labels.labels_of(p)))
    )


def precondition(
    resource: str,
    found: dict[str, Any] | list[dict[str, Any]],
    paths: list[str],
    *,
    namespace: str | None = None,
    name: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    digests: list[str] | None = None,
) -> Precondition:
    """Record what a plan depends on from what the planner just read; `digests` are paths kept as a digest."""
    pre = Precondition(
        resource=resource,
        namespace=namespace,
        name=name,
        label_selector=label_selector,
        field_selector=field_selector,
        expect=dict.fromkeys(paths),
        digests=digests or [],
    )
    pre.expect = pointed_values(pre, found)
    return pre


def ready_floor(namespace: str, label_selector: str, *, unless_selector: str | None = None) -> Precondition:
    """At confirm time at least one pod matching `label_selector` (and not `unless_selector`) must be Ready."""
    return Precondition(
        resource="pods",
        namespace=namespace,
        label_selector=label_selector,
        expect={},
        min_ready=1,
        unless_selector=unless_selector,
    )


def drift(pre: Precondition, found: dict[str, Any] | list[dict[str, Any]] | None) -> list[Drift]:
    """What changed since planning; `found` None means the object is gone."""
    selector = pre.label_selector or pre.field_selector
    base = {"resource": pre.resource, "namespace": pre.namespace, "name": pre.name, "selector": selector}
    if found is None:
        return [Drift(**base, path="", planned="exists", now="absent")]
    now = pointed_values(pre, found)
    changes = [
        Drift(**base, path=path, planned=planned, now=now[path])
        for path, planned in pre.expect.items()
        if _sort_key(planned) != _sort_key(now[path])
    ]
    if pre.min_ready is not None and isinstance(found, list):
        count = len(ready_pods(pre, found))
        if count < pre.min_ready:
            what = f"Ready pods{f' not matching {pre.unless_selector}' if pre.unless_selector else ''}"
            changes.append(Drift(**base, path=what, planned=f"at least {pre.min_ready}", now=count))
    return changes


# --- diffs --------------------------------------------------------------------------------------------------------


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and "name" in v for v in value)


def diff_values(before: Any, after: Any) -> list[Change]:
    """Field-level differences of two objects as they may be shown: masked first (env values, credential-named
    annotations... become `[masked:digest]`, equal for equal values), so a changed secret shows as a changed mask."""
    return _diff(mask_data(before), mask_data(after))


def _diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """Field-level differences; lists of named items (containers, env, ports) are matched by name."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else str(key)
            changes += _diff(before.get(key), after.get(key), sub)
        return changes
    if (_named_list(before) or before is None) and (_named_list(after) or after is None) and before != after:
        old = {v["name"]: v for v in before or []}
        new = {v["name"]: v for v in after or []}
        if old and new:
            changes = []
            for name in [*old, *(n for n in new if n not in old)]:
                changes += _diff(old.get(name), new.get(name), f"{path}[{name}]")
            return changes
    if before != after:
        return [Change(path=path, before=before, after=after)]
    return []


# --- sealed values: what a write needs but the journal must not hold ----------------------------------------------

SEALED = "$sealed"


def seal_secrets(value: Any, *, resource: str, namespace: str | None, name: str, base: str) -> Any:
    """`value`, read from object `resource/name` at pointer `base`, with every part the masker would hide replaced
    by a reference to where it was read. The journal stores the reference; the executor reads the value again
    from the cluster at confirm time and writes it only if it is still the one planned (`seal_digests`)."""
    return _seal(value, mask_data(value), {"resource": resource, "namespace": namespace, "name": name}, base)


def _seal(value: Any, masked: Any, source: dict[str, Any], at: str) -> Any:
    if isinstance(value, dict) and isinstance(masked, dict) and list(value) == list(masked):
        return {k: _seal(v, masked[k], source, at + pointer(k)) for k, v in value.items()}
    if isinstance(value, dict) and isinstance(masked, dict):  # a key itself was masked: seal the whole object
        return {SEALED: {**source, "pointer": at, "value": value}}
    if isinstance(value, list) and isinstance(masked, list):
        return [_seal(v, m, source, at + pointer(i)) for i, (v, m) in enumerate(zip(value, masked, strict=True))]
    if value == masked:
        return value
    return {SEALED: {**source, "pointer": at, "value": value}}


def sealed_refs(value: Any) -> list[dict[str, Any]]:
    """Every sealed reference in a write's body, in order."""
    if isinstance(value, dict):
        if set(value) == {SEALED} and isinstance(value[SEALED], dict):
            return [value[SEALED]]
        return [ref for v in value.values() for ref in sealed_refs(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in sealed_refs(v)]
    return []


def seal_digest(key: bytes, value: Any) -> str:
    """What a sealed reference keeps of its value: an HMAC under the journal's key (in the state directory, not
    in the journal), so the journal alone cannot be used to test a guessed password."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def seal_digests(body: Any, key: bytes) -> Any:
    """Replace each sealed reference's value by its digest: the form a plan is stored and fingerprinted in."""
    if isinstance(body, dict):
        if set(body) == {SEALED} and isinstance(body[SEALED], dict) and "value" in body[SEALED]:
            ref = {k: v for k, v in body[SEALED].items() if k != "value"}
            return {SEALED: {**ref, "digest": seal_digest(key, body[SEALED]["value"])}}
        return {k: seal_digests(v, key) for k, v in body.items()}
    if isinstance(body, list):
        return [seal_digests(v, key) for v in body]
    return body


def unsealed(body: Any, values: dict[str, Any]) -> Any:
    """The body with each sealed reference replaced by the value read for it (keyed by its digest)."""
    if isinstance(body, dict):
        if set(body) == {SEALED} and isinstance(body[SEALED], dict):
            return values[str(body[SEALED].get("digest"))]
        return {k: unsealed(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [unsealed(v, values) for v in body]
    return body


def render_diff(changes: list[Change]) -> str:
    """A short text form of a diff for humans (CLI, elicitation)."""
    if not changes:
        return "(no field changes)"
    return "\n".join(f"  {c.path}: {json.dumps(c.before)} -> {json.dumps(c.after)}" for c in changes)
