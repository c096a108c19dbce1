"""The wire contracts: hand-written samples, generated schemas, the codec and the evolution rule."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from shared.events import schema, topics
from shared.events.base import IntegrationEvent
from shared.events.codec import DecodeError, decode, encode
from shared.events.models import EVENT_CLASSES, OrderPlaced

SAMPLES_DIR = Path(schema.__file__).parent / "samples"
SCHEMAS_DIR = schema.SCHEMA_DIR
REGENERATE = "run `python -m shared.events` and commit the result"

each_event = pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda c: c.event_type())

CE_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_partitionkey",
    "ce_sequence",
    "ce_correlationid",
    "ce_causationid",
    "content-type",
)

# jsonschema checks "date-time" only with an optional package; check RFC 3339 here instead.
FORMATS = FormatChecker()
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.I)


@FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sample_of(event_class: type[IntegrationEvent]) -> dict[str, Any]:
    return read_json(SAMPLES_DIR / schema.schema_file_name(event_class))


def committed_schema_of(event_class: type[IntegrationEvent]) -> dict[str, Any]:
    return read_json(SCHEMAS_DIR / schema.schema_file_name(event_class))


def committed_asyncapi() -> dict[str, Any]:
    return read_json(SCHEMAS_DIR / schema.ASYNCAPI_FILE)


def schema_errors(instance: Any, json_schema: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(json_schema, format_checker=FORMATS)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


# -- samples and schemas --------------------------------------------------------------------


@each_event
def test_every_event_has_a_sample_and_a_committed_schema(event_class):
    name = schema.schema_file_name(event_class)
    assert (SAMPLES_DIR / name).is_file(), f"write a sample payload by hand: samples/{name}"
    assert (SCHEMAS_DIR / name).is_file(), f"no schemas/{name}: {REGENERATE}"


def test_every_sample_and_schema_file_belongs_to_an_event():
    expected = {schema.schema_file_name(c) for c in EVENT_CLASSES}
    assert {p.name for p in SAMPLES_DIR.glob("*.json")} == expected
    assert {p.name for p in SCHEMAS_DIR.glob("*.json")} == expected | {schema.ASYNCAPI_FILE}


@each_event
def test_every_sample_is_valid_for_its_model(event_class):
    text = (SAMPLES_DIR / schema.schema_file_name(event_class)).read_text(encoding="utf-8")
    event_class.model_validate_json(text)


@each_event
def test_every_sample_is_valid_for_its_committed_json_schema(event_class):
    assert schema_errors(sample_of(event_class), committed_schema_of(event_class)) == []


@each_event
def test_every_sample_is_exactly_what_a_publisher_emits(event_class):
    sample = sample_of(event_class)
    assert event_class.model_validate(sample).to_data() == sample


@each_event
def test_every_committed_schema_is_a_closed_draft_2020_12_schema(event_class):
    committed = committed_schema_of(event_class)
    Draft202012Validator.check_schema(committed)
    assert committed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert committed["$id"] == f"https://oms.example/schemas/{event_class.event_type()}.json"
    assert committed["title"] == event_class.event_type()
    assert schema.unclosed_objects(committed) == []


def test_the_json_schema_refuses_what_the_contract_refuses():
    committed = committed_schema_of(OrderPlaced)
    sample = sample_of(OrderPlaced)
    unknown_nested_field = copy.deepcopy(sample)
    unknown_nested_field["shipping_address"]["fax"] = "+49 30 1234567"
    money_as_number = copy.deepcopy(sample)
    money_as_number["lines"][0]["unit_price"] = 24.9
    naive_time = {**sample, "placed_at": "2026-11-28T14:03:28"}
    for bad in (unknown_nested_field, money_as_number, naive_time):
        assert schema_errors(bad, committed) != []


def test_committed_schemas_and_the_asyncapi_document_are_not_stale():
    stale = schema.stale_files(SCHEMAS_DIR)
    assert not stale, f"generated contract files are stale: {stale}; {REGENERATE}"


# -- compatibility: within v1, changes are additive only -------------------------------------


@each_event
def test_every_model_is_an_additive_change_of_its_committed_schema(event_class):
    changes = schema.breaking_changes(
        committed_schema_of(event_class), schema.event_schema(event_class)
    )
    assert not changes, (
        f"{event_class.event_type()} changed in a non-additive way: {changes}. Within v1 only "
        "new optional fields are allowed; a breaking change is a new event version."
    )


def _drop_channel(s):
    del s["properties"]["channel"]
    s["required"].remove("channel")


def _require_line2(s):
    s["$defs"]["Address"]["required"].append("line2")


def _add_required_store(s):
    s["properties"]["store"] = {"type": "string"}
    s["required"].append("store")


def _quantity_as_string(s):
    s["$defs"]["OrderLine"]["properties"]["quantity"]["type"] = "string"


def _tighten_currency(s):
    s["properties"]["currency"]["pattern"] = "^EUR$"


def _open_root(s):
    s["additionalProperties"] = True


def _drop_nested_line2(s):
    del s["$defs"]["Address"]["properties"]["line2"]


BREAKING: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a removed property": (_drop_channel, "removed property channel"),
    "a removed nested property": (_drop_nested_line2, "removed property shipping_address.line2"),
    "an optional property made required": (
        _require_line2,
        "newly required property shipping_address.line2",
    ),
    "a new required property": (_add_required_store, "newly required property store (new)"),
    "a changed type": (_quantity_as_string, "changed type of lines[].quantity"),
    "a tightened pattern": (_tighten_currency, "changed pattern of currency"),
    "an opened object": (_open_root, "changed additionalProperties of (root)"),
}


@pytest.mark.parametrize("change", BREAKING, ids=str)
def test_the_compatibility_check_refuses_a_non_additive_change(change):
    mutate, expected = BREAKING[change]
    old = schema.event_schema(OrderPlaced)
    new = copy.deepcopy(old)
    mutate(new)
    changes = schema.breaking_changes(old, new)
    assert any(c.startswith(expected) for c in changes), changes


def _add_optional_gift_message(s):
    s["properties"]["gift_message"] = {"type": "string", "maxLength": 500}


def _add_optional_gift_wrap(s):
    s["$defs"]["GiftWrap"] = {"type": "object", "additionalProperties": False, "properties": {}}
    s["$defs"]["OrderLine"]["properties"]["gift_wrap"] = {"$ref": "#/$defs/GiftWrap"}


def _reword(s):
    s["description"] = "Reworded."
    s["properties"]["placed_at"]["title"] = "Placed"


ADDITIVE: dict[str, Callable[[dict[str, Any]], None]] = {
    "a new optional property": _add_optional_gift_message,
    "a new optional nested property": _add_optional_gift_wrap,
    "reworded annotations": _reword,
}


@pytest.mark.parametrize("change", ADDITIVE, ids=str)
def test_the_compatibility_check_accepts_an_additive_change(change):
    old = schema.event_schema(OrderPlaced)
    new = copy.deepcopy(old)
    ADDITIVE[change](new)
    assert schema.breaking_changes(old, new) == []


def test_regenerating_refuses_to_overwrite_a_committed_schema_with_a_breaking_change(tmp_path):
    schema.write_all(tmp_path)
    committed = committed_schema_of(OrderPlaced)
    committed["properties"]["channel"]["maxLength"] = 500
    path = tmp_path / schema.schema_file_name(OrderPlaced)
    path.write_text(schema.render(committed), encoding="utf-8")
    with pytest.raises(schema.BreakingChangeError, match="changed maxLength of channel"):
        schema.write_all(tmp_path)
    assert schema.stale_files(tmp_path) == [path.name]
    assert schema.write_all(tmp_path, allow_breaking=True) == [path]
    assert schema.stale_files(tmp_path) == []


# -- the AsyncAPI document ------------------------------------------------------------------


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_every_event_belongs_to_a_known_topic():
    assert {c.topic for c in EVENT_CLASSES} <= set(topics.ALL_TOPICS)
    assert set(topics.PUBLISHER) == set(topics.ALL_TOPICS)


def test_the_asyncapi_document_has_a_channel_per_topic_with_exactly_its_events():
    document = committed_asyncapi()
    assert document["asyncapi"] == "3.0.0"
    for topic in topics.ALL_TOPICS:
        channel = document["channels"][topic]
        assert channel["address"] == topic
        assert channel["bindings"]["kafka"]["topic"] == topic
        published = {c.event_type() for c in EVENT_CLASSES if c.topic == topic}
        assert set(channel["messages"]) == published


def test_the_asyncapi_document_has_a_dead_letter_channel_per_topic():
    document = committed_asyncapi()
    for topic in topics.ALL_TOPICS:
        channel = document["channels"][topics.dlq(topic)]
        assert channel["address"] == f"{topic}.dlq"
        (reference,) = channel["messages"].values()
        message = _resolve(document, reference["$ref"])
        headers = _resolve(document, message["headers"]["$ref"])
        assert set(headers["required"]) == {
            "dlq_reason",
            "dlq_topic",
            "dlq_partition",
            "dlq_offset",
        }
        assert topic in headers["properties"]["dlq_topic"]["enum"]


def test_every_publishing_service_has_a_send_operation_with_its_events():
    document = committed_asyncapi()
    for topic, service in topics.PUBLISHER.items():
        operation = document["operations"][f"{service}.send.{topic}"]
        assert operation["action"] == "send"
        assert operation["channel"] == {"$ref": f"#/channels/{topic}"}
        sent = {_resolve(document, m["$ref"])["$ref"] for m in operation["messages"]}
        assert sent == {
            f"#/components/messages/{c.event_type()}" for c in EVENT_CLASSES if c.topic == topic
        }


@each_event
def test_every_asyncapi_message_states_its_cloudevents_headers_and_kafka_key(event_class):
    document = committed_asyncapi()
    message = document["components"]["messages"][event_class.event_type()]
    common, specific = message["headers"]["allOf"]
    assert set(_resolve(document, common["$ref"])["properties"]) == set(CE_HEADERS)
    service = topics.PUBLISHER[event_class.topic]
    assert specific["properties"]["ce_type"]["const"] == event_class.event_type()
    assert specific["properties"]["ce_source"]["const"] == f"/oms/{service}"
    payload = _resolve(document, message["payload"]["$ref"])
    key = message["bindings"]["kafka"]["key"]
    assert key["type"] == payload["properties"][event_class.key_field]["type"]
    assert specific["properties"]["ce_partitionkey"] == key
    assert message["correlationId"]["$ref"] == "#/components/correlationIds/correlationId"


def test_every_reference_in_the_asyncapi_document_resolves():
    document = committed_asyncapi()
    for ref in _refs(document):
        _resolve(document, ref)


# -- the codec ------------------------------------------------------------------------------

SENT_AT = datetime(2026, 11, 28, 14, 3, 28, tzinfo=UTC)


def encode_sample(event_class: type[IntegrationEvent], position: int = 1234):
    event = event_class.model_validate(sample_of(event_class))
    message = encode(
        event,
        event_id="0f5e6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b",
        service=topics.PUBLISHER[event_class.topic],
        position=position,
        correlation_id="req-7f3a9c",
        causation_id="9b2d7e14-5c6f-4a8b-b1c2-d3e4f5a6b7c8",
        time=SENT_AT,
    )
    return event, message


@each_event
def test_every_event_round_trips_through_the_codec(event_class):
    event, message = encode_sample(event_class)
    headers = dict(message.headers)
    assert set(CE_HEADERS) <= set(headers)
    assert message.key == event.partition_key.encode()
    assert headers["ce_partitionkey"] == headers["ce_subject"] == message.key
    assert headers["ce_type"] == event_class.event_type().encode()
    assert headers["ce_sequence"] == b"00000000000000001234"
    assert headers["content-type"] == b"application/json"

    envelope = decode(message.headers, message.key, message.value)

    assert envelope.event == event
    assert envelope.position == 1234
    assert envelope.source_service == topics.PUBLISHER[event_class.topic]
    assert envelope.correlation_id == "req-7f3a9c"
    assert envelope.causation_id == "9b2d7e14-5c6f-4a8b-b1c2-d3e4f5a6b7c8"


@each_event
def test_every_encoded_record_matches_the_asyncapi_headers_and_the_json_schema(event_class):
    _, message = encode_sample(event_class)
    document = committed_asyncapi()
    headers_schema = document["components"]["messages"][event_class.event_type()]["headers"]
    specific = headers_schema["allOf"][1]
    common = _resolve(document, headers_schema["allOf"][0]["$ref"])
    headers = {name: value.decode() for name, value in message.headers}
    assert schema_errors(headers, common) == []
    assert schema_errors(headers, specific) == []
    payload = json.loads(message.value)
    assert schema_errors(payload, committed_schema_of(event_class)) == []


def test_the_partition_key_of_stock_levels_is_the_sku():
    from shared.events.models import StockLevelChanged

    event, message = encode_sample(StockLevelChanged)
    assert message.key == b"TEE-ORG-BLK-M" == event.sku.encode()


def tampered(
    payload_edit: Callable[[dict[str, Any]], None] | None = None,
    headers_edit: Callable[[dict[str, bytes]], None] | None = None,
) -> tuple[list[tuple[str, bytes]], bytes, bytes]:
    """An OrderPlaced record, edited after encoding as a faulty producer would."""
    _, message = encode_sample(OrderPlaced)
    payload = json.loads(message.value)
    if payload_edit:
        payload_edit(payload)
    headers = dict(message.headers)
    if headers_edit:
        headers_edit(headers)
    return list(headers.items()), message.key, json.dumps(payload).encode()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return edit


@pytest.mark.parametrize(
    ("path", "value"),
    [("coupon_code", "BLACKFRIDAY"), ("customer.fax", "+49 30 1234567")],
    ids=["top level", "nested"],
)
def test_decoding_refuses_an_unknown_field(path, value):
    with pytest.raises(DecodeError, match=r"oms\.OrderPlaced\.v1 violates its contract") as error:
        decode(*tampered(payload_edit=_set(path, value)))
    assert path in str(error.value)
    assert "Extra inputs are not permitted" in str(error.value)


@pytest.mark.parametrize(
    ("path", "value"),
    [("coupon_code", "BLACKFRIDAY"), ("customer.fax", "+49 30 1234567")],
    ids=["top level", "nested"],
)
def test_a_consumer_reading_tolerantly_ignores_a_field_added_by_a_newer_publisher(path, value):
    envelope = decode(*tampered(payload_edit=_set(path, value)), tolerant=True)
    assert envelope.event == decode(*tampered()).event


def test_a_tolerant_reader_still_refuses_a_known_field_that_breaks_the_contract():
    with pytest.raises(DecodeError, match="unit_price"):
        decode(*tampered(payload_edit=_set("lines.0.unit_price", "NaN")), tolerant=True)


@pytest.mark.parametrize("amount", [float("nan"), "NaN", "Infinity", "-24.90"], ids=repr)
def test_decoding_refuses_money_that_is_not_a_finite_non_negative_decimal(amount):
    with pytest.raises(DecodeError, match=r"lines\.0\.unit_price") as error:
        decode(*tampered(payload_edit=_set("lines.0.unit_price", amount)))
    assert re.search(
        "finite number|greater than or equal to 0|plain decimal string", str(error.value)
    )


@pytest.mark.parametrize("amount", [24.9, 25, "2.49e1", " 24.90", ".90", "+24.90"], ids=repr)
def test_decoding_refuses_money_that_is_not_a_plain_decimal_string(amount):
    with pytest.raises(DecodeError, match=r"lines\.0\.unit_price"):
        decode(*tampered(payload_edit=_set("lines.0.unit_price", amount)))


def test_decoding_refuses_a_naive_timestamp_in_the_payload():
    with pytest.raises(DecodeError, match="placed_at") as error:
        decode(*tampered(payload_edit=_set("placed_at", "2026-11-28T14:03:28")))
    assert "UTC offset" in str(error.value)


def test_decoding_refuses_a_naive_ce_time():
    def naive_time(headers: dict[str, bytes]) -> None:
        headers["ce_time"] = b"2026-11-28T14:03:28"

    with pytest.raises(DecodeError, match=r"time.*timezone aware"):
        decode(*tampered(headers_edit=naive_time))


@pytest.mark.parametrize("ce_type", ["oms.OrderTeleported.v1", "oms.OrderPlaced.v2"])
def test_decoding_refuses_an_unknown_event_type(ce_type):
    def retype(headers: dict[str, bytes]) -> None:
        headers["ce_type"] = ce_type.encode()

    with pytest.raises(DecodeError, match=f"unknown event type '{re.escape(ce_type)}'"):
        decode(*tampered(headers_edit=retype))


@pytest.mark.parametrize("sequence", [None, b"", b"twelve"], ids=["missing", "empty", "text"])
def test_decoding_refuses_a_record_without_a_valid_ce_sequence(sequence):
    def resequence(headers: dict[str, bytes]) -> None:
        if sequence is None:
            del headers["ce_sequence"]
        else:
            headers["ce_sequence"] = sequence

    with pytest.raises(DecodeError, match="sequence"):
        decode(*tampered(headers_edit=resequence))


def test_decoding_refuses_a_record_that_is_not_a_cloudevent():
    _, key, value = tampered()
    with pytest.raises(DecodeError, match="not a binary-mode CloudEvent"):
        decode([], key, value)
