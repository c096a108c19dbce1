"""Channel connection requests (per kind, secrets as SecretStr) and their public view."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    StrictBool,
)

from services.channel_gateway.application import ChannelRegistration
from services.channel_gateway.application.canonical import Channel, Edge, Sku
from services.channel_gateway.domain import ChannelConnection, ChannelKind, placeholders_in
from services.channel_gateway.views import TokenState
from shared.runtime.api import Page

WEBHOOK_KINDS = (ChannelKind.SHOPIFY, ChannelKind.WOOCOMMERCE, ChannelKind.SHOPEE)
ChannelSku = Annotated[str, Field(min_length=1, max_length=128)]
SkuMapping = dict[ChannelSku, Sku]
INT64_MAX = 2**63 - 1  # Shopee's ids are 64-bit integers
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_time_text(value: Any) -> Any:
    """Only a date-time string, as the schema says: pydantic alone reads 0 or "0" as 1970."""
    if isinstance(value, datetime) or (isinstance(value, str) and _DATE_TIME.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time string")


DateTimeText = Annotated[datetime, BeforeValidator(_date_time_text)]


def _tracking_url(value: str) -> str:
    """An https link whose only placeholder is [tracking_code]."""
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    unknown = [p for p in placeholders_in(value) if p != "tracking_code"]
    if unknown or "[tracking_code]" not in value:
        raise ValueError("must contain [tracking_code] and no other placeholder")
    return value


TrackingUrl = Annotated[str, Field(max_length=500), AfterValidator(_tracking_url)]


class ChannelBase(Edge):
    """What every connection has: its id (used in webhook URLs and orders) and SKU mapping."""

    channel_id: Channel
    kind: str
    sku_mapping: SkuMapping = {}
    require_sku_mapping: StrictBool | None = Field(
        None,
        description="Hold orders whose channel SKU is not mapped (default: on for marketplaces;"
        " off for web/phone/mail, where channel SKUs are ours).",
    )

    def registration(self) -> ChannelRegistration:
        """What the register use case needs: settings, mapping and secrets apart."""
        return ChannelRegistration(
            channel_id=self.channel_id,
            kind=ChannelKind(self.kind),
            config=self.config(),
            sku_mapping=dict(self.sku_mapping),
            secrets=self.secrets(),
        )

    def config(self) -> dict[str, Any]:
        """The settings that are not secrets, as JSON (unset ones left out)."""
        skip = {"channel_id", "kind", "sku_mapping", *self.secret_fields()}
        return {
            k: v for k, v in self.model_dump(mode="json", exclude=skip).items() if v is not None
        }

    def secret_fields(self) -> list[str]:
        """Names of this kind's secret fields."""
        return [
            name
            for name, info in type(self).model_fields.items()
            if info.annotation in (SecretStr, SecretStr | None)
        ]

    def secrets(self) -> dict[str, str]:
        """The secrets given, by name (only ever written to the secret store)."""
        values = {name: getattr(self, name) for name in self.secret_fields()}
        return {k: v.get_secret_value() for k, v in values.items() if v is not None}


class StockSyncedChannel(Edge):
    """A marketplace whose stock the gateway keeps at what inventory says it may sell."""

    stock_sync: StrictBool | None = Field(
        None, description="Push what the channel may sell on every change (default on)"
    )


ChannelLocation = Annotated[str, Field(min_length=1, max_length=200)]
LocationMap = dict[Annotated[str, Field(min_length=1, max_length=64)], ChannelLocation]


class ShopeeItem(Edge):
    """Where one channel SKU lives at Shopee: its item and model (0: an item without models)."""

    item_id: int = Field(gt=0, le=INT64_MAX)
    model_id: int = Field(0, ge=0, le=INT64_MAX)


ShopeeDocumentType = Literal[
    "THERMAL_AIR_WAYBILL", "NORMAL_AIR_WAYBILL", "THERMAL_JOB_AIR_WAYBILL", "NORMAL_JOB_AIR_WAYBILL"
]


class ShopeeLogistics(Edge):
    """How the shop hands its parcels to Shopee's own logistics (v2.logistics.ship_order)."""

    mode: Literal["pickup", "dropoff"] = Field(
        description="pickup: Shopee's courier collects at the shop's address; dropoff: the"
        " warehouse brings the parcels to a branch"
    )
    address_id: int | None = Field(
        None,
        gt=0,
        le=INT64_MAX,
        description="pickup: the shop address to collect at (default the one Shopee flags"
        " pickup_address, else the first it lists); the earliest time slot is taken",
    )
    branch_id: int | None = Field(
        None, gt=0, le=INT64_MAX, description="dropoff: the branch (default the first listed)"
    )
    document_type: ShopeeDocumentType = Field(
        "THERMAL_AIR_WAYBILL", description="The airway bill to print (thermal: 4x6 in. labels)"
    )


class WebhookChannelBase(ChannelBase, StockSyncedChannel):
    """A channel that pushes its orders: a reconciliation poll catches the pushes it loses."""

    reconciliation_poll: StrictBool | None = Field(
        None,
        description="Poll the channel for orders whose webhook was lost (default on; false"
        " switches it off for this channel)",
    )


