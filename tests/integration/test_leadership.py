"""One leader at a time: a leader that lost its lock stops its works within seconds and commits
nothing more, and another instance takes over, whatever happened to the lock's connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import psycopg
import pytest

from shared.runtime.leader import Leadership, Work, lock_key
from shared.runtime.relay import RelayPositions, RelayState
from tests.blackhole import Link

pytestmark = pytest.mark.integration
NAME = "leader_test"
TIMEOUT = 2.0  # the leaders' lock timeout in these tests (the service default is 5 s)


class Instance:
    """One service instance's leadership, with a work that notes when it runs and stops."""

    def __init__(self, url: str, work: Work | None, timeout: float) -> None:
        self.leadership = Leadership(url, NAME, timeout=timeout, poll=0.2)
        self.working = asyncio.Event()
        self.stopped_at: float | None = None
        self._stop = asyncio.Event()
        works = {"work": self._noted(work or _forever)}
        self._task = asyncio.create_task(self.leadership.run(works, self._stop))

    async def close(self) -> None:
        """Stop leading; cancel a leadership that does not end within a few seconds."""
        self._stop.set()
        if not (await asyncio.wait([self._task], timeout=5))[0]:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _noted(self, work: Work) -> Work:
        async def noted(stop: asyncio.Event) -> None:
            self.working.set()
            self.stopped_at = None
            try:
                await work(stop)
            finally:
                self.working.clear()
                self.stopped_at = time.monotonic()

        return noted


Start = Callable[..., Instance]


@pytest.fixture
async def leader(new_database) -> AsyncIterator[Start]:
    """Factory: `leader(url, work=None, timeout=TIMEOUT)` starts an instance; all are closed."""
    started: list[Instance] = []

    def start(url: str, work: Work | None = None, timeout: float = TIMEOUT) -> Instance:
        started.append(Instance(url, work, timeout))
        return started[-1]

    yield start
    for instance in started:
        await instance.close()


@pytest.fixture
def database(new_database) -> Iterator[tuple[str, Link]]:
    """A fresh database, and a link to it that the test can cut."""
    url = new_database("leader")
    with Link(url) as link:
        yield url, link


async def _forever(stop: asyncio.Event) -> None:
    await stop.wait()


async def _until(check: Callable[[], bool], timeout: float) -> float:
    """Wait until `check()` holds; returns when (monotonic); fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s"
        await asyncio.sleep(0.05)
    return time.monotonic()


async def _kill_lock_session(url: str) -> None:
    """End the session that holds the lock, as an operator or a failover would."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND objid::bigint = %s AND granted",
            (lock_key(NAME),),
        )
        assert await cursor.fetchall(), "nobody held the lock"


@pytest.mark.parametrize("path", ["direct", "behind a black hole"])
async def test_a_leader_whose_lock_session_is_killed_stops_its_works_within_seconds_and_another_takes_over(  # noqa: E501
    database, leader, path
):
    url, link = database
    first = leader(link.url if path == "behind a black hole" else url)
    await _until(first.working.is_set, 10)
    second = leader(url)
    await asyncio.sleep(1)
    assert not second.working.is_set(), "two leaders at once"

    link.cut()  # the first leader never hears that its session ended (when behind it)
    killed = time.monotonic()
    await _kill_lock_session(url)

    stopped, took_over = await asyncio.gather(
        _until(lambda: first.stopped_at is not None, 15), _until(second.working.is_set, 15)
    )
    assert stopped - killed < TIMEOUT + 1.5
    assert took_over - killed < TIMEOUT + 1.5


async def test_a_leader_cut_off_from_postgresql_stops_its_works_and_the_server_frees_its_lock(
    database, leader
):
    url, link = database
    first = leader(link.url)
    await _until(first.working.is_set, 10)
    second = leader(url)

    link.cut()  # no error and no close on either end: only timeouts can tell
    cut = time.monotonic()

    stopped, took_over = await asyncio.gather(
        _until(lambda: first.stopped_at is not None, 30), _until(second.working.is_set, 30)
    )
    assert stopped - cut < TIMEOUT + 1.5
    # The server ends the silent leader's session after twice the timeout of its checks.
    assert took_over - cut < 2 * TIMEOUT + 2


async def test_a_deposed_leaders_relay_commits_nothing_once_another_leads(database, leader):
    url, link = database
    commits: list[str] = []
    opened: list[RelayPositions] = []

    def relay(who: str, fence: Callable[[], Leadership], first_position: int) -> Work:
        """A relay's commits, as fast as it can, noted as they return."""

        def advance(positions: RelayPositions, position: int) -> None:
            positions.advance(RelayState(position, {0: position}, {0: position}))
            commits.append(who)

        async def work(stop: asyncio.Event) -> None:
            positions = RelayPositions(url, "leader.test", fence=fence())
            opened.append(positions)
            position = first_position
            while not stop.is_set():
                await asyncio.to_thread(advance, positions, position)
                position += 1
                await asyncio.sleep(0.01)

        return work

    try:
        # The first leader's lock check hangs for a minute, as on a black-holed connection
        # after a failover, while its relay's own connections reach the database.
        first = leader(link.url, relay("first", lambda: first.leadership, 1), timeout=60)
        await _until(lambda: len(commits) >= 5, 10)
        second = leader(url, relay("second", lambda: second.leadership, 1_000_000))

        link.cut()
        await _kill_lock_session(url)
        await _until(lambda: "second" in commits, 10)
        before = commits.count("first")
        await asyncio.sleep(1)

        assert commits.count("first") == before, "the deposed leader kept committing"
        assert commits.count("second") > 10
        assert first.stopped_at is not None, "the deposed leader's works still run"
        assert opened[-1].read().position > 1_000_000
    finally:
        for positions in opened:
            positions.pool.close()


async def test_a_new_leader_starts_its_works_only_after_the_last_commit_of_the_one_before(
    database, leader
):
    url, _ = database
    first = leader(url)
    await _until(first.working.is_set, 10)
    second = leader(url)

    with psycopg.connect(url) as commit:  # a commit of the first leader, past the fence
        first.leadership.verify(commit)
        await _kill_lock_session(url)
        await asyncio.sleep(1)
        assert not second.working.is_set(), "a new term began before the old commit ended"
    # The commit ends (committed) here; the new term can begin.

    await _until(second.working.is_set, 5)
