"""Read-model projections: stored events -> view rows, tracked in the same transaction."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composed
from psycopg.types.json import Jsonb

from shared.runtime.application import ServiceApplication
from shared.runtime.backoff import retry_transient
from shared.runtime.leader import Leadership
from shared.runtime.metrics import PROJECTION_LAG
from shared.runtime.wakeup import wait_for_work

Project = Callable[[Cursor[Any], Any], None]


def jsonb(value: Any) -> Jsonb:
    """A JSONB parameter; UUIDs, decimals and times become strings."""
    return Jsonb(value, dumps=lambda v: json.dumps(v, default=str))


class ViewStore(PostgresTrackingRecorder):
    """Base of every service's views: view tables plus a tracking row per projection."""

    tables: tuple[str, ...] = ()  # CREATE TABLE statements of the view

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(Composed([SQL(s)]) for s in self.tables)

    def page(
        self, table: str, *, order_by: str, limit: int, offset: int, **equals: Any
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of rows matching the given column values, and how many match in total.

        Table, order and column names are the view's own constants; only values come from callers.
        """
        params = {column: value for column, value in equals.items() if value is not None}
        where = " AND ".join(f"{column} = %({column})s" for column in params) or "TRUE"
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(f"SELECT count(*) AS n FROM {table} WHERE {where}", params)
            counted = curs.fetchone()
            total = counted["n"] if counted else 0
            curs.execute(
                f"SELECT * FROM {table} WHERE {where} ORDER BY {order_by}"
                " LIMIT %(limit)s OFFSET %(offset)s",
                {**params, "limit": limit, "offset": offset},
            )
            return [dict(row) for row in curs.fetchall()], total

    def reset(self, projection_name: str, truncate: tuple[str, ...]) -> None:
        """Empty the view and its tracking so it is rebuilt from the event log."""
        with self.datastore.transaction(commit=True) as curs:
            for table in truncate:
                curs.execute(f"TRUNCATE {table}")  # names are the view's own constants
            curs.execute(
                f"DELETE FROM {self.tracking_table_name} WHERE application_name = %s",
                (projection_name,),
            )


class ProjectionWorker:
    """Keeps one view up to date with an application's notification log, in batches."""

    def __init__(
        self,
        *,
        name: str,
        app: ServiceApplication,
        view: ViewStore,
        project: Project,
        batch_size: int = 500,
    ) -> None:
        self.name = name
        self.app = app
        self.view = view
        self.project = project
        self.batch_size = batch_size

    async def run(
        self,
        stop: asyncio.Event,
        wakeup: asyncio.Event | None = None,
        fence: Leadership | None = None,
    ) -> None:
        """Project until stopped; sleeps until woken by new events (or polls every 50 ms)."""
        while not stop.is_set():
            if wakeup is not None:
                wakeup.clear()  # before reading, so a notify during the read is not lost
            done = await retry_transient(
                f"projection:{self.name}", partial(asyncio.to_thread, self.process_batch, fence)
            )
            if not done:
                await wait_for_work(wakeup, stop, idle=1.0 if wakeup else 0.05)

    def process_batch(self, fence: Leadership | None = None) -> int:
        """Apply the next batch of events to the view; returns how many were applied.

        With a fence, a batch is committed only while we lead (else LeadershipLost).
        """
        position = self.view.max_tracking_id(self.name) or 0
        notifications = self.app.recorder.select_notifications(position + 1, self.batch_size)
        if notifications:
            with self.view.datastore.transaction(commit=True) as curs:
                if fence is not None:
                    fence.verify(curs.connection)
                # Pipeline mode: the batch's statements go out without a round trip each.
                # The tracking row is written after the pipeline synced, because its upsert
                # reads its own result back.
                with curs.connection.pipeline():
                    for notification in notifications:
                        self.project(curs, self.app.mapper.to_domain_event(notification))
                self.view._insert_tracking(curs, Tracking(self.name, notifications[-1].id))
        caught_up = len(notifications) < self.batch_size
        PROJECTION_LAG.labels(self.name).set(0 if caught_up else self.lag())
        return len(notifications)

    def lag(self) -> int:
        """How many stored events are not yet in the view."""
        last = self.app.recorder.max_notification_id() or 0
        return max(0, last - (self.view.max_tracking_id(self.name) or 0))

    def catch_up(self) -> None:
        """Project everything stored so far (used by rebuilds and tests)."""
        while self.process_batch():
            pass
