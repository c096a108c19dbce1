"""The one place that builds the channel gateway from its settings."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI

from services.channel_gateway import api, integration, projections
from services.channel_gateway.api.bill_pages import (
    PAGE_FORM_BYTES,
    PAGES_PREFIX,
    NotFoundPage,
    not_found_page,
)
from services.channel_gateway.api.bills import BillPolicy
from services.channel_gateway.api.sessions import SignInPolicy
from services.channel_gateway.application import ChannelOrders, IntakeBatcher
from services.channel_gateway.channels.checkout import StripeCheckout
from services.channel_gateway.channels.email.transport import SmtpServer
from services.channel_gateway.channels.outbound import Outbound
from services.channel_gateway.channels.registry import ChannelRegistry
from services.channel_gateway.channels.shopee.tokens import ShopeeTokens
from services.channel_gateway.channels.webhooks import WebhookIntake
from services.channel_gateway.chat.senders import ChatSenders
from services.channel_gateway.domain import AGGREGATES
from services.channel_gateway.domain.promptpay import PromptPayIdError, promptpay_payload
from services.channel_gateway.settings import Settings
from services.channel_gateway.views import (
    ChannelOrderViews,
    PasswordStore,
    SecretBox,
    SecretStore,
    SentMessages,
    UnreadableSecretsError,
)
from services.channel_gateway.workers.amazon import AmazonPoller, PollPolicy
from services.channel_gateway.workers.bills import BillSweeper
from services.channel_gateway.workers.deliveries import DeliveryPolicy, DeliveryWorker
from services.channel_gateway.workers.reconcile import ReconcilePolicy, ReconciliationPoller
from services.channel_gateway.workers.stock_sync import StockSyncPolicy, StockSyncWorker
from shared.countries import COUNTRIES
from shared.events import topics
from shared.runtime.api import (
    ApiBuilder,
    BodyLimitMiddleware,
    Ops,
    ReadinessCheck,
    api_factory,
)
from shared.runtime.database import schema_lock
from shared.runtime.projection import ProjectionWorker
from shared.runtime.registry import ServiceEvents
from shared.runtime.service import ReadinessChecks, ServiceParts
from shared.runtime.throttle import FailureThrottle
from shared.runtime.wiring import open_application, open_views

NAME = "channel_gateway"
SIGN_IN_FAILURES = 5  # failed sign-ins for one name ...
SIGN_IN_WINDOW = timedelta(minutes=15)  # ... within this long, and the name waits


def events() -> ServiceEvents:
    """The gateway's event tables (checked when the service starts)."""
    return ServiceEvents(
        service=NAME,
        aggregates=AGGREGATES,
        consumes=integration.CONSUMES,
        publishes=integration.PUBLISHES,
        topic=topics.CHANNEL,
        projections=projections.VIEWS,
    )


@dataclass
class GatewayParts(ServiceParts):
    """The service parts, plus the gateway's own pieces (tests drive them directly)."""

    registry: ChannelRegistry = field(kw_only=True)
    batcher: IntakeBatcher = field(kw_only=True)
    deliveries: DeliveryWorker = field(kw_only=True)
    amazon: AmazonPoller = field(kw_only=True)
    reconcile: ReconciliationPoller = field(kw_only=True)
    stock_sync: StockSyncWorker = field(kw_only=True)
    bill_sweeper: BillSweeper = field(kw_only=True)

    def http_api(self, readiness: ReadinessChecks) -> FastAPI:
        """The API, whose /readyz also says whether the intake committer runs."""

        async def intake() -> bool:
            """False while the thread that commits incoming orders is dead."""
            return self.batcher.alive

        return super().http_api({**readiness, "intake": intake})

    def close(self) -> None:
        """Stop the intake thread, then close the pools."""
        self.batcher.close()
        super().close()


