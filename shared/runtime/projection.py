"""Read-model projections: stored events -> view rows, tracked in the same transaction."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composed, Identifier
from psycopg.types.json import Jsonb

from shared.runtime import parked_events as parking
from shared.runtime.application import ServiceApplication
from shared.runtime.backoff import TRANSIENT_ERRORS, retry_transient
from shared.runtime.leader import Leadership, LeadershipLost
from shared.runtime.metrics import PROJECTION_LAG
from shared.runtime.parked_events import ParkedEvents, park_with, reason_of, resolve_with
from shared.runtime.wakeup import wait_for_work

Project = Callable[[Cursor[Any], Any], None]
# Failures that are no stored event's fault: retried or handed up, never parked.
NOT_THE_EVENTS_FAULT: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, LeadershipLost)
# Which version of its view each projection last built: an older one is rebuilt from the log.
_CREATE_VERSIONS = """CREATE TABLE IF NOT EXISTS view_versions (
    projection text PRIMARY KEY,
    version integer NOT NULL
)"""


# Compare and set: the view's position moves on only from where this batch read it.
_MOVE_TRACKING = SQL(
    "INSERT INTO {0}.{1} (application_name, notification_id) VALUES (%s, %s)"
    " ON CONFLICT (application_name) DO UPDATE SET notification_id = EXCLUDED.notification_id"
    " WHERE {0}.{1}.notification_id = %s RETURNING notification_id"
)


class ProjectedMeanwhile(IntegrityError):
    """Another transaction moved the view's position since this batch read it."""


# Not a fault of the batch's events: raised as they are, never parked.
NOT_PARKED: tuple[type[BaseException], ...] = (*NOT_THE_EVENTS_FAULT, ProjectedMeanwhile)


def jsonb(value: Any) -> Jsonb:
    """A JSONB parameter; UUIDs, decimals and times become strings."""
    return Jsonb(value, dumps=lambda v: json.dumps(v, default=str))


class ViewStore(PostgresTrackingRecorder):
    """Base of every service's views: view tables plus a tracking row per projection."""

    tables: tuple[str, ...] = ()  # CREATE TABLE statements of the view
    # Bumped when rows already built lack something only the events can give (a column a
    # handler fills): the projection empties the view and rebuilds it from the log once.
    version: int = 0
    rebuilt_tables: tuple[str, ...] = ()  # what that rebuild empties

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(Composed([SQL(s)]) for s in self.tables)
        self.sql_create_statements.append(Composed([SQL(parking.CREATE)]))
        self.sql_create_statements.append(Composed([SQL(_CREATE_VERSIONS)]))

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
            self._empty(curs, projection_name, truncate)

    def _empty(self, curs: Cursor[Any], projection_name: str, truncate: tuple[str, ...]) -> None:
        for table in truncate:
            curs.execute(f"TRUNCATE {table}")  # names are the view's own constants
        curs.execute(
            f"DELETE FROM {self.tracking_table_name} WHERE application_name = %s",
            (projection_name,),
        )

    def rebuild_if_older(self, projection_name: str, fence: Leadership | None = None) -> bool:
        """Empty the view for a rebuild from the log if an older `version` built it (a view
        from before versions counts as 0); True if it did. Fenced like a batch."""
        with self.datastore.transaction(commit=True) as curs:
            if fence is not None:
                fence.verify(curs.connection)
            # The row lock makes a second instance wait here, then find the version current.
            curs.execute(
                "INSERT INTO view_versions VALUES (%s, 0) ON CONFLICT (projection) DO NOTHING",
                (projection_name,),
            )
            curs.execute(
                "SELECT version FROM view_versions WHERE projection = %s FOR UPDATE",
                (projection_name,),
            )
            row = curs.fetchone()
            built = row["version"] if row else 0
            if built >= self.version:
                return False
            self._empty(curs, projection_name, self.rebuilt_tables)
            curs.execute(
                "UPDATE view_versions SET version = %s WHERE projection = %s",
                (self.version, projection_name),
            )
            return True


