"""Protobuf request bodies (`application/vnd.kubernetes.protobuf`), turned into the JSON object the store keeps.

kubectl >= 1.32 and client-go's typed clients send `create` bodies (and SelfSubjectAccessReviews) as protobuf:
the `k8s\\x00` magic, then a runtime.Unknown envelope naming apiVersion and kind around the object's bytes. The
object is decoded with the Kubernetes schema embedded in the kubectl binary (sim/kubectl_schema.py) and the
protobuf runtime, then rendered as the API server renders the Go object in JSON:

* the apimachinery types with their own JSON form (Time, Quantity, IntOrString, RawExtension, ...) by type;
* fields Go embeds with `json:",inline"` merged into their parent;
* a zero scalar dropped unless the Go field is a pointer (no gogoproto.nullable=false in the schema): Go writes
  every plain field on the wire, zero or not, and omits zeros in JSON, but `replicas: 0` is a pointer.

The protobuf runtime is imported, and the schema read, on the first protobuf body only, so the simulator starts
without them and serves JSON where no kubectl is installed (a protobuf body then gets a 415 saying so).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incident_response.sim import errors, kubectl_schema

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor, FieldDescriptor
    from google.protobuf.descriptor_pb2 import DescriptorProto, FileDescriptorProto
    from google.protobuf.descriptor_pool import DescriptorPool
    from google.protobuf.message import Message

MAGIC = b"k8s\x00"
_META_FILE = "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"
_GOGO_NULLABLE = 65001  # gogoproto.nullable, a FieldOptions extension

_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_TIME = f"{_META}.Time"
_MICRO_TIME = f"{_META}.MicroTime"
_DURATION = f"{_META}.Duration"
_FIELDS_V1 = f"{_META}.FieldsV1"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"
_UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
# Go's named slices (`type Verbs []string`) travel as a message of `items`; in JSON they are the list itself.
_ITEM_LISTS = frozenset({f"{_META}.Verbs", "k8s.io.api.authorization.v1.ExtraValue"})
# Go struct fields embedded with `json:",inline"` (their fields appear in the parent's JSON), by proto field name.
_INLINE = frozenset(
    {
        "volumeSource",
        "persistentVolumeSource",
        "localObjectReference",
        "ephemeralContainerCommon",
        "ingressRuleValue",
        "handler",  # Probe's ProbeHandler
    }
)
_ABSENT = object()


@dataclass(frozen=True)
class _Schema:
    pool: DescriptorPool
    pointers: frozenset[str]  # "<message full name>.<field>" of scalar fields that are Go pointers


def _schema() -> _Schema:
    """The schema of the kubectl found now (see kubectl_schema), loaded once per binary; 415 when there is none."""
    binary = kubectl_schema.find_kubectl()
    if binary is None:
        raise _no_schema(
            f"no kubectl was found to read it from (set {kubectl_schema.ENV} to a kubectl binary, "
            "or put kubectl on PATH)"
        )
    try:
        return _load(binary.resolve())
    except kubectl_schema.SchemaUnavailable as e:
        raise _no_schema(str(e)) from e


@functools.cache
def _load(binary: Path) -> _Schema:
    from google.protobuf import descriptor_pb2, descriptor_pool

    files = {
        name: descriptor_pb2.FileDescriptorProto.FromString(raw)
        for name, raw in kubectl_schema.embedded_files(binary).items()
    }
    if _META_FILE not in files:
        raise kubectl_schema.SchemaUnavailable(f"{binary} carries no Kubernetes protobuf schema (is it kubectl?)")
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str) -> None:  # dependencies first, as the pool requires
        if name in added:
            return
        added.add(name)
        file = files[name]
        # gogo.proto (the Go generator's options) is not registered in the binary: its options stay unknown fields
        kept = [dep for dep in map(kubectl_schema.canonical, file.dependency) if dep in files]
        for dep in kept:
            add(dep)
        del file.dependency[:]
        file.dependency.extend(kept)
        file.name = name
        pool.Add(file)

    for name in sorted(files):
        add(name)
    return _Schema(pool, frozenset(_pointer_fields(files.values())))


def _pointer_fields(files: Iterable[FileDescriptorProto]) -> Iterator[str]:
    """Scalar fields that are Go pointers: those without gogoproto.nullable=false, the option Go's plain fields get.

    Go writes every plain field on the wire, zero or not, and its JSON drops plain zero fields; a pointer field on
    the wire was set on purpose, so its zero is kept (`replicas: 0`).
    """
    from google.protobuf import unknown_fields
    from google.protobuf.descriptor_pb2 import FieldDescriptorProto as F

    def walk(scope: str, messages: Iterable[DescriptorProto]) -> Iterator[str]:
        for message in messages:
            name = f"{scope}.{message.name}"
            yield from walk(name, message.nested_type)
            if message.options.map_entry:
                continue
            for field in message.field:
                if field.label == F.LABEL_REPEATED or field.type in (F.TYPE_MESSAGE, F.TYPE_GROUP):
                    continue
                options = unknown_fields.UnknownFieldSet(field.options)
                if not any(
                    options[i].field_number == _GOGO_NULLABLE and options[i].data == 0 for i in range(len(options))
                ):
                    yield f"{name}.{field.name}"

    for file in files:
        yield from walk(file.package, file.message_type)


def _no_schema(why: str) -> errors.ApiError:
    return errors.ApiError(
        415,
        "UnsupportedMediaType",
        f"the simulated cluster decodes protobuf with the schema in kubectl, and {why}; send the object as JSON "
        "(Content-Type: application/json) instead, or install kubectl",
    )


def _message_class(descriptor: Descriptor) -> Any:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


def _unsupported(what: str) -> errors.ApiError:
    return errors.ApiError(
        415,
        "UnsupportedMediaType",
        f"the simulated cluster has no protobuf schema for {what}; send the object as JSON "
        "(Content-Type: application/json) instead",
    )


def _descriptor_for(schema: _Schema, api_version: str, kind: str) -> Descriptor:
    group, _, version = api_version.rpartition("/")
    short = group.split(".")[0] if group.endswith(".k8s.io") else group
    packages = [f"k8s.io.api.{short or 'core'}.{version}", f"k8s.io.apimachinery.pkg.apis.meta.{version}"]
    for package in packages:
        try:
            return schema.pool.FindMessageTypeByName(f"{package}.{kind}")
        except KeyError:
            continue
    raise _unsupported(f"{kind} in {api_version or 'an empty apiVersion'}")


def decode(raw: bytes) -> dict[str, Any]:
    """The JSON form of a `k8s\\x00`-enveloped protobuf object: 400 if malformed, 415 if of an unknown type."""
    from google.protobuf.message import DecodeError

    if not raw.startswith(MAGIC):
        raise errors.bad_request("the protobuf body does not start with the Kubernetes envelope (k8s\\x00)")
    schema = _schema()
    try:
        envelope = _message_class(schema.pool.FindMessageTypeByName(_UNKNOWN)).FromString(raw[len(MAGIC) :])
    except DecodeError as e:
        raise errors.bad_request(f"the protobuf body could not be decoded: {e}") from e
    if envelope.contentEncoding:
        raise _unsupported(f"content encoding {envelope.contentEncoding!r}")
    api_version, kind = envelope.typeMeta.apiVersion, envelope.typeMeta.kind
    if not kind:
        raise errors.bad_request("the protobuf envelope names no kind")
    descriptor = _descriptor_for(schema, api_version, kind)
    try:
        message = _message_class(descriptor).FromString(envelope.raw)
    except DecodeError as e:
        raise errors.bad_request(f"the protobuf {kind} could not be decoded: {e}") from e
    return {"apiVersion": api_version, "kind": kind, **_object(message, schema)}


def _object(message: Message, schema: _Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    owner = message.DESCRIPTOR.full_name
    for field, value in message.ListFields():
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            value_field = entry.fields_by_name["value"]
            out[field.name] = {key: _value(value_field, item, schema) for key, item in value.items()}
        elif field.is_repeated:
            out[field.name] = [_value(field, item, schema) for item in value]
        else:
            converted = _value(field, value, schema)
            if converted is _ABSENT:
                continue
            if entry is None and not converted and f"{owner}.{field.name}" not in schema.pointers:
                continue  # a plain Go field at its zero value: omitted from JSON
            if field.name in _INLINE and isinstance(converted, dict):
                out.update(converted)
            else:
                out[field.name] = converted
    return out


def _value(field: FieldDescriptor, value: Any, schema: _Schema) -> Any:
    from google.protobuf.descriptor import FieldDescriptor as FD

    if field.type == FD.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")  # Go's []byte in JSON
    if field.type != FD.TYPE_MESSAGE:
        return value
    assert field.message_type is not None  # TYPE_MESSAGE fields always have one
    name = field.message_type.full_name
    if name in (_TIME, _MICRO_TIME):
        if not value.seconds and not value.nanos:
            return None  # Go's zero time: an empty message on the wire, null in JSON
        moment = datetime.fromtimestamp(value.seconds + value.nanos / 1e9, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if name == _MICRO_TIME else "%Y-%m-%dT%H:%M:%SZ")
    if name == _QUANTITY:
        return value.string
    if name == _INT_OR_STRING:
        return value.strVal if value.type == 1 else value.intVal
    if name == _RAW_EXTENSION:
        return _raw_json(value.raw) if value.raw else _ABSENT
    if name == _FIELDS_V1:
        return _raw_json(value.Raw) if value.Raw else _ABSENT
    if name == _DURATION:
        return _go_duration(value.duration)
    if name in _ITEM_LISTS:
        return list(value.items)
    return _object(value, schema)


def _raw_json(raw: bytes) -> Any:
    if raw.startswith(MAGIC):
        return decode(raw)
    try:
        return json.loads(raw)
    except ValueError as e:
        raise errors.bad_request(f"an embedded object in the protobuf body is not JSON: {e}") from e


def _go_duration(nanoseconds: int) -> str:
    """Go's time.Duration.String() for whole seconds and up (metav1.Duration's JSON), e.g. 1h0m30s."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    seconds, rest = divmod(abs(nanoseconds), 1_000_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    fraction = f".{rest:09d}".rstrip("0") if rest else ""
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}{fraction}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}{fraction}s"
    return f"{sign}{seconds}{fraction}s"
