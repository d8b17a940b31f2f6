"""Whether a Service's ports reach a port its Ready pods declare: endpoints alone do not say that traffic arrives.

A named targetPort no pod defines leaves every pod out of the endpoints (the endpoints check sees none; this says
why). A numeric one always resolves, so the pods stay endpoints at a port nothing may listen on: when the pods declare
ports and none of the Service's ports reaches one of them, connections are likely refused while every pod looks
healthy. Declared ports are informational (an app may listen on one it does not declare: a metrics Service), so this
fails the check only when the Service's ports were edited in the incident window, as assess_namespace's rule reads it
(playbook/dark_services.py); an older mismatch is a note to check. A Service with another port that reaches a
declared one, or pods that declare none, are left alone.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.k8s.changes import recent
from incident_response.tools.k8s.last_change import last_change
from incident_response.tools.k8s.quantity import human_age


def declared(pod: dict[str, Any]) -> dict[int, str]:
    """containerPort -> its name ("" unnamed), over the pod's containers."""
    return {
        int(p["containerPort"]): str(p.get("name") or "")
        for c in (pod.get("spec") or {}).get("containers") or []
        for p in c.get("ports") or []
        if isinstance(p.get("containerPort"), int)
    }


@dataclass(frozen=True)
class Reach:
    text: str
    failed: bool  # False: a note (a numeric port no container declares, not edited lately)


def unreached(service: dict[str, Any], ready_ports: Sequence[dict[int, str]], now: datetime) -> Reach | None:
    """Why traffic sent to `service` may reach no port of its Ready pods (`ready_ports`: each one's declared ports),
    or None when it does or it cannot tell."""
    if not ready_ports:
        return None
    name = str((service.get("metadata") or {}).get("name"))
    numbers: dict[int, str] = {}
    for ports in ready_ports:
        numbers.update(ports)
    names = {n for n in numbers.values() if n}
    targets = [p.get("targetPort", p.get("port")) for p in (service.get("spec") or {}).get("ports") or []]
    count = len(ready_ports)
    for target in targets:
        if isinstance(target, str) and not target.isdigit() and target not in names:
            defined = ", ".join(sorted(names)) or "no named port"
            return Reach(
                f"service {name}'s targetPort {target} names no port of its {count} Ready pods (they define "
                f"{defined}): no pod is an endpoint for it; set the targetPort to one they define, or find the change "
                "that renamed it",
                True,
            )
    wanted = [int(t) for t in targets if isinstance(t, int) or (isinstance(t, str) and t.isdigit())]
    if not numbers or not wanted or len(wanted) < len(targets) or any(t in numbers for t in wanted):
        return None
    listed = ", ".join(f"{n}" + (f" ({label})" if label else "") for n, label in sorted(numbers.items()))
    said = (
        f"service {name} sends traffic to port {', '.join(map(str, wanted))}, which no container of its {count} "
        f"Ready pods declares (they declare {listed})"
    )
    edit = last_change(service, owning=("spec", "ports"))
    if edit is None or edit.created or not recent(edit, now):
        return Reach(f"{said}: check something listens there", False)
    return Reach(
        f"{said}, since its ports were edited {human_age(int((now - edit.at).total_seconds()))} ago: connections "
        f"there are likely refused; check its targetPort (kubectl get service {name} -o yaml)",
        True,
    )