class ProjectionWorker:
    """Keeps one view up to date with an application's notification log, in batches.

    A stored event the view cannot take (its handler raises, it has no handler, it does not
    load) is parked in the transaction that moves the view's tracking past it, and the view
    goes on with the events after it: a view is derived, so one aggregate's row lacking an
    event is better than every row going stale, and /readyz says so until ops decide. The
    exact replay is a rebuild of the view after the fix (it projects the event in its place
    and closes the parked row); ops may instead skip it (see shared/runtime/parking.py).
    """

    def __init__(
        self,
        *,
        name: str,
        app: ServiceApplication,
        view: ViewStore,
        project: Project,
        batch_size: int = 500,
        parked_check: float = 5.0,
    ) -> None:
        self.name = name
        self.app = app
        self.view = view
        self.project = project
        self.batch_size = batch_size
        worker = f"projection:{name}"
        self.parking = ParkedEvents(view.datastore.get_connection, worker, parked_check)

    async def run(
        self,
        stop: asyncio.Event,
        wakeup: asyncio.Event | None = None,
        fence: Leadership | None = None,
    ) -> None:
        """Project until stopped; sleeps until woken by new events (or polls every 50 ms)."""
        await retry_transient(
            f"projection:{self.name}",
            partial(asyncio.to_thread, self.view.rebuild_if_older, self.name, fence),
        )
        while not stop.is_set():
            if wakeup is not None:
                wakeup.clear()  # before reading, so a notify during the read is not lost
            done = await retry_transient(
                f"projection:{self.name}", partial(asyncio.to_thread, self.process_batch, fence)
            )
            if not done or (wakeup is not None and done < self.batch_size):
                # A short batch was everything there was: no read to confirm it (the wakeup
                # is set again if events came meanwhile).
                await wait_for_work(wakeup, stop, idle=1.0 if wakeup else 0.05)

    def process_batch(self, fence: Leadership | None = None) -> int:
        """Apply the next batch of events to the view; returns how many were applied.

        With a fence, a batch is committed only while we lead (else LeadershipLost).
        """
        self.parking.load()
        self.parking.refresh_if_due()
        # Read every time, not kept in memory: a view reset behind the worker's back (a
        # rebuild by hand) must be seen by the next batch.
        position = self.view.max_tracking_id(self.name) or 0
        notifications = self.app.recorder.select_notifications(position + 1, self.batch_size)
        if notifications:
            try:
                self._project_batch(notifications, fence, position)
            except ProjectedMeanwhile:
                return 0  # nothing of this batch projected: the next one reads the position again
        caught_up = len(notifications) < self.batch_size
        PROJECTION_LAG.labels(self.name).set(0 if caught_up else self.lag())
        return len(notifications)

    def _project_batch(
        self, notifications: Sequence[Notification], fence: Leadership | None, position: int
    ) -> None:
        try:
            self._project_together(notifications, fence, position)
        except NOT_PARKED:
            raise
        except Exception:
            # One bad stored event must not stop the view: find it, park it, go on.
            self._project_one_by_one(notifications, fence, position)

    def _project_together(
        self, notifications: Sequence[Notification], fence: Leadership | None, position: int
    ) -> None:
        with self.view.datastore.transaction(commit=True) as curs:
            if fence is not None:
                fence.verify(curs.connection)
            # Pipeline mode: the batch's statements go out without a round trip each.
            # The tracking row is written after the pipeline synced, because its upsert
            # reads its own result back.
            with curs.connection.pipeline():
                for notification in notifications:
                    self.project(curs, self.app.mapper.to_domain_event(notification))
            again = self._track(curs, notifications, position, failed=set())
        self.parking.closed(again)

    def _project_one_by_one(
        self, notifications: Sequence[Notification], fence: Leadership | None, position: int
    ) -> None:
        """Project each event in a savepoint; park those that fail, in the same transaction."""
        failed: dict[int, str] = {}
        newly: list[Notification] = []
        with self.view.datastore.transaction(commit=True) as curs:
            if fence is not None:
                fence.verify(curs.connection)
            for notification in notifications:
                try:
                    with curs.connection.transaction():  # a failed event leaves no rows behind
                        self.project(curs, self.app.mapper.to_domain_event(notification))
                except NOT_THE_EVENTS_FAULT:
                    raise
                except Exception as error:
                    failed[notification.id] = reason_of(error)
                    if park_with(curs, self.parking.worker, notification, failed[notification.id]):
                        newly.append(notification)
            again = self._track(curs, notifications, position, failed=set(failed))
        self.parking.closed(again)
        for notification in newly:
            self.parking.parked(notification, failed[notification.id])

    def _track(
        self,
        curs: Cursor[Any],
        notifications: Sequence[Notification],
        position: int,
        failed: set[int],
    ) -> list[int]:
        """Move the tracking row from `position` to the batch's end, and close parked rows of
        events projected now (a rebuild); returns the ids of those.

        Only from the position the batch was read after: the library's upsert refuses only a
        position that goes back, so a batch read before another's commit landed, and reaching
        further, projected that one's events a second time (seen in the fault run: a worker
        thread of a lost term, still running, and the next term's worker each added a refund
        to the order's total)."""
        again = [n.id for n in notifications if n.id in self.parking.open and n.id not in failed]
        if again:
            resolve_with(curs, self.parking.worker, again, "projected")
        moved = curs.execute(
            _MOVE_TRACKING.format(
                Identifier(self.view.datastore.schema), Identifier(self.view.tracking_table_name)
            ),
            (self.name, notifications[-1].id, position),
        ).fetchone()
        if moved is None:
            raise ProjectedMeanwhile(f"{self.name}: moved past {position} meanwhile")
        return again

    def lag(self) -> int:
        """How many stored events are not yet in the view."""
        last = self.app.recorder.max_notification_id() or 0
        return max(0, last - (self.view.max_tracking_id(self.name) or 0))

    def catch_up(self) -> None:
        """Project everything stored so far (used by rebuilds and tests)."""
        self.view.rebuild_if_older(self.name)
        while self.process_batch():
            pass
