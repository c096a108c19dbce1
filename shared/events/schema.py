"""JSON Schemas and the AsyncAPI document of the integration events, generated from the models.

Never edit the files in `schemas/` by hand: `python -m shared.events` writes them, and
`python -m shared.events --check` says which ones no longer match the models.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events import topics
from shared.events.base import IntegrationEvent
from shared.events.codec import SOURCE_PREFIX
from shared.events.models import EVENT_CLASSES

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE_URL = "https://oms.example/schemas/"
SCHEMA_DIR = Path(__file__).parent / "schemas"
ASYNCAPI_FILE = "asyncapi.json"
KAFKA_BINDING_VERSION = "0.5.0"

JsonObject = dict[str, Any]


class BreakingChangeError(ValueError):
    """Regenerating would change a committed v1 schema in a way that is not additive."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__("non-additive contract changes:\n  " + "\n  ".join(changes))
        self.changes = changes


# -- JSON Schema per event ----------------------------------------------------------------


def schema_file_name(event_class: type[IntegrationEvent]) -> str:
    """File name of an event's schema (and sample): `<ce_type>.json`."""
    return f"{event_class.event_type()}.json"


def schema_id(event_class: type[IntegrationEvent]) -> str:
    """The `$id` of an event's JSON Schema."""
    return SCHEMA_BASE_URL + schema_file_name(event_class)


def event_schema(event_class: type[IntegrationEvent]) -> JsonObject:
    """The draft 2020-12 JSON Schema of an event's payload (the CloudEvents `data`)."""
    schema = event_class.model_json_schema(mode="validation")
    schema.update(
        {
            "$schema": SCHEMA_DIALECT,
            "$id": schema_id(event_class),
            "title": event_class.event_type(),
        }
    )
    open_objects = unclosed_objects(schema)
    if open_objects:
        raise ValueError(f"{event_class.event_type()} has open objects: {open_objects}")
    return schema


def unclosed_objects(schema: Any, path: str = "#") -> list[str]:
    """JSON pointers of object schemas that accept properties they do not declare."""
    found: list[str] = []
    if isinstance(schema, dict):
        is_object = schema.get("type") == "object" or "properties" in schema
        if is_object and schema.get("additionalProperties") is not False:
            found.append(path)
        for key, value in schema.items():
            found.extend(unclosed_objects(value, f"{path}/{key}"))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found.extend(unclosed_objects(value, f"{path}/{index}"))
    return found


# -- compatibility --------------------------------------------------------------------------

# Keywords that document but do not constrain; changing them is never breaking.
_ANNOTATIONS = frozenset({"title", "description", "examples", "$comment", "$schema", "$id"})
# Keywords compared structurally rather than by equality.
_STRUCTURAL = frozenset(
    {"$ref", "$defs", "properties", "required", "items", "anyOf", "oneOf", "allOf"}
)


def breaking_changes(old: JsonObject, new: JsonObject) -> list[str]:
    """What makes `new` more than an additive change of `old` (empty when compatible).

    Additive: new optional properties, new definitions, changed annotations. Everything else
    (a removed property, a newly required one, a changed type, format, pattern, bound or
    default) breaks readers or writers of the committed contract and needs a new version.
    """
    changes: list[str] = []
    _compare(old, new, old, new, "", changes, set())
    return changes


