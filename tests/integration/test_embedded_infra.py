"""The embedded infrastructure works: broker, topics, PostgreSQL, supervisor, the whole system."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from shared.cli.supervisor import ChildSpec, Supervisor, SupervisorRunning, reclaim_leftovers
from shared.cli.system import JOBS, PORTS, SERVICES, EmbeddedSystem, SystemStartError
from shared.events.topics import ALL_TOPICS, dlq
from shared.runtime.embedded import EmbeddedPostgres, drop_database, free_port, port_is_free
from shared.runtime.kafka_admin import ensure_topics, topic_end_offsets

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until the condition holds, or fail the test."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.05)


async def test_broker_round_trips_a_keyed_message_with_headers(broker: str) -> None:
    topic = unique("roundtrip")
    await ensure_topics(broker, [topic], partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, b'{"n": 1}', key=b"order-1", headers=[("ce_type", b"oms.Test.v1")]
        )
    finally:
        await producer.stop()

    # No group: joining one costs Tansu ~3-5 s, and groups are not what this test is about.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker, auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"order-1", b'{"n": 1}')
    assert list(record.headers) == [("ce_type", b"oms.Test.v1")]


async def test_ensure_topics_creates_topics_and_dlqs_with_the_partition_count(
    broker: str,
) -> None:
    topics = [unique("a"), unique("b")]
    await ensure_topics(broker, topics, partitions=3)
    await ensure_topics(broker, topics, partitions=3)  # existing topics are fine

    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        described = await admin.describe_topics([*topics, *map(dlq, topics)])
    finally:
        await admin.close()
    assert {d["topic"]: len(d["partitions"]) for d in described} == {
        name: 3 for name in [*topics, *map(dlq, topics)]
    }


async def test_topic_end_offsets_count_messages_per_partition(broker: str) -> None:
    topic = unique("offsets")
    await ensure_topics(broker, [topic], partitions=2)
    assert await topic_end_offsets(broker, topic) == {0: 0, 1: 0}
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        for _ in range(3):
            await producer.send_and_wait(topic, b"x", partition=1)
    finally:
        await producer.stop()
    assert await topic_end_offsets(broker, topic) == {0: 0, 1: 3}
    assert await topic_end_offsets(broker, unique("missing")) == {}


def test_embedded_postgres_starts_in_a_fresh_directory_and_answers(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    try:
        with psycopg.connect(server.url("postgres")) as conn:
            assert conn.execute("SELECT 40 + 2").fetchone() == (42,)
    finally:
        server.stop()
    assert not (tmp_path / "pg" / "postmaster.pid").exists()


def test_new_database_gives_an_empty_database_of_its_own(new_database: Callable[..., str]) -> None:
    first, second = new_database(), new_database()
    assert first != second
    with psycopg.connect(first) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
    assert name is not None and first.split("?")[0].endswith("/" + name[0])


def test_supervisor_restarts_a_crashing_child_and_stops_all(tmp_path: Path) -> None:
    crasher = ChildSpec(
        "crasher", [sys.executable, "-c", "import os; print('run', os.environ['MARK'])"],
        {"MARK": "m1"},
    )  # fmt: skip
    sleeper = ChildSpec("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"])
    supervisor = Supervisor([crasher, sleeper], tmp_path, initial_backoff=0.05, max_backoff=0.2)
    supervisor.start()
    try:
        wait_until(lambda: supervisor.restarts()["crasher"] >= 2)
        sleeper_pid = supervisor.pids()["sleeper"]
        assert sleeper_pid is not None
        assert supervisor.restarts()["sleeper"] == 0
    finally:
        supervisor.stop()
    assert supervisor.pids() == {"crasher": None, "sleeper": None}
    log = (tmp_path / "crasher.log").read_text()
    assert log.count("run m1") >= 2
    assert "exited with code 0; restart #1" in log
    assert "stopped (exit code -15)" in (tmp_path / "sleeper.log").read_text()


def test_supervisor_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = ChildSpec(
        "stubborn",
        [
            sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ok' * 2, flush=True); time.sleep(600)",
        ],
    )  # fmt: skip
    supervisor = Supervisor([stubborn], tmp_path, stop_timeout=0.5)
    supervisor.start()
    # Waits for output, not the command echoed into the log, so SIGTERM is ignored by then.
    wait_until(lambda: "\nokok\n" in (tmp_path / "stubborn.log").read_text())
    supervisor.stop()
    assert "stopped (exit code -9)" in (tmp_path / "stubborn.log").read_text()


def test_supervisor_checks_readiness_after_every_start_and_logs_the_comeback(
    tmp_path: Path,
) -> None:
    readied: list[int] = []
    server = ChildSpec(
        "server",
        [sys.executable, "-c", "import time; time.sleep(600)"],
        prepare=lambda: readied.append(0),
        ready=lambda process: readied.append(process.pid),
    )
    supervisor = Supervisor([server], tmp_path, initial_backoff=0.05)
    supervisor.start()
    try:
        first = supervisor.pids()["server"]
        assert first is not None and readied == [0, first]
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: supervisor.pids()["server"] not in (None, first))
        assert supervisor.restarts() == {"server": 1}
        assert readied == [0, first, 0, supervisor.pids()["server"]]
    finally:
        supervisor.stop()
    log = (tmp_path / "server.log").read_text()
    assert "exited with code -9; restart #1" in log and "back after restart #1" in log


def test_supervisor_retries_a_child_whose_restart_is_not_ready(tmp_path: Path) -> None:
    attempts: list[int] = []

    def ready(process: object) -> None:
        attempts.append(1)
        if len(attempts) in (2, 3):  # the first two restarts fail their check
            raise RuntimeError("not answering")

    server = ChildSpec(
        "server", [sys.executable, "-c", "import time; time.sleep(600)"], ready=ready
    )
    supervisor = Supervisor([server], tmp_path, initial_backoff=0.05)
    supervisor.start()
    try:
        first = supervisor.pids()["server"]
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(attempts) == 4 and supervisor.pids()["server"] is not None)
        assert supervisor.restarts() == {"server": 3}
    finally:
        supervisor.stop()
    log = (tmp_path / "server.log").read_text()
    assert log.count("restart failed (not answering)") == 2
    assert "back after restart #3" in log
    # A child that failed its check is not left running beside its replacement.
    assert log.count("stopped (exit code") == 1


# A supervisor of its own, in a process the test can kill: a sleeper and a child that crashes once.
SUPERVISOR = """
import pathlib, sys, time
from shared.cli.supervisor import ChildSpec, Supervisor, SupervisorRunning, reclaim_leftovers
here = pathlib.Path(sys.argv[1])
crash_once = (
    "import pathlib, sys, time; mark = pathlib.Path(sys.argv[1]); "
    "sys.exit(1) if not mark.exists() and not mark.touch() else time.sleep(600)"
)
Supervisor(
    [
        ChildSpec("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"]),
        ChildSpec("crasher", [sys.executable, "-c", crash_once, str(here / "crashed")]),
    ],
    here,
    pid_file=here / "pids.json",
    initial_backoff=0.05,
).start()
time.sleep(600)
"""


def test_children_of_a_supervisor_killed_with_sigkill_die_with_it(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(tmp_path)])
    try:
        # Restarted children too: they are started by the same supervisor thread.
        wait_until(lambda: "restart #1" in _read(tmp_path / "crasher.log"))
        wait_until(lambda: len(_recorded(tmp_path / "pids.json")) == 2)
        children = psutil.Process(process.pid).children()
        assert {c.pid for c in children} == set(_recorded(tmp_path / "pids.json").values())
    finally:
        process.kill()
        process.wait()
    _, left = psutil.wait_procs(children, timeout=5)
    assert left == []


def test_leftovers_recorded_by_a_dead_supervisor_are_killed_and_nothing_else(
    tmp_path: Path,
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    gone_created = psutil.Process(gone.pid).create_time()
    gone.wait()
    leftover = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    pid_file = tmp_path / "pids.json"
    record = {
        "supervisor": {"pid": gone.pid, "created": gone_created},
        "children": {
            "leftover": {
                "pid": leftover.pid,
                "created": psutil.Process(leftover.pid).create_time(),
            },
            # A pid used again by another process since: not ours to kill.
            "reused": {"pid": os.getpid(), "created": 1.0},
        },
    }
    pid_file.write_text(json.dumps(record))
    try:
        process = psutil.Process(leftover.pid)
        assert reclaim_leftovers(pid_file) == ["leftover"]
        assert not process.is_running()  # reclaiming waited for it (and reaped it here)
        assert not pid_file.exists()
        assert reclaim_leftovers(pid_file) == []
    finally:
        leftover.kill()
        leftover.wait()


def test_reclaiming_refuses_while_the_recorded_supervisor_still_runs(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids.json"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        owner = {"pid": live.pid, "created": psutil.Process(live.pid).create_time()}
        pid_file.write_text(json.dumps({"supervisor": owner, "children": {}}))
        with pytest.raises(SupervisorRunning, match=str(live.pid)):
            reclaim_leftovers(pid_file)
        assert live.poll() is None and pid_file.exists()
    finally:
        live.kill()
        live.wait()


def _read(path: Path) -> str:
    """A file's text, or nothing while it does not exist."""
    return path.read_text() if path.exists() else ""


