"""Translate what a channel sent again (to release a held order after its mapping is fixed)."""

from __future__ import annotations

from collections.abc import Callable

from services.channel_gateway.application import Translation
from services.channel_gateway.channels.amazon import translate as amazon_translate
from services.channel_gateway.channels.base import Connection, MalformedPayloadError
from services.channel_gateway.channels.csv_import.translate import translate_rows
from services.channel_gateway.channels.shopee import translate as shopee_translate
from services.channel_gateway.channels.shopify import translate as shopify_translate
from services.channel_gateway.channels.woocommerce import translate as woo_translate
from services.channel_gateway.domain import OWN_KINDS, ChannelKind, RawPayload

Translator = Callable[[Connection, RawPayload], Translation]

BY_KIND: dict[str, Translator] = {
    ChannelKind.SHOPIFY: shopify_translate.translate,
    ChannelKind.WOOCOMMERCE: woo_translate.translate,
    ChannelKind.AMAZON: amazon_translate.translate,
    ChannelKind.SHOPEE: shopee_translate.translate,
}


def retranslate(connection: Connection, external_id: str, payload: RawPayload) -> Translation:
    """The translation of a stored channel payload with the connection as it is now."""
    if "rows" in payload:
        rows = [
            (int(r["line"]), {k: v for k, v in r.items() if k != "line"}) for r in payload["rows"]
        ]
        orders, errors = translate_rows(connection, rows)
        if errors or not orders or orders[0].translation is None:
            reasons = [f"line {e.line}: {e.reason}" for e in errors] or ["no rows"]
            return Translation(connection.channel_id, external_id, payload, reasons=reasons)
        return orders[0].translation
    translate = BY_KIND.get(connection.kind)
    if translate is None:
        return Translation(
            connection.channel_id, external_id, payload, reasons=["no translator for the channel"]
        )
    try:
        return translate(connection, payload)
    except MalformedPayloadError as error:
        return Translation(connection.channel_id, external_id, payload, reasons=[str(error)])


def default_connection(channel_id: str) -> Connection:
    """A channel used without a connection (e.g. CSV imports): SKUs are ours as written."""
    kind = channel_id if channel_id in OWN_KINDS else ChannelKind.PHONE
    return Connection(channel_id=channel_id, kind=kind)