def build(settings: Settings) -> GatewayParts:
    """Application, views, projection, intake, workers, API and Kafka wiring of the gateway."""
    # Without a usable key the gateway refuses to start, before it opens anything.
    box = SecretBox.from_setting(settings.secrets_keys.get_secret_value())
    app = open_application(ChannelOrders, settings)
    views = open_views(ChannelOrderViews, settings)
    app.stock_sync.attach(views)
    try:
        secrets = _secret_store(settings, views, box)
    except UnreadableSecretsError:
        views.datastore.close()
        app.close()
        raise
    passwords = _password_store(settings, views)
    sign_in = SignInPolicy(
        valid_for=timedelta(hours=settings.session_hours),
        throttle=FailureThrottle(SIGN_IN_FAILURES, SIGN_IN_WINDOW.total_seconds()),
    )
    registry = ChannelRegistry(app, secrets, settings.connection_cache_seconds)
    batcher = IntakeBatcher(app, settings.intake_batch_size)
    shopee_tokens = ShopeeTokens(
        secrets,
        settings.channel_timeout,
        timedelta(seconds=settings.shopee_token_refresh_margin_seconds),
    )
    smtp = _smtp(settings)
    outbound = Outbound(smtp, settings.shop_name, shopee_tokens)
    chats = ChatSenders(smtp, settings.shop_name, _sent_messages(settings, views))
    webhooks = WebhookIntake(
        app, registry, batcher, settings.channel_timeout, shopee_tokens=shopee_tokens
    )
    projection = ProjectionWorker(
        name=projections.PROJECTION, app=app, view=views, project=projections.project
    )
    deliveries = DeliveryWorker(
        app,
        views,
        registry,
        outbound,
        DeliveryPolicy(
            max_attempts=settings.delivery_max_attempts,
            backoff_initial=settings.delivery_backoff_initial,
            backoff_max=settings.delivery_backoff_max,
            poll_interval=settings.delivery_poll_interval,
            concurrency=settings.delivery_concurrency,
            channel_timeout=settings.channel_timeout,
        ),
        chats,
    )
    amazon = AmazonPoller(
        app,
        views,
        registry,
        outbound,
        PollPolicy(
            interval=settings.amazon_poll_interval,
            overlap_seconds=settings.amazon_overlap_seconds,
            channel_timeout=settings.channel_timeout,
        ),
    )
    reconcile = ReconciliationPoller(
        app,
        views,
        registry,
        outbound,
        webhooks,
        ReconcilePolicy(
            interval=settings.webhook_poll_interval,
            page_size=settings.webhook_poll_page_size,
            overlap_seconds=settings.webhook_poll_overlap_seconds,
            first_lookback_seconds=settings.webhook_poll_first_lookback_seconds,
            backoff_max=settings.webhook_poll_backoff_max,
            channel_timeout=settings.channel_timeout,
        ),
    )
    stock_sync = StockSyncWorker(
        views,
        registry,
        outbound,
        StockSyncPolicy(
            rate=settings.stock_sync_rate,
            poll_interval=settings.stock_sync_poll_interval,
            max_attempts=settings.delivery_max_attempts,
            backoff_initial=settings.delivery_backoff_initial,
            backoff_max=settings.delivery_backoff_max,
            channel_timeout=settings.channel_timeout,
        ),
    )
    bill_sweeper = BillSweeper(app, views, settings.bill_expiry_sweep_seconds)
    workers = [deliveries.run, amazon.run, stock_sync.run, bill_sweeper.run]
    if settings.webhook_poll_enabled:
        workers.append(reconcile.run)

    return GatewayParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=_with_pages(
            api_factory(
                service=NAME,
                title="OMS Channel Gateway",
                routers=api.ROUTERS,
                error_statuses=api.ERROR_STATUSES,
                provides=[
                    app,
                    views,
                    registry,
                    batcher,
                    webhooks,
                    passwords,
                    sign_in,
                    _bill_policy(settings),
                    _card_provider(settings),
                ],
            ),
            settings.bill_slip_max_bytes,
        ),
        events=events(),
        access_policy=api.ACCESS,
        projections=[projection],
        # Leader-only, like the relay: one instance pushes deliveries and polls the channels.
        extra_workers=workers,
        registry=registry,
        batcher=batcher,
        deliveries=deliveries,
        amazon=amazon,
        reconcile=reconcile,
        stock_sync=stock_sync,
        bill_sweeper=bill_sweeper,
    )