def _recorded(pid_file: Path) -> dict[str, int]:
    """Child name -> pid, as the supervisor's pid file has them."""
    try:
        children = json.loads(pid_file.read_text())["children"]
    except (OSError, ValueError):
        return {}
    return {name: entry["pid"] for name, entry in children.items()}


# A stand-in service: answers /readyz and reports the settings it was started with.
FAKE_SERVICE = """
import http.server, json, os, sys
prefix = sys.argv[1]
settings = {k[len(prefix):]: v for k, v in os.environ.items() if k.startswith(prefix)}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(settings).encode()
        self.send_response(200 if self.path in ("/readyz", "/settings") else 404)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(settings["HTTP_PORT"])), Handler).serve_forever()
"""

PREFIX = {s.name: s.env_prefix for s in (*SERVICES, *JOBS)}


def fake_service(name: str) -> list[str]:
    """Command line of the stand-in for one service."""
    return [sys.executable, "-c", FAKE_SERVICE, PREFIX[name]]


def free_port_block(size: int) -> int:
    """A base port with `size` consecutive free ports."""
    for _ in range(50):
        base = free_port()
        if base + size < 65_000 and all(port_is_free("127.0.0.1", base + i) for i in range(size)):
            return base
    raise RuntimeError("no block of free ports")


