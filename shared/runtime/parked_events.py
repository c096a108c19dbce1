"""Stored events a worker could not handle, parked with the reason instead of crashing the service.

A stored event that the relay cannot map or a projection cannot apply is deterministic: a
restart meets it again. So it is parked in the service's own database (which notification,
which worker, why), counted, logged once and raised on /readyz until ops decide; the API and
the other workers keep running. What the worker does next is its own policy (the relay waits
at it, a projection moves past it): see docs/architecture.md, "Delivery guarantees".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import Notification
from psycopg.rows import class_row, tuple_row

from shared.runtime.metrics import PARKED, PARKED_OPEN

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]
SKIPPED = "skipped"  # an ops decision: this event is never handled by this worker
log = structlog.get_logger()

CREATE = """
CREATE TABLE IF NOT EXISTS parked_events (
    worker text NOT NULL,
    notification_id bigint NOT NULL,
    event_topic text NOT NULL,
    originator_id text NOT NULL,
    originator_version bigint NOT NULL,
    reason text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolution text,
    PRIMARY KEY (worker, notification_id)
)"""
# A new row, or one that was handled since and fails again; an open or skipped one stays.
_PARK = """
INSERT INTO parked_events AS p
    (worker, notification_id, event_topic, originator_id, originator_version, reason)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (worker, notification_id) DO UPDATE
    SET reason = EXCLUDED.reason, parked_at = now(), resolved_at = NULL, resolution = NULL
    WHERE p.resolved_at IS NOT NULL AND p.resolution <> 'skipped'
RETURNING notification_id"""
_COLUMNS = (
    "worker, notification_id, event_topic, originator_id, originator_version, reason,"
    " parked_at, resolved_at, resolution"
)


@dataclass(frozen=True)
class ParkedEvent:
    """One parked stored event: the record of what a worker did not handle, and why."""

    worker: str
    notification_id: int
    event_topic: str
    originator_id: str
    originator_version: int
    reason: str
    parked_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None  # "skipped" (ops), or how it was handled after all


def reason_of(error: BaseException) -> str:
    """The reason stored with a parked event: the error's type and message, bounded."""
    return f"{type(error).__name__}: {error}"[:4000]


def create_table(connect: Connect) -> None:
    """Create the table (two instances starting at once may race: the loser finds it)."""
    with suppress(psycopg.errors.UniqueViolation), connect() as conn:
        conn.execute(CREATE)


def park_with(
    curs: psycopg.Cursor[Any], worker: str, notification: Notification, reason: str
) -> bool:
    """Park a stored event on the caller's transaction; True if it is newly parked."""
    curs.execute(
        _PARK,
        (
            worker,
            notification.id,
            notification.topic,
            str(notification.originator_id),
            notification.originator_version,
            reason,
        ),
    )
    return curs.fetchone() is not None


def resolve_with(
    curs: psycopg.Cursor[Any], worker: str, notification_ids: list[int], resolution: str
) -> None:
    """Close open rows on the caller's transaction: the events were handled after all."""
    curs.execute(
        "UPDATE parked_events SET resolved_at = now(), resolution = %s"
        " WHERE worker = %s AND notification_id = ANY(%s) AND resolved_at IS NULL",
        (resolution, worker, notification_ids),
    )