class ShopifyChannelCreate(WebhookChannelBase):
    """A Shopify store: Admin API token for outbound calls, app secret for webhook HMACs."""

    kind: Literal["shopify"]
    shop_domain: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+$", max_length=255)]
    base_url: AnyHttpUrl | None = Field(None, description="Default https://<shop_domain>")
    api_version: str = "2026-04"
    stock_locations: LocationMap | None = Field(
        None,
        description="Our location id -> Shopify location GID: where stock sync sets"
        ' "available" (needed for stock sync)',
    )
    access_token: SecretStr
    webhook_secret: SecretStr


class WooCommerceChannelCreate(WebhookChannelBase):
    """A WooCommerce store: REST API keys, and the secret set on its order.created webhook."""

    kind: Literal["woocommerce"]
    base_url: AnyHttpUrl
    consumer_key: SecretStr
    consumer_secret: SecretStr
    webhook_secret: SecretStr


class AmazonChannelCreate(ChannelBase, StockSyncedChannel):
    """An Amazon seller: SP-API via Login with Amazon (client id/secret and refresh token)."""

    kind: Literal["amazon"]
    marketplace_id: Annotated[str, Field(min_length=1, max_length=32)]
    seller_id: Annotated[str, Field(min_length=1, max_length=32)]
    lwa_client_id: Annotated[str, Field(min_length=1, max_length=200)]
    base_url: AnyHttpUrl | None = Field(None, description="Default the SP-API EU endpoint")
    token_url: AnyHttpUrl | None = Field(None, description="Default the LWA token endpoint")
    start_after: DateTimeText | None = Field(None, description="First poll reads orders from here")
    lwa_client_secret: SecretStr
    refresh_token: SecretStr


class ShopeeChannelCreate(WebhookChannelBase):
    """A Shopee shop: the partner app's id and key, the shop's id and access token."""

    kind: Literal["shopee"]
    partner_id: int = Field(gt=0, le=INT64_MAX)
    shop_id: int = Field(gt=0, le=INT64_MAX)
    base_url: AnyHttpUrl | None = Field(None, description="Default the Shopee production host")
    push_url: AnyHttpUrl | None = Field(
        None, description="The callback URL exactly as registered at Shopee (it is signed)"
    )
    stock_items: dict[ChannelSku, ShopeeItem] | None = Field(
        None, description="Channel SKU -> Shopee item and model, for stock sync"
    )
    stock_locations: LocationMap | None = Field(
        None,
        description="Our location id -> Shopee location_id (multi-warehouse shops); without it"
        " a SKU's whole stock is one seller_stock entry",
    )
    logistics: ShopeeLogistics | None = Field(
        None,
        description="Ship with Shopee's own logistics: each shipment is arranged with Shopee"
        " when fulfillment creates it, and its airway bill prints as its label (without it,"
        " shipments are told to Shopee with our carrier's tracking number)",
    )
    partner_key: SecretStr
    access_token: SecretStr | None = Field(
        None,
        description="From the shop's authorisation; leave out to keep the one the gateway holds"
        " (it refreshes it itself)",
    )
    refresh_token: SecretStr | None = Field(
        None,
        description="From the shop's authorisation; the gateway renews the access token with it"
        " and keeps each new one (leave out to keep the one it holds)",
    )


class ChatChannelBase(ChannelBase):
    """A chat the merchant sells in: its customers get a message at each status change."""

    language: Literal["en", "th"] | None = Field(
        None, description="The language of its customer messages (default en)"
    )
    tracking_url: TrackingUrl | None = Field(
        None,
        description="The carrier's tracking page with [tracking_code] where the number goes"
        " (fills [tracking_url] in messages)",
    )


class LineChannelCreate(ChatChannelBase):
    """A LINE Official Account: its Messaging API channel access token pushes the messages."""

    kind: Literal["line"]
    base_url: AnyHttpUrl | None = Field(None, description="Default https://api.line.me")
    channel_access_token: SecretStr


class GraphChannelCreate(ChatChannelBase):
    """A Facebook Page (Messenger) or the Instagram account linked to it: the Page access
    token sends through the Graph API Send API."""

    kind: Literal["facebook", "instagram"]
    page_id: Annotated[str, Field(pattern=r"^[0-9]{1,32}$")] | None = Field(
        None, description="The Page's id (default: the Page of the token, /me)"
    )
    graph_version: Annotated[str, Field(pattern=r"^v[0-9]{1,3}\.[0-9]$")] | None = Field(
        None, description="Graph API version (default v25.0)"
    )
    message_tag: Literal["POST_PURCHASE_UPDATE", "HUMAN_AGENT"] | None = Field(
        None,
        description="Tag that lets a message out after the 24-hour window (Messenger default"
        " POST_PURCHASE_UPDATE; Instagram supports only HUMAN_AGENT, default none)",
    )
    base_url: AnyHttpUrl | None = Field(None, description="Default https://graph.facebook.com")
    page_access_token: SecretStr

    def config(self) -> dict[str, Any]:
        """Messenger sends order updates with the POST_PURCHASE_UPDATE tag unless told."""
        config = super().config()
        if self.kind == "facebook" and "message_tag" not in self.model_fields_set:
            config["message_tag"] = "POST_PURCHASE_UPDATE"
        return config


