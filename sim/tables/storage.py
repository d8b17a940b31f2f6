"""Secret, ConfigMap and PersistentVolumeClaim columns (upstream printers.go).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._common import (
    AGE_COLUMN,
    NAME_COLUMN,
    UNSET,
    Cell,
    Column,
    Obj,
    Printer,
    age,
    get,
    get_list,
    get_map,
    get_str,
    name_of,
    quantity,
)

# Read before spec.storageClassName, as helper.GetPersistentVolumeClaimClass does.
_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)

SECRET_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data. More info: "
        "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
    ),
    Column(
        "Data",
        "string",
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', "
        "'_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the "
        "arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    ),
    AGE_COLUMN,
)

CONFIGMAP_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Data",
        "string",
        "Data contains the configuration data. Each key must consist of alphanumeric "
        "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys "
        "stored in Data must not overlap with the keys in the BinaryData field, this is enforced during "
        "validation process.",
    ),
    AGE_COLUMN,
)

PVC_COLUMNS = (
    NAME_COLUMN,
    Column("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
    Column("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim."),
    Column("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
    Column(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has. "
        "More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
    ),
    Column("StorageClass", "string", "StorageClass of the pvc"),
    Column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    AGE_COLUMN,
    Column(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim. Value of "
        "Filesystem is implied when not included in claim spec.",
        priority=1,
    ),
)


def _count(value: Any) -> int:
    return len(value) if isinstance(value, dict) else 0


def secret_cells(obj: Obj, now: datetime) -> list[Cell]:
    return [name_of(obj), get_str(obj, "type"), _count(get(obj, "data")), age(obj, now)]


def configmap_cells(obj: Obj, now: datetime) -> list[Cell]:
    return [name_of(obj), _count(get(obj, "data")) + _count(get(obj, "binaryData")), age(obj, now)]


def access_modes(modes: list[Any]) -> str:
    """helper.GetAccessModesAsString: fixed order, duplicates dropped."""
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def pvc_storage_class(obj: Obj) -> str:
    annotations = get_map(obj, "metadata", "annotations")
    if _BETA_STORAGE_CLASS in annotations:
        return str(annotations[_BETA_STORAGE_CLASS])
    return get_str(obj, "spec", "storageClassName")


def _optional(value: Any) -> str:
    # Pointer fields: nil prints <unset>, a set value (even "") prints as is.
    return value if isinstance(value, str) else UNSET


def pvc_cells(obj: Obj, now: datetime) -> list[Cell]:
    phase = "Terminating" if get(obj, "metadata", "deletionTimestamp") is not None else get_str(obj, "status", "phase")
    volume = get_str(obj, "spec", "volumeName")
    # Capacity and access modes are only shown once the claim is bound to a volume.
    capacity = quantity(get(obj, "status", "capacity", "storage")) if volume else ""
    modes = access_modes(get_list(obj, "status", "accessModes")) if volume else ""
    return [
        name_of(obj),
        phase,
        volume,
        capacity,
        modes,
        pvc_storage_class(obj),
        _optional(get(obj, "spec", "volumeAttributesClassName")),
        age(obj, now),
        _optional(get(obj, "spec", "volumeMode")),
    ]


PRINTERS = {
    "secrets": Printer(SECRET_COLUMNS, secret_cells),
    "configmaps": Printer(CONFIGMAP_COLUMNS, configmap_cells),
    "persistentvolumeclaims": Printer(PVC_COLUMNS, pvc_cells),
}