def get_json(url: str) -> dict[str, str]:
    """GET a URL and decode its JSON body."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def test_embedded_system_starts_restarts_and_stops_everything(tmp_path: Path) -> None:
    system = EmbeddedSystem(
        tmp_path / "var",
        kafka_port=free_port(),
        base_http_port=free_port_block(PORTS),
        db_prefix="sys" + uuid.uuid4().hex[:6],
        partitions=2,
        service_command=fake_service,
    )
    system.start()
    try:
        settings = get_json(system.urls()["order_service"] + "/settings")
        assert settings["HTTP_PORT"] == str(system.base_http_port + 1)
        assert settings["TOPIC_PARTITIONS"] == "2"
        assert settings["KAFKA_BOOTSTRAP_SERVERS"] == system.bootstrap
        jobs = get_json(system.job_urls()["stream_jobs"] + "/settings")
        assert jobs["HTTP_PORT"] == str(system.base_http_port + 5)
        assert jobs["KAFKA_BOOTSTRAP_SERVERS"] == system.bootstrap
        assert "DATABASE_URL" not in jobs  # no database of their own
        assert jobs["DATA_DIR"] == str(system.var_dir / "stream_jobs")
        with psycopg.connect(settings["DATABASE_URL"]) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (7)")
        assert await topic_end_offsets(system.bootstrap, ALL_TOPICS[0]) == {0: 0, 1: 0}

        system.restart()

        with psycopg.connect(system.database_urls()["order_service"]) as conn:
            assert conn.execute("SELECT n FROM kept").fetchall() == [(7,)]
        assert all(get_json(url + "/readyz") for url in system.urls().values())
        logs = (system.log_dir / "order_service.log").read_text()
        assert logs.count("--- supervisor") >= 3  # started, stopped, started again
    finally:
        system.stop()
    assert all(port_is_free("127.0.0.1", system.port(s.name)) for s in (*SERVICES, *JOBS))
    assert port_is_free("127.0.0.1", system.kafka_port)


def test_embedded_system_names_the_service_that_never_gets_ready(
    tmp_path: Path, postgres_server_url: str
) -> None:
    def command(name: str) -> list[str]:
        if name == "inventory_service":
            return [sys.executable, "-c", "print('inventory broke'); raise SystemExit(3)"]
        return fake_service(name)

    system = EmbeddedSystem(
        tmp_path / "var",
        postgres_url=postgres_server_url,
        kafka_port=free_port(),
        base_http_port=free_port_block(PORTS),
        db_prefix="bad" + uuid.uuid4().hex[:6],
        service_command=command,
        ready_timeout=3,
    )
    try:
        with pytest.raises(SystemStartError, match="inventory_service") as failure:
            system.start()
    finally:
        for service in SERVICES:
            drop_database(postgres_server_url, service.database(system.db_prefix))
    assert "inventory broke" in str(failure.value)
    assert system.supervisor is None and system.broker is None