def _resolve(node: Any, root: JsonObject) -> Any:
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            return node
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _compare(
    old: Any,
    new: Any,
    old_root: JsonObject,
    new_root: JsonObject,
    path: str,
    changes: list[str],
    visited: set[tuple[int, int]],
) -> None:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if (id(old), id(new)) in visited:
        return
    visited.add((id(old), id(new)))
    where = path or "(root)"
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            changes.append(f"changed schema of {where}: {old!r} -> {new!r}")
        return

    old_properties = old.get("properties", {})
    new_properties = new.get("properties", {})
    for name, old_property in old_properties.items():
        if name not in new_properties:
            changes.append(f"removed property {_join(path, name)}")
        else:
            _compare(
                old_property,
                new_properties[name],
                old_root,
                new_root,
                _join(path, name),
                changes,
                visited,
            )
    for name in sorted(set(new.get("required", ())) - set(old.get("required", ()))):
        state = "existing optional" if name in old_properties else "new"
        changes.append(f"newly required property {_join(path, name)} ({state})")

    if "items" in old or "items" in new:
        if "items" in old and "items" in new:
            _compare(old["items"], new["items"], old_root, new_root, f"{path}[]", changes, visited)
        else:
            changes.append(f"changed items of {where}")

    for keyword in ("anyOf", "oneOf", "allOf"):
        if keyword not in old and keyword not in new:
            continue
        old_options, new_options = old.get(keyword, []), new.get(keyword, [])
        if len(old_options) != len(new_options):
            changes.append(
                f"changed {keyword} of {where}: {len(old_options)} -> {len(new_options)}"
            )
            continue
        for index, (old_option, new_option) in enumerate(
            zip(old_options, new_options, strict=True)
        ):
            _compare(
                old_option,
                new_option,
                old_root,
                new_root,
                f"{path}<{keyword}[{index}]>",
                changes,
                visited,
            )

    for keyword in sorted((old.keys() | new.keys()) - _ANNOTATIONS - _STRUCTURAL):
        before, after = old.get(keyword, "<absent>"), new.get(keyword, "<absent>")
        if before != after:
            changes.append(f"changed {keyword} of {where}: {before!r} -> {after!r}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# -- AsyncAPI -------------------------------------------------------------------------------

_CE_HEADERS: JsonObject = {
    "type": "object",
    "description": (
        "CloudEvents 1.0 attributes in Kafka binary content mode: one header per attribute, "
        "UTF-8 text values; the record value is the JSON payload (the CloudEvents data)."
    ),
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "ce_partitionkey",
        "ce_sequence",
        "content-type",
    ],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {
            "type": "string",
            "minLength": 1,
            "description": "Event id, unique within its source.",
        },
        "ce_source": {
            "type": "string",
            "pattern": "^" + SOURCE_PREFIX + "[a-z_]+$",
            "description": "/oms/<service>: the publishing service.",
        },
        "ce_type": {
            "type": "string",
            "pattern": r"^oms\.[A-Za-z0-9]+\.v[0-9]+$",
            "description": "oms.<EventName>.v<major>: selects the payload schema.",
        },
        "ce_time": {
            "type": "string",
            "format": "date-time",
            "description": "When the event occurred, RFC 3339 in UTC.",
        },
        "ce_subject": {
            "type": "string",
            "description": "What the event is about: the order id, or the SKU for stock-level "
            "events; equals ce_partitionkey.",
        },
        "ce_partitionkey": {
            "type": "string",
            "description": "CloudEvents partitioning extension; equals the Kafka record key, so "
            "all events of one order (or SKU) stay in order.",
        },
        "ce_sequence": {
            "type": "string",
            "pattern": "^[0-9]{20}$",
            "description": "CloudEvents sequence extension: the publisher's notification id, "
            "zero-padded to 20 digits so it orders as text. Consumers track it per source and "
            "skip what they already applied.",
        },
        "ce_correlationid": {
            "type": "string",
            "description": "The same for every event caused, directly or not, by one request "
            "(e.g. its X-Request-ID), so one order can be followed across services.",
        },
        "ce_causationid": {
            "type": "string",
            "description": "Id of the message or request that directly caused this event.",
        },
        "content-type": {"type": "string", "const": "application/json"},
    },
}

_DLQ_HEADERS: JsonObject = {
    "type": "object",
    "description": (
        "The original record's headers (ce_* and content-type, when it had them), unchanged, "
        "plus the dlq_* headers; UTF-8 text values."
    ),
    "required": ["dlq_reason", "dlq_topic", "dlq_partition", "dlq_offset"],
    "properties": {
        "dlq_reason": {
            "type": "string",
            "minLength": 1,
            "description": "Why the record could not be processed, e.g. the DecodeError message.",
        },
        "dlq_topic": {
            "type": "string",
            "enum": list(topics.ALL_TOPICS),
            "description": "The topic the record was read from.",
        },
        "dlq_partition": {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "Its partition there, in decimal.",
        },
        "dlq_offset": {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "Its offset there, in decimal.",
        },
    },
}