def _with_pages(build: ApiBuilder, slip_max_bytes: int) -> ApiBuilder:
    """The API plus the customer's bill pages, which live outside /v1 (short links); anyone
    may post to them, so no body there is read past a slip's limit and a form's fields."""

    def with_pages(readiness: Mapping[str, ReadinessCheck], /, ops: Ops = Ops()) -> FastAPI:
        http = build(readiness, ops)
        for router in api.PAGES:
            http.include_router(router)
        http.add_exception_handler(NotFoundPage, not_found_page)
        limit = slip_max_bytes + PAGE_FORM_BYTES
        http.add_middleware(BodyLimitMiddleware, max_bytes=limit, prefix=PAGES_PREFIX)
        return http

    return with_pages


def _bill_policy(settings: Settings) -> BillPolicy:
    """How bills are offered to customers; a PromptPay id or country that cannot work stops the
    start (a QR no banking app reads would be found only by a customer)."""
    if settings.bill_promptpay_id:
        try:
            promptpay_payload(settings.bill_promptpay_id)
        except PromptPayIdError as error:
            raise ValueError(f"OMS_GATEWAY_BILL_PROMPTPAY_ID: {error}") from None
    if settings.bill_country not in COUNTRIES:
        raise ValueError(f"OMS_GATEWAY_BILL_COUNTRY: {settings.bill_country!r} is no ISO country")
    # The links of retried requests are derived with a key of the gateway's own: from its
    # secrets key, so nothing more to configure (rotating that key changes only the link a
    # retry across the rotation gets: a second bill).
    secrets_key = settings.secrets_keys.get_secret_value().split(",")[0].strip().encode()
    return BillPolicy(
        valid_for=timedelta(hours=settings.bill_valid_hours),
        token_key=hmac.new(secrets_key, b"oms bill links", hashlib.sha256).digest(),
        public_url=settings.bill_public_url,
        slip_max_bytes=settings.bill_slip_max_bytes,
        country=settings.bill_country,
        bank_account=settings.bill_bank_account,
        promptpay_id=settings.bill_promptpay_id,
        tracking_url=settings.bill_tracking_url,
        cod=settings.bill_cod,
        reserve_on_create=settings.bill_reserve_on_create,
    )


def _card_provider(settings: Settings) -> StripeCheckout:
    """The card payment provider (card payments are offered when its secret key is set)."""
    return StripeCheckout(
        settings.card_api_base,
        settings.card_secret_key.get_secret_value(),
        settings.card_webhook_secret.get_secret_value(),
        settings.card_webhook_tolerance_seconds,
        settings.channel_timeout,
    )


def _secret_store(settings: Settings, views: ChannelOrderViews, box: SecretBox) -> SecretStore:
    """The channel secrets, their table made and every row sealed; UnreadableSecretsError,
    naming the channels, when a stored secret opens with none of the keys."""
    store = SecretStore(
        views.datastore, timedelta(seconds=settings.secret_rotation_grace_seconds), box
    )
    # Instances starting together make the table and seal the rows of before encryption
    # one after the other.
    with schema_lock(settings.database_url):
        store.create_table()
        store.seal_stored()
    return store


def _password_store(settings: Settings, views: ChannelOrderViews) -> PasswordStore:
    """People's password hashes, their table made."""
    store = PasswordStore(views.datastore)
    with schema_lock(settings.database_url):
        store.create_table()
    return store


def _sent_messages(settings: Settings, views: ChannelOrderViews) -> SentMessages:
    """The record of customer messages sent, its table made."""
    store = SentMessages(views.datastore)
    with schema_lock(settings.database_url):
        store.create_table()
    return store


def _smtp(settings: Settings) -> SmtpServer | None:
    """The configured SMTP server for shipping e-mails, if any."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpServer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_sender,
        settings.smtp_username,
        password,
        settings.smtp_starttls,
    )
