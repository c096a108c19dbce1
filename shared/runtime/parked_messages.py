"""Parked messages: what a consumer could not apply, kept in the service's own PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiokafka import ConsumerRecord
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import sql

from shared.events.codec import DecodeError, peek
from shared.runtime.application import ServiceApplication

TABLE = "parked_messages"
MAX_REASON = 8000  # a stack of wrapped errors can be long; the row stays readable
_CREATE = """
CREATE TABLE IF NOT EXISTS {table} (
    id bigserial PRIMARY KEY,
    fingerprint text NOT NULL UNIQUE,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    source text,
    position bigint,
    event_type text,
    key bytea,
    value bytea NOT NULL,
    header_names text[] NOT NULL,
    header_values bytea[] NOT NULL,
    reason text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'parked'
        CHECK (status IN ('parked', 'replayed', 'discarded')),
    resolved_at timestamptz,
    resolved_by text,
    resolution text
);
CREATE INDEX IF NOT EXISTS {status_index} ON {table} (status, id);
"""
_COLUMNS = (
    'fingerprint, topic, partition, "offset", source, position, event_type, key, value,'
    " header_names, header_values, reason"
)


class ParkedStatus(StrEnum):
    """Where a parked message stands: waiting for an operator, replayed, or discarded."""

    PARKED = "parked"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


@dataclass(frozen=True)
class Parking:
    """A message about to be parked: the record as it came off the broker, and why."""

    fingerprint: str
    topic: str
    partition: int
    offset: int
    source: str | None
    position: int | None
    event_type: str | None
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    reason: str

    @classmethod
    def of(cls, record: ConsumerRecord, reason: str, *, in_chain: bool) -> Parking:
        """What to park of a record; `in_chain`: its position is tracked (parked in its place).

        A message in the chain is identified by its publisher's position, so a re-read or a
        republish parks it once; one whose headers could not be trusted by its bytes.
        """
        headers = [(name, bytes(value)) for name, value in record.headers or []]
        value = bytes(record.value or b"")
        try:
            header = peek(headers)
            source, position, event_type = (
                header.source_service,
                header.position,
                header.event_type,
            )
        except DecodeError:
            source, position, event_type = None, None, None
        if in_chain and source is not None and position is not None:
            fingerprint = f"{source}#{record.partition}@{position}"
        else:
            digest = hashlib.sha256(repr((record.key, value, headers)).encode()).hexdigest()
            fingerprint = f"{record.topic}#{record.partition}:{record.offset}:{digest[:16]}"
        return cls(
            fingerprint=fingerprint,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            source=source,
            position=position,
            event_type=event_type,
            key=None if record.key is None else bytes(record.key),
            value=value,
            headers=headers,
            reason=reason[:MAX_REASON],
        )


@dataclass(frozen=True)
class ParkedMessage:
    """A parked message as stored, with what became of it."""

    id: int
    fingerprint: str
    topic: str
    partition: int
    offset: int
    source: str | None
    position: int | None
    event_type: str | None
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    reason: str
    parked_at: datetime
    status: ParkedStatus
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None

    @property
    def replay_tracking(self) -> str:
        """The tracking row of its replay: one per message, so a second replay is a no-op.

        Not the partition's own row, which tracked past it when it was parked, and not one
        row per partition: eventsourcing keeps only the highest position of a row, and parked
        messages are replayed in any order.
        """
        return f"parked:{self.fingerprint}"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ParkedMessage:
        """The message of a table row."""
        names, values = row.pop("header_names"), row.pop("header_values")
        return cls(
            **{
                **row,
                "key": None if row["key"] is None else bytes(row["key"]),
                "value": bytes(row["value"]),
                "status": ParkedStatus(row["status"]),
            },
            headers=[(n, bytes(v)) for n, v in zip(names, values, strict=True)],
        )


class ParkedStore:
    """The parked_messages table, next to the service's event store (one database)."""

    def __init__(self, recorder: PostgresProcessRecorder) -> None:
        self.recorder = recorder
        self.datastore: PostgresDatastore = recorder.datastore
        self.table = sql.Identifier(self.datastore.schema, TABLE)
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def of(cls, app: ServiceApplication) -> ParkedStore:
        """The store in the application's database."""
        recorder = app.recorder
        if not isinstance(recorder, PostgresProcessRecorder):
            raise TypeError(f"{type(recorder).__name__} cannot park messages: needs PostgreSQL")
        return cls(recorder)

    def ensure(self) -> None:
        """Create the table if missing (once per process; at start-up, before any failover)."""
        with self._lock:
            if self._ready:
                return
            statement = sql.SQL(_CREATE).format(
                table=self.table, status_index=sql.Identifier(f"{TABLE}_status")
            )
            with self.datastore.transaction(commit=True) as curs:
                # Two instances starting together must not race on CREATE TABLE.
                curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
                curs.execute(statement)
            self._ready = True

    def park(self, parking: Parking, tracking: Tracking | None = None) -> int | None:
        """Store the message (and, for one in the chain, its partition's tracking position) in
        one transaction; the new row's id, or None when it was parked before."""
        self.ensure()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL(
                    "INSERT INTO {table} (" + _COLUMNS + ") VALUES "
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (fingerprint) DO NOTHING RETURNING id"
                ).format(table=self.table),
                (
                    parking.fingerprint,
                    parking.topic,
                    parking.partition,
                    parking.offset,
                    parking.source,
                    parking.position,
                    parking.event_type,
                    parking.key,
                    parking.value,
                    [name for name, _ in parking.headers],
                    [value for _, value in parking.headers],
                    parking.reason,
                ),
            )
            row = curs.fetchone()
            if tracking is not None:
                # Raises IntegrityError (rolling the row back too) if a concurrent consumer
                # tracked past it: the caller re-reads the position.
                self.recorder._insert_tracking(curs, tracking)
        return None if row is None else int(row["id"])

    def is_parked(self, fingerprint: str) -> bool:
        """Whether a message with this fingerprint was parked already."""
        self.ensure()
        with self.datastore.transaction() as curs:
            curs.execute(
                sql.SQL("SELECT 1 FROM {table} WHERE fingerprint = %s").format(table=self.table),
                (fingerprint,),
            )
            return curs.fetchone() is not None

    def get(self, message_id: int) -> ParkedMessage | None:
        """One parked message, or None."""
        self.ensure()
        with self.datastore.transaction() as curs:
            curs.execute(
                sql.SQL("SELECT * FROM {table} WHERE id = %s").format(table=self.table),
                (message_id,),
            )
            row = curs.fetchone()
        return None if row is None else ParkedMessage.from_row(dict(row))

    def page(
        self,
        *,
        status: ParkedStatus | None,
        topic: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[ParkedMessage], int]:
        """Parked messages, oldest first, filtered by status and topic; and how many match."""
        self.ensure()
        where = sql.SQL(" AND ").join(
            [
                sql.SQL("TRUE"),
                *([sql.SQL("status = %(status)s")] if status else []),
                *([sql.SQL("topic = %(topic)s")] if topic else []),
            ]
        )
        params = {"status": status, "topic": topic, "limit": limit, "offset": offset}
        with self.datastore.transaction() as curs:
            curs.execute(
                sql.SQL("SELECT count(*) AS n FROM {table} WHERE {where}").format(
                    table=self.table, where=where
                ),
                params,
            )
            counted = curs.fetchone()
            curs.execute(
                sql.SQL(
                    "SELECT * FROM {table} WHERE {where} ORDER BY id"
                    " LIMIT %(limit)s OFFSET %(offset)s"
                ).format(table=self.table, where=where),
                params,
            )
            rows = curs.fetchall()
        total = int(counted["n"]) if counted else 0
        return [ParkedMessage.from_row(dict(row)) for row in rows], total

    def resolve(
        self,
        message_id: int,
        status: ParkedStatus,
        *,
        by: str,
        resolution: str | None,
        only_from: tuple[ParkedStatus, ...],
    ) -> bool:
        """Record what became of a message if it stands at one of `only_from`; whether it did."""
        self.ensure()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL(
                    "UPDATE {table} SET status = %s, resolved_at = now(), resolved_by = %s,"
                    " resolution = %s WHERE id = %s AND status = ANY(%s) RETURNING id"
                ).format(table=self.table),
                (status, by, resolution, message_id, [str(s) for s in only_from]),
            )
            return curs.fetchone() is not None