_DEAD_LETTER = "oms.DeadLetter"


def _keys(published: list[type[IntegrationEvent]]) -> str:
    by_field: dict[str, list[str]] = {}
    for event_class in published:
        by_field.setdefault(event_class.key_field, []).append(event_class.__name__)
    if list(by_field) == ["order_id"]:
        return "The record key is the order id, so one order's events stay in order."
    parts = [f"{field} for {', '.join(names)}" for field, names in by_field.items()]
    return "The record key is the " + "; the ".join(parts) + "."


def _channel_ref(channel: str) -> JsonObject:
    return {"$ref": f"#/channels/{channel}"}


def _key_schema(event_class: type[IntegrationEvent], payload: JsonObject) -> JsonObject:
    key = {k: v for k, v in payload["properties"][event_class.key_field].items() if k != "title"}
    key["description"] = f"The partition key: the event's {event_class.key_field}."
    return key


def _event_message(
    event_class: type[IntegrationEvent], payload: JsonObject, service: str
) -> JsonObject:
    key = _key_schema(event_class, payload)
    return {
        "name": event_class.__name__,
        "title": event_class.event_type(),
        "summary": payload.get("description", ""),
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventsKafkaHeaders"},
                {
                    "type": "object",
                    "properties": {
                        "ce_type": {"type": "string", "const": event_class.event_type()},
                        "ce_source": {"type": "string", "const": SOURCE_PREFIX + service},
                        "ce_subject": key,
                        "ce_partitionkey": key,
                    },
                },
            ]
        },
        "payload": {"$ref": f"#/components/schemas/{event_class.__name__}"},
        "correlationId": {"$ref": "#/components/correlationIds/correlationId"},
        "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING_VERSION}},
        "externalDocs": {
            "description": "JSON Schema (draft 2020-12) of the payload",
            "url": schema_id(event_class),
        },
    }