class OwnChannelCreate(ChannelBase):
    """One of the merchant's own channels: customers get shipping e-mails."""

    kind: Literal["web", "phone", "mail"]


ChannelCreate = Annotated[
    ShopifyChannelCreate
    | WooCommerceChannelCreate
    | AmazonChannelCreate
    | ShopeeChannelCreate
    | OwnChannelCreate
    | LineChannelCreate
    | GraphChannelCreate,
    Field(discriminator="kind"),
]


class SkuMappingUpdate(Edge):
    """The whole SKU mapping of a channel: channel SKU -> our SKU."""

    sku_mapping: SkuMapping


class ChannelAuthorisation(BaseModel):
    """Whether the channel's expiring access token can still be renewed (never the tokens)."""

    status: Literal["ok", "reauthorisation_needed"]
    access_token_expires_at: datetime | None = None
    problem: str | None = Field(None, description="Why the shop must be authorised again")
    since: datetime | None = None

    @classmethod
    def of(cls, state: TokenState) -> ChannelAuthorisation:
        """The public view of stored tokens."""
        return cls(
            status="reauthorisation_needed" if state.reauthorise else "ok",
            access_token_expires_at=state.expires_at,
            problem=state.reauthorise,
            since=state.reauthorise_since,
        )


class ChannelPoll(BaseModel):
    """How the reconciliation poll of a webhook channel fares (lost webhooks it catches)."""

    enabled: bool
    cursor: datetime | None = Field(
        None, description="Orders changed up to here are read (the next poll re-reads a little)"
    )
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = Field(None, description="Why the last failed poll failed")
    last_error_at: datetime | None = None
    failures: int = Field(0, description="Failed polls since the last one that succeeded")
    orders_taken_in: int = Field(0, description="Orders the poll took in (their webhook was lost)")
    next_poll_at: datetime | None = None

    @classmethod
    def of(
        cls, config: dict[str, Any], cursor: str | None, row: dict[str, Any] | None
    ) -> ChannelPoll:
        """The poll's view from the channel's settings, its cursor and what the poller recorded."""
        fields = {k: v for k, v in (row or {}).items() if k in cls.model_fields}
        return cls(enabled=config.get("reconciliation_poll") is not False, cursor=cursor, **fields)


class ChannelPublic(BaseModel):
    """A connected channel; secrets appear by name only, never by value."""

    channel_id: str
    kind: ChannelKind
    config: dict[str, Any]
    sku_mapping: dict[str, str]
    secrets_set: list[str]
    webhook_path: str | None
    cursor: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    authorisation: ChannelAuthorisation | None = Field(
        None, description="Channels whose access token expires (Shopee): can it be renewed"
    )
    poll: ChannelPoll | None = Field(
        None, description="Webhook channels: the reconciliation poll that catches lost webhooks"
    )

    def with_poll(self, row: dict[str, Any] | None) -> ChannelPublic:
        """This view with the state of its reconciliation poll, for channels that push."""
        if self.kind not in WEBHOOK_KINDS:
            return self
        return self.model_copy(update={"poll": ChannelPoll.of(self.config, self.cursor, row)})

    def with_tokens(self, state: TokenState | None) -> ChannelPublic:
        """This view with the token state of a channel whose access token expires."""
        if state is None or self.kind != ChannelKind.SHOPEE:
            return self
        return self.model_copy(update={"authorisation": ChannelAuthorisation.of(state)})

    @classmethod
    def of(cls, connection: ChannelConnection) -> ChannelPublic:
        """The public view of a connection, straight from its events."""
        return cls(
            channel_id=connection.channel_id,
            kind=connection.kind,
            config=connection.config,
            sku_mapping=connection.sku_mapping,
            secrets_set=connection.secret_names,
            webhook_path=webhook_path(connection.kind, connection.channel_id),
            cursor=connection.cursor,
            created_at=connection.created_on,
            updated_at=connection.modified_on,
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ChannelPublic:
        """The public view of a connection as the read model lists it."""
        return cls(
            channel_id=row["channel_id"],
            kind=row["kind"],
            config=row["config"],
            sku_mapping=row["sku_mapping"],
            secrets_set=row["secret_names"],
            webhook_path=webhook_path(row["kind"], row["channel_id"]),
            cursor=row["cursor"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


def webhook_path(kind: str, channel_id: str) -> str | None:
    """The path to register at the channel, for channels that push."""
    return f"/v1/webhooks/{kind}/{channel_id}" if kind in WEBHOOK_KINDS else None


class ChannelsPublic(Page[ChannelPublic]):
    """A page of connected channels."""
