"""The team-mode store's incidents (tools/engine/kube_store.py builds on it): one Incident object each, its timeline
events in it, and an open-incident pointer per scope and namespace that serializes opening one; and what
retention folded away (summaries).

Layer: tools.engine.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine import attribution, call_reads
from incident_response.tools.engine import kube_objects as objects
from incident_response.tools.engine.kube_objects import ENTRIES, INCIDENTS
from incident_response.tools.engine.kube_retention import Summary, decode, summary_name
from incident_response.tools.engine.kube_store_objects import KubeObjects
from incident_response.tools.engine.records import UNTITLED, IncidentRow

logger = logging.getLogger(__name__)


class KubeIncidents(KubeObjects):
    """Incidents on top of the store's objects."""

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


def _candidates(base: str) -> Iterator[str]:
    yield base
    for n in itertools.count(2):
        yield f"{base}-{n}"
