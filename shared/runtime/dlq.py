"""The dead-letter office of a service: parked messages listed, replayed once, or discarded."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from shared.events.base import IntegrationEvent
from shared.events.codec import DecodeError, Envelope, decode
from shared.runtime.api import Page, PageQuery, links, page_query, problems, provide
from shared.runtime.application import (
    MAX_CONFLICT_RETRIES,
    ServiceApplication,
    UnitOfWork,
    conflict_pause,
)
from shared.runtime.backoff import is_transient
from shared.runtime.consumer import Handler, apply_envelope
from shared.runtime.parked_messages import ParkedMessage, ParkedStatus, ParkedStore

MAX_ID = 2**63 - 1  # bigserial
log = structlog.get_logger()


class ParkedNotFoundError(LookupError):
    """No parked message has this id."""


class ParkedResolvedError(Exception):
    """The message was resolved already in a way that forbids what was asked."""


class ReplayFailedError(Exception):
    """Replaying did not apply the message; it stays parked."""


class ReplayUnavailableError(Exception):
    """The database failed over or went away during a replay; nothing was applied."""


class DeadLetterOffice:
    """Lists parked messages and replays (exactly once) or discards them, for the ops API."""

    def __init__(
        self,
        *,
        service: str,
        app: ServiceApplication,
        handlers: Mapping[type[IntegrationEvent], Handler],
        store: ParkedStore | None = None,
    ) -> None:
        self.service = service
        self.app = app
        self.handlers = handlers
        self._store = store

    @property
    def store(self) -> ParkedStore:
        """The parked_messages table in the service's database (opened on first use)."""
        if self._store is None:
            self._store = ParkedStore.of(self.app)
        return self._store

    def page(
        self, *, status: ParkedStatus | None, topic: str | None, limit: int, offset: int
    ) -> tuple[list[ParkedMessage], int]:
        """A page of parked messages, oldest first, and how many match."""
        return self.store.page(status=status, topic=topic, limit=limit, offset=offset)

    def get(self, message_id: int) -> ParkedMessage:
        """One parked message; ParkedNotFoundError if there is none with this id."""
        message = self.store.get(message_id)
        if message is None:
            raise ParkedNotFoundError(f"no parked message {message_id} in {self.service}")
        return message

    def replay(self, message_id: int, *, by: str) -> ParkedMessage:
        """Apply a parked message with the service's current codec and handlers, exactly once.

        Its effects commit with a tracking row of its own; a second replay (or one after a
        crash before the status was recorded) finds that row and applies nothing.
        """
        message = self.get(message_id)
        if message.status is ParkedStatus.REPLAYED:
            return message
        if message.status is ParkedStatus.DISCARDED:
            raise ParkedResolvedError(
                f"message {message_id} was discarded by {message.resolved_by}: {message.resolution}"
            )
        envelope = self._decode(message)
        handler = self.handlers.get(type(envelope.event))
        if handler is None:
            raise ReplayFailedError(
                f"{self.service} does not handle {envelope.event.event_type()}; discard it"
            )
        self._apply_once(envelope, handler, Tracking(message.replay_tracking, envelope.position))
        self.store.resolve(
            message_id,
            ParkedStatus.REPLAYED,
            by=by,
            resolution=None,
            # A discard that slipped in while it was applied loses: the record tells the truth.
            only_from=(ParkedStatus.PARKED, ParkedStatus.DISCARDED),
        )
        log.info("parked message replayed", parked_id=message_id, by=by, topic=message.topic)
        return self.get(message_id)

    def discard(self, message_id: int, *, by: str, reason: str) -> ParkedMessage:
        """Record that a parked message will not be applied, by whom and why."""
        message = self.get(message_id)
        if message.status is ParkedStatus.DISCARDED:
            return message
        changed = self.store.resolve(
            message_id,
            ParkedStatus.DISCARDED,
            by=by,
            resolution=reason,
            only_from=(ParkedStatus.PARKED,),
        )
        if not changed:
            raise ParkedResolvedError(f"message {message_id} was replayed already")
        log.warning("parked message discarded", parked_id=message_id, by=by, reason=reason)
        return self.get(message_id)

    def _decode(self, message: ParkedMessage) -> Envelope:
        try:
            return decode(message.headers, message.key, message.value, tolerant=True)
        except DecodeError as error:
            raise ReplayFailedError(f"still undecodable: {error}") from None

    def _apply_once(self, envelope: Envelope, handler: Handler, tracking: Tracking) -> None:
        """Apply with the tracking row; a conflict is retried, an applied row ends it."""
        recorder = self.app.process_recorder
        for attempt in range(MAX_CONFLICT_RETRIES):
            applied = recorder.max_tracking_id(tracking.application_name) or 0
            if applied >= tracking.notification_id:
                return  # replayed before: nothing to do
            uow = UnitOfWork(self.app, tracking)
            try:
                apply_envelope(self.app, handler, envelope, uow)
                uow.commit()
                return
            except IntegrityError:
                uow.evict()
                time.sleep(conflict_pause(attempt))  # a concurrent writer, or replay, won
            except Exception as error:
                uow.evict()
                if is_transient(error):
                    raise ReplayUnavailableError(f"try again: {error}") from error
                raise ReplayFailedError(f"{type(error).__name__}: {error}") from error
        raise ReplayFailedError(f"{MAX_CONFLICT_RETRIES} conflicts in a row; try again")