class ParkedEvents:
    """The parked events of one worker, and what this process knows of the open ones.

    `open` is read at start and re-read every `check_every` seconds while it is not empty, so
    an ops decision clears the alarm within seconds; it costs nothing while nothing is parked.
    """

    def __init__(self, connect: Connect, worker: str, check_every: float = 5.0) -> None:
        self.connect = connect
        self.worker = worker
        self.check_every = check_every
        self.open: set[int] = set()
        self._loaded = False
        self._next_check = 0.0

    def load(self) -> None:
        """Read the open parked events once (at the worker's start); warns about each."""
        if self._loaded:
            return
        self.refresh()
        self._loaded = True
        for event in self.list(only_open=True):
            log.warning(
                "stored event still parked, waiting for an ops decision",
                worker=self.worker,
                notification_id=event.notification_id,
                event_topic=event.event_topic,
                reason=event.reason,
            )

    def refresh(self) -> None:
        """Re-read which parked events are still open."""
        with self.connect() as conn, conn.cursor(row_factory=tuple_row) as curs:
            rows = curs.execute(
                "SELECT notification_id FROM parked_events"
                " WHERE worker = %s AND resolved_at IS NULL",
                (self.worker,),
            ).fetchall()
        self.open = {int(row[0]) for row in rows}
        self._next_check = time.monotonic() + self.check_every
        PARKED_OPEN.labels(self.worker).set(len(self.open))

    def refresh_if_due(self) -> None:
        """Re-read the open ones when some are open and the last look is old enough."""
        if self.open and time.monotonic() >= self._next_check:
            self.refresh()

    def park(self, notification: Notification, error: BaseException) -> ParkedEvent:
        """Park a stored event (its own transaction); returns its row, maybe skipped by ops."""
        reason = reason_of(error)
        with self.connect() as conn, conn.cursor() as curs:
            newly = park_with(curs, self.worker, notification, reason)
        if newly:
            self.parked(notification, reason)
        event = self.get(notification.id)
        assert event is not None
        if event.resolved_at is None:
            self.open.add(notification.id)
        else:
            self.open.discard(notification.id)
        PARKED_OPEN.labels(self.worker).set(len(self.open))
        return event

    def parked(self, notification: Notification, reason: str) -> None:
        """Count and log, once, a stored event newly parked."""
        PARKED.labels(self.worker).inc()
        self.open.add(notification.id)
        PARKED_OPEN.labels(self.worker).set(len(self.open))
        log.error(
            "stored event parked",
            worker=self.worker,
            notification_id=notification.id,
            event_topic=notification.topic,
            originator_id=str(notification.originator_id),
            reason=reason,
        )

    def resolve(self, notification_ids: Iterable[int], resolution: str) -> None:
        """Close the open rows of events that were handled after all (a fix, a rebuild)."""
        ids = sorted(set(notification_ids) & self.open)
        if ids:
            with self.connect() as conn, conn.cursor() as curs:
                resolve_with(curs, self.worker, ids, resolution)
            self.closed(ids)

    def closed(self, notification_ids: list[int]) -> None:
        """Forget open events whose rows were closed (on the caller's committed transaction)."""
        if notification_ids:
            self.open -= set(notification_ids)
            PARKED_OPEN.labels(self.worker).set(len(self.open))
            log.info(
                "parked events handled after all",
                worker=self.worker,
                notification_ids=notification_ids,
            )

    def skip(self, notification_id: int) -> bool:
        """Ops decide this event is never handled by this worker; False if it was not open."""
        with self.connect() as conn:
            done = conn.execute(
                "UPDATE parked_events SET resolved_at = now(), resolution = %s"
                " WHERE worker = %s AND notification_id = %s AND resolved_at IS NULL",
                (SKIPPED, self.worker, notification_id),
            ).rowcount
        return bool(done)

    def get(self, notification_id: int) -> ParkedEvent | None:
        """One parked event of this worker, open or not."""
        with self.connect() as conn, conn.cursor(row_factory=class_row(ParkedEvent)) as curs:
            curs.execute(
                f"SELECT {_COLUMNS} FROM parked_events WHERE worker = %s AND notification_id = %s",
                (self.worker, notification_id),
            )
            return curs.fetchone()

    def list(self, *, only_open: bool = False) -> list[ParkedEvent]:
        """This worker's parked events, oldest first."""
        where = " AND resolved_at IS NULL" if only_open else ""
        with self.connect() as conn, conn.cursor(row_factory=class_row(ParkedEvent)) as curs:
            curs.execute(
                f"SELECT {_COLUMNS} FROM parked_events WHERE worker = %s{where}"
                " ORDER BY notification_id",
                (self.worker,),
            )
            return curs.fetchall()
