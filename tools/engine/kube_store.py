"""The team-mode store: the journal as objects of our CustomResourceDefinitions on the Kubernetes API (issue 16).

Every replica of the server, and every human's `approve --store kubernetes`, reads and writes the same objects in
one namespace. Exactly-once comes from the API's optimistic concurrency: a command's state changes only by a status
write that carries the resourceVersion it was read at, so of several concurrent confirms one write succeeds and the
others get 409 Conflict. A decision is an `Approval` object, which the approver creates with their own credentials
(the server's ServiceAccount may not: RBAC in deploy/); a store opened by the server refuses to create one.

Every change and its timeline events are one write, as one SQLite transaction holds both: a command's events go
into its status history, an incident's into its spec. Tool calls and other events (notes, blocked plans) are objects
of their own (JournalEntry): nothing depends on them being written together with anything else.

Layer: tools.engine.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine import attribution, call_reads, store
from incident_response.tools.engine import kube_objects as objects
from incident_response.tools.engine.approvals import CLI_CHANNELS
from incident_response.tools.engine.kube_objects import APPROVALS, COMMANDS, ENTRIES, INCIDENTS
from incident_response.tools.engine.kube_retention import Summary, compact, decode, summary_name
from incident_response.tools.engine.records import UNTITLED, CommandRow, Event, IncidentRow, ToolCall
from incident_response.tools.kube.client import Kube

logger = logging.getLogger(__name__)
# How often one process looks for resolved incidents to compact (every replica does; they agree on the result).
COMPACT_INTERVAL = 3600.0
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
# Reads of the seal-key Secret when other replicas keep winning the write that fills it (one win ends the race).
SEAL_KEY_ATTEMPTS = 5
NOT_AN_APPROVER = (
    "this server stores its journal on the Kubernetes API, where a decision is an Approval object that only a human "
    "creates with their own credentials: run `incident-response-mcp approve TOKEN --store kubernetes` (or deny)"
)


class KubeStore:
    """`tools.engine.store.Store` on the Kubernetes API, in `namespace`. `approver=True` only for the approve CLI;
    with `retention` (seconds), resolved incidents older than that are compacted (kube_retention)."""

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        *,
        approver: bool = False,
        context: str | None = None,
        retention: float | None = None,
        scope: Callable[[], str] | None = None,
        pod: tuple[str, str] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`scope`: the incident scope of the server this store serves (tools.engine.incident_scope), asked when an
        incident is read or opened; without it (the approve CLI, retention) the store reads every scope's. `clock`:
        the server's time in epoch seconds, which dates what it writes (default the wall clock's; entry names keep
        the wall clock's order)."""
        self.kube = kube
        self.clock = clock or time.time
        self.scope = scope
        self.retention = retention
        # (name, namespace) of this replica's pod; claims record it so other replicas can tell when it is gone.
        self.pod = pod if pod is not None else own_pod()
        self._next_compaction = 0.0
        self.namespace = namespace
        self.approver = approver
        self.context = context
        self._key: bytes | None = None
        self._count = itertools.count()
        self._lock = threading.Lock()

    def approve_flags(self) -> str:
        context = f" --context {self.context}" if self.context else ""
        return f"--store kubernetes --store-namespace {self.namespace}{context}"

    def seal_key(self) -> bytes:
        """Kept in the Secret deploy/ ships empty beside the journal; the first replica to read it empty fills it in.
        The server may not create Secrets (on a real cluster that would let it mint any local account's token), so a
        missing Secret is refused, not made."""
        if self._key is None:
            self._key = self._read_or_fill_key()
        return self._key

    def _read_or_fill_key(self) -> bytes:
        where = f"secret {objects.SEAL_SECRET} in namespace {self.namespace}"
        for _ in range(SEAL_KEY_ATTEMPTS):
            try:
                found = self.kube.get("secrets", objects.SEAL_SECRET, self.namespace)
            except errors.NotFound as e:
                raise errors.NotFound(
                    f"{where} does not exist: the server keeps its plan-sealing key there and may not create Secrets. "
                    "Apply deploy/ (`kubectl apply -k deploy/` ships it empty), or create it empty: `kubectl create "
                    f"secret generic {objects.SEAL_SECRET} -n {self.namespace}`; the server fills in the key",
                    code=404,
                    reason=e.reason,
                    verb="get",
                    resource="secrets",
                    name=objects.SEAL_SECRET,
                ) from e
            encoded = (found.get("data") or {}).get("key")
            if encoded:
                return _key_of(str(encoded), where, self.namespace)
            fresh = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
            # At the version read: of replicas filling it at once one write succeeds, the others read its key.
            change = {"metadata": {"resourceVersion": objects.resource_version(found)}, "data": {"key": fresh}}
            try:
                filled = self.kube.patch("secrets", objects.SEAL_SECRET, change, self.namespace, patch_type="merge")
            except errors.Conflict:
                continue
            return _key_of(str((filled.get("data") or {}).get("key") or ""), where, self.namespace)
        raise errors.Conflict(
            f"{where} kept changing while the server read it ({SEAL_KEY_ATTEMPTS} tries); try again",
            code=409,
            reason="Conflict",
            verb="patch",
            resource="secrets",
            name=objects.SEAL_SECRET,
        )

    def authenticated_user(self) -> str:
        """Who the API server says these credentials are (SelfSubjectReview): the approver the journal records."""
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            review = self.kube.create("selfsubjectreviews", body)
        except errors.NotFound as e:
            raise errors.InvalidArgument(
                "the API server does not answer SelfSubjectReview (authentication.k8s.io/v1, Kubernetes 1.28 and "
                "later), so it cannot say who you are. Approve on a cluster that does"
            ) from e
        user = ((review.get("status") or {}).get("userInfo") or {}).get("username")
        if not user:
            raise errors.InvalidArgument("the API server's SelfSubjectReview named no user")
        return str(user)

    # --- reading and writing objects -----------------------------------------------------------------------------

    # Reads go through the tool call's memo (call_reads): one request per object or list per call.
    def get_object(self, resource: str, name: str) -> dict[str, Any] | None:
        return call_reads.remembered((id(self), resource, name), lambda: self._get_object(resource, name))

    def _get_object(self, resource: str, name: str) -> dict[str, Any] | None:
        try:
            return self.kube.get(resource, name, self.namespace)
        except errors.NotFound:
            return None

    def list_objects(self, resource: str, **labels: str | None) -> list[dict[str, Any]]:
        wanted = {f"{objects.GROUP}/{k}": objects.label_value(v) for k, v in labels.items() if v is not None}
        narrowed = self._narrowed(resource, wanted)
        if narrowed is not None:
            return narrowed
        selector = objects.selector(**labels)
        return list(call_reads.remembered(self._listed(resource, wanted), lambda: self._list(resource, selector)))

    def _listed(self, resource: str, labels: Mapping[str, str]) -> call_reads.Key:
        return (id(self), resource, "?", *sorted(labels.items()))

    def _narrowed(self, resource: str, wanted: Mapping[str, str]) -> list[dict[str, Any]] | None:
        """The list as a list with fewer of these labels that this call read already has it, filtered here as the API
        filters (label equality): no request. None when the call has no such list."""
        for size in range(len(wanted)):
            for keys in itertools.combinations(sorted(wanted), size):
                listed = call_reads.known(self._listed(resource, {k: wanted[k] for k in keys}))
                if listed is not None:
                    return [o for o in listed if wanted.items() <= _labels(o).items()]
        return None

    def _list(self, resource: str, selector: str | None) -> list[dict[str, Any]]:
        try:
            return self.kube.list(resource, self.namespace, label_selector=selector).items
        except errors.NotFound as e:
            # A list finds no namespace to miss: the resource type itself is not served.
            raise errors.NotFound(
                f"the cluster does not serve {resource}: the store's CustomResourceDefinitions are not installed. "
                "Install them with `kubectl apply -f deploy/crds/` (or the whole `kubectl apply -k deploy/`)",
                code=404,
                reason=e.reason,
                verb="list",
                resource=resource,
            ) from e

    def delete_object(self, resource: str, name: str, *, resource_version: str | None = None) -> bool:
        """Delete an object (with `resource_version`: only if unchanged since read at it); False when it changed."""
        try:
            self.kube.delete(resource, name, self.namespace, resource_version=resource_version)
        except errors.NotFound:
            pass  # another replica's compaction was first
        except errors.Conflict:
            return False
        finally:
            call_reads.forget()
        return True

    def _summaries(self, incident: str | None = None) -> list[Summary]:
        """What retention folded away (kube_retention): of one incident, or of all."""
        try:
            if incident is not None:
                if self._open_in_call(incident):
                    return []
                found = self.get_object(ENTRIES, summary_name(incident))
                return [] if found is None else [decode(found)]
            return [decode(o) for o in self.list_objects(ENTRIES, type="summary")]
        except errors.Forbidden:
            if self.approver:
                return []  # an approver reads commands, not the journal: a folded command is unknown to them
            raise

    def compact_in_background(self) -> threading.Thread | None:
        """Start retention (kube_retention.compact) in a thread, at most once an interval per process, so a tool
        call never waits for it; the thread, or None when it is not due or not configured."""
        if self.retention is None:
            return None
        now = self.clock()
        with self._lock:
            if now < self._next_compaction:
                return None
            self._next_compaction = now + COMPACT_INTERVAL
        worker = threading.Thread(target=self._compact, args=(now, self.retention), name="store-retention", daemon=True)
        worker.start()
        return worker

    def _compact(self, now: float, retention: float) -> None:
        try:
            compact(self, now=now, retention=retention)
        except errors.IncidentError as e:
            logger.warning("could not compact resolved incidents: %s", e)

    def _create(self, resource: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The created object, or None when one of that name exists already."""
        try:
            return self.kube.create(resource, body, self.namespace)
        except errors.Conflict:
            return None
        finally:
            call_reads.forget()

    def swap(self, resource: str, obj: dict[str, Any], change: dict[str, Any], *, status: bool = False) -> bool:
        """Merge `change` into `obj` if it is still at the version it was read at; False when another writer won."""
        patch = {**change, "metadata": {"resourceVersion": objects.resource_version(obj)}}
        try:
            self.kube.patch(
                resource,
                objects.name_of(obj),
                patch,
                self.namespace,
                patch_type="merge",
                subresource="status" if status else None,
            )
        except (errors.Conflict, errors.NotFound):
            return False
        finally:
            call_reads.forget()
        return True

    def _sequence(self) -> int:
        with self._lock:
            return objects.sequence_at(time.time(), next(self._count))

    def _entry(self, prefix: str, body: dict[str, Any], **labels: str | None) -> None:
        number = self._sequence()
        name = f"{prefix}-{number}-{secrets.token_hex(3)}"
        try:
            self.kube.create(ENTRIES, objects.new_object("JournalEntry", name, body, **labels), self.namespace)
        finally:
            call_reads.forget((id(self), ENTRIES))  # a tool call or an event: no incident, command or approval changed

    # --- incidents ------------------------------------------------------------------------------------------------

    def _scope(self) -> str | None:
        return None if self.scope is None else self.scope()

    def _pointer_name(self, namespace: str | None) -> str:
        """One open-incident pointer per scope and namespace (and one for incidents without): servers of different
        scopes each open their own incident, and one namespace's declaration does not wait for another's."""
        scope = self._scope()
        name = objects.OPEN_POINTER if scope is None else f"{objects.OPEN_POINTER}-{scope}"
        return name if namespace is None else f"{name}-ns-{namespace}"

    def _pointer(self, namespace: str | None) -> dict[str, Any] | None:
        return self.get_object(ENTRIES, self._pointer_name(namespace))

    def _point_at(
        self,
        pointer: dict[str, Any] | None,
        incident: str,
        namespace: str | None,
        opening: dict[str, Any] | None = None,
    ) -> bool:
        """Move the open-incident pointer to `incident` if nobody moved it since it was read: inserts serialize.
        `opening`: the incident object still to be created, carried by the pointer (as a JSON string, so a merge
        patch replaces it whole) until then, for whoever reads the pointer meanwhile (_finish_opening)."""
        detail = None if opening is None else {"opening": json.dumps(opening)}
        body = {"type": "openIncident", "incident": incident, "detail": detail}
        if pointer is None:
            obj = objects.new_object("JournalEntry", self._pointer_name(namespace), body, type="openIncident")
            return self._create(ENTRIES, obj) is not None
        return self.swap(ENTRIES, pointer, {"spec": body})

    def _finish_opening(self, pointer: dict[str, Any] | None) -> None:
        """The pointer names an incident not created yet: its opener is between the two writes, or died there.
        Create that very object (the one of the two creates that wins is the incident), so a process starting
        meanwhile adopts it rather than opening a second. Not one retention folded away (its summary exists)."""
        spec = {} if pointer is None else objects.spec(pointer)
        opening = (spec.get("detail") or {}).get("opening") if isinstance(spec.get("detail"), dict) else None
        incident = spec.get("incident")
        if not isinstance(opening, str) or not isinstance(incident, str):
            return
        if self.get_object(INCIDENTS, objects.incident_name(incident)) is not None:
            return
        if self.get_object(ENTRIES, summary_name(incident)) is None:
            self._create(INCIDENTS, json.loads(opening))

    def _history(self, events: Sequence[tuple[str, dict[str, Any]]], at: float) -> list[dict[str, Any]]:
        return [objects.history_entry(kind, number=self._sequence(), at=at, detail=detail) for kind, detail in events]

    @call_reads.fresh
    def _insert(
        self, row: IncidentRow, *, only_if_none_open: bool, events: Sequence[tuple[str, dict[str, Any]]], at: float
    ) -> IncidentRow | None:
        """Create the incident with `events` in it (one write), after moving the open-incident pointer to it."""
        if self.scope is not None:
            row = row.model_copy(update={"scope": self.scope()})
        while True:
            pointer = self._pointer(row.namespace)
            self._finish_opening(pointer)
            every = self.all_incidents()  # one read for both questions
            open_rows = [r for r in every if self._mine(r) and r.closed_at is None][: attribution.MAX_OPEN]
            if only_if_none_open and any(attribution.same_lane(r, row.namespace) for r in open_rows):
                return None
            if not row.id:
                base = time.strftime("inc-%Y%m%d-%H%M%S", time.gmtime(row.opened_at)) + f"-{os.getpid() % 10000}"
                taken = {r.id for r in every}
                row = row.model_copy(update={"id": next(c for c in _candidates(base) if c not in taken)})
            made = objects.incident_object(row, self._sequence(), self._history(events, at))
            if not self._point_at(pointer, row.id, row.namespace, made):
                if only_if_none_open:
                    return None
                continue
            if self._create(INCIDENTS, made) is None and not self._made_from(made):
                raise errors.InvalidArgument(f"an incident named {row.id!r} exists already; choose another id")
            self._opened(row)
            return row

    def _opened(self, row: IncidentRow) -> None:
        """Drop the created incident from the pointer (if it still names it), so an incident deleted later by hand is
        not created again from there; when this fails, the summary check in _finish_opening still holds."""
        pointer = self._pointer(row.namespace)
        if (
            pointer is not None
            and objects.spec(pointer).get("incident") == row.id
            and objects.spec(pointer).get("detail")
        ):
            self.swap(ENTRIES, pointer, {"spec": {"detail": None}})

    def _made_from(self, made: dict[str, Any]) -> bool:
        """Whether the incident of `made`'s name is `made`, created by a process that read it from the pointer."""
        found = self.get_object(INCIDENTS, objects.name_of(made))
        held, wanted = ({} if found is None else objects.spec(found)), objects.spec(made)
        return bool(held.get("id") == wanted.get("id") and held.get("seq") == wanted.get("seq"))

    def open_incident(self, title: str, *, incident_id: str | None = None) -> str:
        opened = self.clock()
        row = self._insert(
            IncidentRow(id=incident_id or "", title=title, opened_at=opened),
            only_if_none_open=False,
            events=[("incident_opened", {"title": title})],
            at=opened,
        )
        assert row is not None
        return row.id

    def current_incident(self, namespace: str | None = None) -> str:
        while True:
            found = attribution.incident_for(self.incidents(open_only=True, limit=attribution.MAX_OPEN), namespace)
            if found is not None:
                return found.id
            opened = self.clock()
            row = self._insert(
                IncidentRow(id="", title=UNTITLED, opened_at=opened),
                only_if_none_open=True,
                events=[("incident_opened", {"title": UNTITLED})],
                at=opened,
            )
            if row is not None:
                return row.id

    def incident(self, incident_id: str) -> IncidentRow | None:
        """The incident, if it is of this store's scope."""
        found = self._incident_object(incident_id)
        if found is None or objects.spec(found).get("id") != incident_id:
            return None
        row = objects.incident_row(found)
        return row if self._mine(row) else None

    def _incident_object(self, incident_id: str) -> dict[str, Any] | None:
        """From the incidents this call listed already (every call lists them to find its incident), else by name."""
        name = objects.incident_name(incident_id)
        listed = call_reads.known(self._listed(INCIDENTS, {}))
        if listed is None:
            return self.get_object(INCIDENTS, name)
        return next((o for o in listed if objects.name_of(o) == name), None)

    def _open_in_call(self, incident_id: str) -> bool:
        """Whether this call's list of incidents has the incident open: then retention has folded none of it, as it
        folds only incidents resolved at least --store-retention-days (0.05 at least) before, and a resolved incident
        stays resolved. False when the call has not listed them."""
        listed = call_reads.known(self._listed(INCIDENTS, {}))
        name = objects.incident_name(incident_id)
        found = next((o for o in listed or [] if objects.name_of(o) == name), None)
        return found is not None and objects.incident_row(found).closed_at is None

    def _mine(self, row: IncidentRow) -> bool:
        return self.scope is None or row.scope == self.scope()

    def all_incidents(self) -> list[IncidentRow]:
        """Every scope's incidents, newest first (retention compacts them all)."""
        found = sorted(
            self.list_objects(INCIDENTS),
            key=lambda o: (float(objects.spec(o).get("openedAt") or 0), objects.insertion_order(o)),
            reverse=True,
        )
        return [objects.incident_row(o) for o in found]

    def incidents(self, *, open_only: bool = False, limit: int = 20) -> list[IncidentRow]:
        """Newest first, of this store's scope."""
        rows = [r for r in self.all_incidents() if self._mine(r)]
        return [r for r in rows if not open_only or r.closed_at is None][:limit]

    @call_reads.fresh
    def save_incident(
        self,
        before: IncidentRow | None,
        after: IncidentRow,
        events: Sequence[tuple[str, dict[str, Any]]],
        *,
        at: float | None = None,
    ) -> IncidentRow | None:
        now = self.clock() if at is None else at
        if before is None:
            return self._insert(after, only_if_none_open=True, events=events, at=now)
        found = self.get_object(INCIDENTS, objects.incident_name(before.id))
        if found is None or objects.incident_row(found) != before:
            return None
        if after.namespace is not None and after.namespace != before.namespace and not self._take_lane(before, after):
            return None
        # The change and its events in one write, at the version read: both or neither, as in one transaction.
        history = [h for h in objects.spec(found).get("history") or [] if isinstance(h, dict)]
        after = after.model_copy(update={"id": before.id, "scope": before.scope})  # it stays in its scope
        body = objects.incident_spec(after)
        body["history"] = [*history, *self._history(events, now)]
        return after if self.swap(INCIDENTS, found, {"spec": body}) else None

    def _take_lane(self, before: IncidentRow, after: IncidentRow) -> bool:
        """Move the namespace's pointer to an incident that becomes that namespace's, if no other incident is open
        for it: serialized with a declaration inserting one (the same pointer)."""
        pointer = self._pointer(after.namespace)
        taken = self.incidents(open_only=True, limit=attribution.MAX_OPEN)
        if any(r.id != before.id and attribution.same_lane(r, after.namespace) for r in taken):
            return False
        return self._point_at(pointer, before.id, after.namespace)

    # --- tool calls -----------------------------------------------------------------------------------------------

    def record_tool_call(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        status: str,
        duration_ms: float,
        error: str | None = None,
        incident: str | None = None,
        cluster: dict[str, Any] | None = None,
    ) -> None:
        body = {
            "type": "toolCall",
            "incident": objects.masked(incident),
            "at": self.clock(),
            "tool": objects.masked(tool),
            "arguments": objects.masked(arguments),
            "status": objects.masked(status),
            "error": objects.masked(error),
            "durationMs": duration_ms,
            "pid": os.getpid(),
            "cluster": objects.masked(cluster),
        }
        self._entry("call", body, type="toolCall", incident=incident)
        self.compact_in_background()

    def tool_calls(self, *, incident: str | None = None, tool: str | None = None) -> list[ToolCall]:
        rows = [objects.tool_call_row(o) for o in self.list_objects(ENTRIES, type="toolCall", incident=incident)]
        rows += [c for summary in self._summaries(incident) for c in summary.tool_calls]
        return sorted(
            (r for r in rows if (incident is None or r.incident == incident) and (tool is None or r.tool == tool)),
            key=lambda r: r.id,
        )

    # --- pending commands -----------------------------------------------------------------------------------------

    def add_command(self, plan: dict[str, Any], *, state: str, actor: str | None = None) -> None:
        try:
            self._add_command(plan, state=state, actor=actor)
        finally:
            call_reads.forget()  # whatever this raised, the call's later reads see the command

    def _add_command(self, plan: dict[str, Any], *, state: str, actor: str | None) -> None:
        created, expires = _epoch(plan["created_at"]), _epoch(plan["expires_at"])
        made = self.kube.create(
            COMMANDS, objects.command_object(plan, created_at=created, expires_at=expires), self.namespace
        )
        detail = {"tool": plan["tool"], "command": plan.get("command"), "summary": plan.get("summary")}
        proposed = objects.history_entry(
            "proposed", number=self._sequence(), at=self.clock(), actor=actor, detail=detail
        )
        # The status subresource ignores a status sent with the create; written after, `kubectl get` shows the state.
        self.kube.patch(
            COMMANDS,
            objects.name_of(made),
            {"status": {"state": state, "history": [proposed]}},
            self.namespace,
            patch_type="merge",
            subresource="status",
        )

    def _own_pod(self) -> dict[str, Any] | None:
        """This replica's pod as a claim records it (name, namespace, uid, container restarts); None outside a pod or
        when the pod cannot be read (then the claim lease alone decides)."""
        if self.pod is None:
            return None
        name, namespace = self.pod
        try:
            found = self.kube.get("pods", name, namespace)
        except errors.IncidentError as e:
            logger.warning("this claim does not name its pod (%s/%s): %s", namespace, name, e)
            return None
        return {"name": name, "namespace": namespace, "uid": objects.uid_of(found), "restarts": objects.restarts(found)}

    def claimer_lost(self, row: CommandRow) -> bool:
        """An execution claimed in another pod is lost once that pod is gone (deleted, replaced: another uid) or its
        container restarted since the claim: the process that claimed it cannot finish it. A pod being deleted
        still runs until it is gone."""
        pod = (row.claimer or {}).get("pod")
        if row.state != "executing" or not isinstance(pod, dict) or self.pod == (pod.get("name"), pod.get("namespace")):
            return False
        try:
            found = self.kube.get("pods", str(pod.get("name")), str(pod.get("namespace")))
        except errors.NotFound:
            return True
        except errors.IncidentError:
            return False  # cannot tell: the lease decides
        return objects.uid_of(found) != pod.get("uid") or objects.restarts(found) > int(pod.get("restarts") or 0)

    def decisions(self, token: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
        """Approval objects by the command they decide, then by decision. An approval counts by its name
        (`<command>-approve` or `-deny`: one of each per command), never by its labels, which its creator chooses."""
        if token is None:
            found = self.list_objects(APPROVALS)
        else:
            names = (objects.approval_name(token, d) for d in (objects.APPROVED, objects.DENIED))
            found = [obj for name in names if (obj := self.get_object(APPROVALS, name)) is not None]
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for obj in found:
            decided = objects.decision_of(obj)
            if decided is not None:
                out.setdefault(decided[0], {})[decided[1]] = obj
        return out

    def _read(self, token: str) -> tuple[dict[str, Any], CommandRow] | None:
        # From the API: confirm, approve and their transitions act on the command's state now, not the call's memo.
        with call_reads.bypassed():
            obj = self.get_object(COMMANDS, objects.command_name(token))
            if obj is None or objects.spec(obj).get("token") != token:
                return None
            decided = self.decisions(token).get(objects.command_name(token), {})
        return obj, objects.command_row(obj, decided)

    def command(self, token: str) -> CommandRow | None:
        found = self._read(token)
        if found is not None:
            return found[1]
        return next((c for summary in self._summaries() for c in summary.commands if c.token == token), None)

    def command_rows(self, found: Sequence[dict[str, Any]]) -> list[CommandRow]:
        """The rows of these command objects, each with its decision."""
        decided = self.decisions()
        return [objects.command_row(o, decided.get(objects.name_of(o), {})) for o in found]

    def commands(self, *, states: Sequence[str] | None = None, incident: str | None = None) -> list[CommandRow]:
        rows = self.command_rows(self.list_objects(COMMANDS, incident=incident))
        live = {r.token for r in rows}
        rows += [c for summary in self._summaries(incident) for c in summary.commands if c.token not in live]
        chosen = [r for r in rows if (not states or r.state in states) and (incident is None or r.incident == incident)]
        return sorted(chosen, key=lambda r: r.created_at)

    def temporary_measures(self, *, incident: str | None = None) -> list[CommandRow]:
        # Over every incident's commands: a measure may be ended by a command of a later incident (or of another
        # server's, whose incidents are its own).
        # Only the journal's own event entries (and compacted summaries) can hold the closing event: not the full
        # timeline, which also lists every command and incident.
        entries = [objects.event_row(o) for o in self.list_objects(ENTRIES, type="event")]
        entries += [e for summary in self._summaries(None) for e in summary.events]
        closed = {e.token for e in entries if e.kind == store.REVERTED_OUTSIDE and e.token}
        measures = store.temporary_measures(self.commands(states=["succeeded", "partial"]), closed)
        return [m for m in measures if incident is None or m.incident == incident]

    @call_reads.fresh
    def transition(
        self,
        token: str,
        from_states: Sequence[str],
        to_state: str,
        *,
        event: str,
        unexpired_at: float | None = None,
        actor: str | None = None,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> bool:
        found = self._read(token)
        if found is None:
            return False
        obj, row = found
        if row.state not in from_states or (unexpired_at is not None and row.expires_at <= unexpired_at):
            return False
        fields = dict(fields or {})
        if to_state in ("approved", "denied") and row.state in objects.LIVE:
            return self._decide(row, to_state, fields, detail)
        if to_state == "executing" and isinstance(fields.get("claimer"), dict) and (pod := self._own_pod()):
            fields["claimer"] = {**fields["claimer"], "pod": pod}
        if to_state == "executing" and row.decided_by is not None:
            # The status keeps who approved what it runs, so `kubectl get` shows it after the approval is gone.
            fields = {
                "decided_by": row.decided_by,
                "decided_channel": row.decided_channel,
                "decided_principal": row.decided_principal,
                "decided_at": row.decided_at,
                "approved_fingerprint": row.approved_fingerprint,
            } | fields
        # The event goes into the status with the change it records: one write, so neither is ever without the other.
        history = [h for h in objects.status(obj).get("history") or [] if isinstance(h, dict)]
        entry = objects.history_entry(
            event, number=self._sequence(), at=self.clock(), actor=actor, channel=channel, detail=detail
        )
        change = objects.status_patch(to_state, fields) | {"history": [*history, entry]}
        try:
            won = self.swap(COMMANDS, obj, {"status": change}, status=True)
        except errors.Forbidden:
            if to_state in ("expired", "unknown"):
                return False  # an approver may not write commands; the server records what the clock says
            raise
        return won and not (to_state == "executing" and self._denied_while_claimed(token))

    def _denied_while_claimed(self, token: str) -> bool:
        """Whether a human denied the command while its claim was written, the claim then handed back as denied.

        A decision is an Approval object apart from the command: the claim's write, guarded by the command's version
        only, cannot see one made after the claim read the command, whose own check then read it still live and told
        the human "denied". Read once the claim is written: a deny made before is seen here; one made after sees the
        claim and says it came too late. Never both "denied" and run."""
        name = objects.command_name(token)
        for _ in range(3):
            with call_reads.bypassed():
                deny = self.decisions(token).get(name, {}).get(objects.DENIED)
                obj = self.get_object(COMMANDS, name) if deny is not None else None
            if deny is None:
                return False
            if obj is None or objects.status(obj).get("state") != "executing":
                return True  # gone or moved on: this claim does not run it either way
            by = objects.spec(deny)
            fields = {
                "decided_by": by.get("approver"),
                "decided_channel": by.get("channel"),
                "decided_principal": by.get("principal"),
                "decided_at": by.get("decidedAt"),
                "approved_fingerprint": None,
            }
            history = [h for h in objects.status(obj).get("history") or [] if isinstance(h, dict)]
            entry = objects.history_entry(
                "handed_back",
                number=self._sequence(),
                at=self.clock(),
                actor=str(by.get("approver")),
                detail={"reason": "denied while its confirm claimed it: nothing ran"},
            )
            change = objects.status_patch("denied", fields) | {"history": [*history, entry]}
            if self.swap(COMMANDS, obj, {"status": change}, status=True):
                return True
        logger.warning("command %s was denied while claimed and could not be marked denied: it does not run", token)
        return True

    def _decide(self, row: CommandRow, to_state: str, fields: dict[str, Any], detail: dict[str, Any] | None) -> bool:
        """A human's decision, as an Approval object; won when the command then reads as decided that way."""
        channel = str(fields.get("decided_channel") or "")
        if not self.approver or channel not in CLI_CHANNELS:
            raise errors.InvalidArgument(f"not decided: {NOT_AN_APPROVER}")
        decision = objects.APPROVED if to_state == "approved" else objects.DENIED
        # Bound to the fingerprint the engine read and the human saw, not to this later read of the object.
        bound = fields.get("approved_fingerprint") or row.fingerprint
        body = objects.approval_object(
            row.model_copy(update={"fingerprint": bound}),
            decision,
            approver=str(fields.get("decided_by") or ""),
            channel=channel,
            at=float(fields.get("decided_at") or self.clock()),
            principal=fields.get("decided_principal"),
            reason=(detail or {}).get("reason"),
        )
        if self._create(APPROVALS, body) is None:
            return False  # another human decided this way first: the caller reports their decision
        after = self.command(row.token)
        return after is not None and after.state == to_state

    # --- the timeline ---------------------------------------------------------------------------------------------

    def record_event(
        self,
        kind: str,
        *,
        incident: str | None,
        token: str | None = None,
        actor: str | None = None,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> None:
        body = {
            "type": "event",
            "incident": objects.masked(incident),
            "at": at or self.clock(),
            "token": token,
            "kind": objects.masked(kind),
            "actor": objects.masked(actor),
            "channel": objects.masked(channel),
            "detail": objects.masked(detail),
        }
        command = None if token is None else objects.command_name(token)
        self._entry("ev", body, type="event", incident=incident, command=command)

    def events(self, *, incident: str | None = None, token: str | None = None) -> list[Event]:
        command = None if token is None else objects.command_name(token)
        rows = [
            objects.event_row(o) for o in self.list_objects(ENTRIES, type="event", incident=incident, command=command)
        ]
        rows += [e for summary in self._summaries(incident) for e in summary.events]
        if token is None:
            commands = {objects.name_of(o): o for o in self.list_objects(COMMANDS, incident=incident)}
        else:
            name = objects.command_name(token)
            found = self.get_object(COMMANDS, name)
            commands = {} if found is None or objects.spec(found).get("token") != token else {name: found}
        rows += [e for obj in commands.values() for e in objects.history_events(obj)]
        if token is None:
            if incident is None:
                incidents = self.list_objects(INCIDENTS)
            else:
                one = self._incident_object(incident)
                incidents = [] if one is None else [one]
            rows += [e for obj in incidents for e in objects.history_events(obj)]
        for name, decided in self.decisions(token).items():
            if name in commands:
                rows += [objects.approval_event(d, commands[name]) for d in decided.values()]
        chosen = [
            r for r in rows if (incident is None or r.incident == incident) and (token is None or r.token == token)
        ]
        return sorted(chosen, key=lambda r: r.id)


def own_pod() -> tuple[str, str] | None:
    """(pod name, namespace) when this process runs in a pod: its hostname is the pod's name."""
    namespace = namespace_in_pod()
    return None if namespace is None else (socket.gethostname(), namespace)


def namespace_in_pod() -> str | None:
    """The namespace of the pod this process runs in (its service account's), or None outside a pod."""
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE, encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    labels = (obj.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _candidates(base: str) -> Iterator[str]:
    yield base
    for n in itertools.count(2):
        yield f"{base}-{n}"


def _epoch(value: Any) -> float:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


def _key_of(encoded: str, where: str, namespace: str) -> bytes:
    """The 32-byte key a Secret's data.key holds, or a refusal saying how to start over."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise errors.InvalidArgument(
            f"{where} holds no 32-byte key in data.key; remove it so the server makes a new one (plans sealed with "
            f"the old key then need planning again): `kubectl patch secret {objects.SEAL_SECRET} -n {namespace} "
            """--type json -p '[{"op": "remove", "path": "/data/key"}]'`"""
        )
    return key