# -- the ops API every service serves ----------------------------------------------------


class ParkedSummary(BaseModel):
    """A parked message in a list: where it came from, why it was parked, what became of it."""

    id: int
    topic: str
    partition: int
    offset: int
    source: str | None
    position: int | None
    event_type: str | None
    key: str | None
    reason: str
    parked_at: datetime
    status: ParkedStatus
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None = Field(description="Why it was discarded.")

    @classmethod
    def of(cls, message: ParkedMessage) -> ParkedSummary:
        """The summary of a stored message."""
        return cls(
            id=message.id,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            source=message.source,
            position=message.position,
            event_type=message.event_type,
            key=_text(message.key),
            reason=message.reason,
            parked_at=message.parked_at,
            status=message.status,
            resolved_at=message.resolved_at,
            resolved_by=message.resolved_by,
            resolution=message.resolution,
        )


class ParkedPublic(ParkedSummary):
    """A parked message whole: its headers and value as they came off the broker."""

    headers: dict[str, str]
    value: str = Field(description="The payload as UTF-8, or base64 if it is not text.")
    value_encoding: str = Field(description="utf-8 or base64.")

    @classmethod
    def whole(cls, message: ParkedMessage) -> ParkedPublic:
        """The whole message."""
        try:
            value, encoding = message.value.decode(), "utf-8"
        except UnicodeDecodeError:
            value, encoding = base64.b64encode(message.value).decode(), "base64"
        return cls(
            **ParkedSummary.of(message).model_dump(),
            headers={name: _text(raw) or "" for name, raw in message.headers},
            value=value,
            value_encoding=encoding,
        )


class ParkedPage(Page[ParkedSummary]):
    """A page of parked messages."""


class Replay(BaseModel):
    """Who replays a parked message."""

    by: str = Field(min_length=1, max_length=200, description="The operator, for the record.")


class Discard(BaseModel):
    """Who discards a parked message, and why."""

    by: str = Field(min_length=1, max_length=200, description="The operator, for the record.")
    reason: str = Field(min_length=1, max_length=2000)


OfficeDep = Annotated[DeadLetterOffice, provide(DeadLetterOffice)]
PageDep = Annotated[PageQuery, page_query(default=50, maximum=500)]
MessageId = Annotated[int, Path(ge=1, le=MAX_ID, description="The parked message's id.")]
router = APIRouter(prefix="/dlq", tags=["dead letters"])
PARKED_OPERATIONS = (
    "GET /v1/dlq/{message_id}",
    "POST /v1/dlq/{message_id}/replay",
    "POST /v1/dlq/{message_id}/discard",
)


@router.get(
    "",
    response_model=ParkedPage,
    responses=links(200, *PARKED_OPERATIONS, message_id="/data/0/id"),
)
def list_parked(
    office: OfficeDep,
    *,
    status: ParkedStatus | None = None,
    topic: Annotated[str | None, Query(max_length=255)] = None,
    page: PageDep,
) -> ParkedPage:
    """Messages this service's consumer parked, oldest first, by status and topic."""
    rows, total = office.page(status=status, topic=topic, limit=page.limit, offset=page.offset)
    return ParkedPage.of([ParkedSummary.of(row) for row in rows], total, page)


@router.get("/{message_id}", response_model=ParkedPublic)
def show_parked(message_id: MessageId, office: OfficeDep) -> ParkedPublic:
    """One parked message with its headers and payload."""
    return ParkedPublic.whole(office.get(message_id))


@router.post("/{message_id}/replay", response_model=ParkedPublic, responses=problems(409, 503))
def replay_parked(message_id: MessageId, body: Replay, office: OfficeDep) -> ParkedPublic:
    """Apply a parked message with the service's current handlers, exactly once."""
    return ParkedPublic.whole(office.replay(message_id, by=body.by))


@router.post("/{message_id}/discard", response_model=ParkedPublic, responses=problems(409))
def discard_parked(message_id: MessageId, body: Discard, office: OfficeDep) -> ParkedPublic:
    """Record that a parked message will not be applied, by whom and why."""
    return ParkedPublic.whole(office.discard(message_id, by=body.by, reason=body.reason))


ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    ParkedNotFoundError: (404, "Parked message not found"),
    ParkedResolvedError: (409, "Parked message resolved"),
    ReplayFailedError: (409, "Replay failed"),
    ReplayUnavailableError: (503, "Replay unavailable"),
}


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode(errors="replace")