def asyncapi_document() -> JsonObject:
    """The AsyncAPI 3.0.0 document of every topic, its events, publishers and dead letters."""
    _, top = models_json_schema(
        [(event_class, "validation") for event_class in EVENT_CLASSES],
        ref_template="#/components/schemas/{model}",
    )
    schemas: JsonObject = dict(top["$defs"])
    for event_class in EVENT_CLASSES:
        if schemas[event_class.__name__].get("title") != event_class.__name__:
            raise ValueError(f"schema name clash for {event_class.__name__}")
    schemas["CloudEventsKafkaHeaders"] = copy.deepcopy(_CE_HEADERS)
    schemas["DeadLetterHeaders"] = copy.deepcopy(_DLQ_HEADERS)

    messages: JsonObject = {
        _DEAD_LETTER: {
            "name": "DeadLetter",
            "title": "Dead letter",
            "summary": "A record that could not be decoded or violates its contract, parked "
            "unchanged with why and where it came from.",
            "description": "Key, value and headers are the original record's, byte for byte "
            "(the value need not even be JSON); the dlq_* headers are added.",
            "contentType": "application/octet-stream",
            "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
            "payload": {"description": "The original record's value, unchanged."},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": "The original record's key."},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
    }
    channels: JsonObject = {}
    operations: JsonObject = {}
    for topic in topics.ALL_TOPICS:
        service = topics.PUBLISHER[topic]
        published = [c for c in EVENT_CLASSES if c.topic == topic]
        for event_class in published:
            messages[event_class.event_type()] = _event_message(
                event_class, schemas[event_class.__name__], service
            )
        channels[topic] = {
            "address": topic,
            "title": topic,
            "description": f"Integration events published by {service}. {_keys(published)}",
            "messages": {
                c.event_type(): {"$ref": f"#/components/messages/{c.event_type()}"}
                for c in published
            },
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        operations[f"{service}.send.{topic}"] = {
            "action": "send",
            "channel": _channel_ref(topic),
            "title": f"{service} publishes to {topic}",
            "summary": f"The relay of {service} publishes its integration events in "
            "notification order.",
            "messages": [
                {"$ref": f"#/channels/{topic}/messages/{c.event_type()}"} for c in published
            ],
        }
        dead_letters = topics.dlq(topic)
        channels[dead_letters] = {
            "address": dead_letters,
            "title": dead_letters,
            "description": f"Dead letters of {topic}: poison records that a consumer could "
            "not decode or that violate their contract, with the error in dlq_reason.",
            "messages": {"DeadLetter": {"$ref": f"#/components/messages/{_DEAD_LETTER}"}},
            "bindings": {"kafka": {"topic": dead_letters, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        operations[f"consumers.send.{dead_letters}"] = {
            "action": "send",
            "channel": _channel_ref(dead_letters),
            "title": f"Consumers of {topic} dead-letter poison records",
            "summary": "A consumer parks a record it cannot decode here instead of blocking "
            "its partition.",
            "messages": [{"$ref": f"#/channels/{dead_letters}/messages/DeadLetter"}],
        }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "OMS integration events",
            "version": "1.0.0",
            "description": (
                "Every public event of the Order Management System. Records are CloudEvents "
                "1.0 in Kafka binary content mode: attributes in ce_* headers, the JSON payload "
                "as the value, the partition key as the record key. Money travels as decimal "
                "strings with a currency, times as RFC 3339 in UTC. Within a v1 topic, changes "
                "are additive only; a breaking change is a new event version."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "correlationIds": {
                "correlationId": {
                    "description": "Follows one order across all services.",
                    "location": "$message.header#/ce_correlationid",
                }
            },
        },
    }


# -- files ----------------------------------------------------------------------------------


def render(document: JsonObject) -> str:
    """Deterministic JSON text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_files() -> dict[str, str]:
    """File name -> content of everything `python -m shared.events` writes."""
    files = {schema_file_name(c): render(event_schema(c)) for c in EVENT_CLASSES}
    files[ASYNCAPI_FILE] = render(asyncapi_document())
    return dict(sorted(files.items()))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _orphans(directory: Path, expected: dict[str, str]) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.glob("*.json") if p.name not in expected)


def contract_breaks(directory: Path) -> list[str]:
    """Non-additive differences between the committed event schemas and the models."""
    changes: list[str] = []
    for event_class in EVENT_CLASSES:
        committed = _read(directory / schema_file_name(event_class))
        if committed is None:
            continue
        try:
            old = json.loads(committed)
        except json.JSONDecodeError:
            continue
        changes.extend(
            f"{event_class.event_type()}: {change}"
            for change in breaking_changes(old, event_schema(event_class))
        )
    expected = generated_files()
    changes.extend(f"{name}: schema of a removed event" for name in _orphans(directory, expected))
    return changes


def stale_files(directory: Path) -> list[str]:
    """Names of files in `directory` that are missing, differ from the models, or are orphans."""
    expected = generated_files()
    stale = [name for name, text in expected.items() if _read(directory / name) != text]
    return sorted(stale + _orphans(directory, expected))


def write_all(directory: Path, *, allow_breaking: bool = False) -> list[Path]:
    """Write every schema and the AsyncAPI document that differ; return the paths written.

    Refuses (BreakingChangeError) to replace a committed schema by a non-additive one unless
    `allow_breaking`, which is only for contracts that were never released; it then also
    deletes the schemas of removed events.
    """
    if not allow_breaking:
        changes = contract_breaks(directory)
        if changes:
            raise BreakingChangeError(changes)
    directory.mkdir(parents=True, exist_ok=True)
    expected = generated_files()
    written: list[Path] = []
    for name, text in expected.items():
        path = directory / name
        if _read(path) != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for name in _orphans(directory, expected):
        (directory / name).unlink()
    return written
