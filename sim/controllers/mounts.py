"""The kubelet's volume set-up for ConfigMap and Secret volumes: a pod whose volume names one that does not exist (and
is not optional) stays ContainerCreating, and the kubelet reports it as a Warning FailedMount event on the pod, with
upstream's message ('MountVolume.SetUp failed for volume "config" : configmap "checkout-config" not found'), until
the object appears. Projected volumes and items naming a missing key are not modelled.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim.controllers.common import Obj
from incident_response.sim.resources import CONFIGMAPS, SECRETS

if TYPE_CHECKING:
    from incident_response.sim.store import Store


def unmounted(pod: Obj, store: Store) -> str | None:
    """The FailedMount message for the pod's first ConfigMap/Secret volume whose object is missing, or None."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        for key, res, name_field, word in (
            ("configMap", CONFIGMAPS, "name", "configmap"),
            ("secret", SECRETS, "secretName", "secret"),
        ):
            source = volume.get(key)
            if not isinstance(source, dict) or source.get("optional"):
                continue
            name = str(source.get(name_field) or "")
            if name and store.peek(res, namespace, name) is None:
                return f'MountVolume.SetUp failed for volume "{volume.get("name")}" : {word} "{name}" not found'
    return None
