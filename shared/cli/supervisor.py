"""A small process supervisor: runs children, restarts the ones that die, stops them all.

One thread starts every child and watches it. A child is killed when that thread ends (Linux,
see `spawn`), so a supervisor killed with SIGKILL leaves nothing running; elsewhere the pid file
lets the next start reclaim what was left. Killing is safe: the services are built to survive
it, PostgreSQL recovers from its WAL, the memory-only broker holds nothing; and with the
supervisor gone nobody is left to stop them in order (a service stopping while its PostgreSQL
and broker go away hangs in retries).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psutil

from shared.runtime.embedded import spawn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildSpec:
    """What to run for one supervised child, and how to start, check and stop it.

    `prepare` runs before every start; `ready` after every start, blocking until the child
    serves and raising when it cannot (then it is killed and started again after a backoff).
    Children stop by tier, highest first, all of one tier at once: services (tier 1) before
    the PostgreSQL and broker (tier 0) they use.
    """

    name: str
    command: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM
    user: str | None = None
    tier: int = 0
    prepare: Callable[[], None] | None = None
    ready: Callable[[subprocess.Popen[bytes]], None] | None = None


@dataclass
class _Child:
    """Runtime state of one supervised child."""

    spec: ChildSpec
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 0.0
    restart_at: float | None = None


class SupervisorRunning(RuntimeError):
    """Another live supervisor owns the pid file."""


class Supervisor:
    """Runs child processes, restarts any that exit unexpectedly (with backoff), stops them all."""

    def __init__(
        self,
        children: Iterable[ChildSpec],
        log_dir: Path,
        *,
        pid_file: Path | None = None,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        stable_after: float = 30.0,
        stop_timeout: float = 10.0,
        poll_interval: float = 0.2,
    ):
        self.log_dir = Path(log_dir)
        self.pid_file = pid_file
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self._children = {
            spec.name: _Child(spec, self.log_dir / f"{spec.name}.log") for spec in children
        }
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start every child in order (each one ready before the next), then watch them."""
        if self._thread is not None:
            raise RuntimeError("supervisor already started")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._stopping.clear()
        started = threading.Event()
        failure: list[BaseException] = []
        # A thread, not an asyncio task: works the same from the CLI and from sync or async
        # tests. It starts every child and lives until they are stopped, since a child gets
        # its death signal when the thread that started it ends.
        self._thread = threading.Thread(
            target=self._run, args=(started, failure), name="supervisor", daemon=True
        )
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]

    def stop(self) -> None:
        """Stop every child (tier by tier), SIGKILL those still alive after the timeout."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def log_path(self, name: str) -> Path:
        """Where the output of one child goes."""
        return self._children[name].log_path

    def restarts(self) -> dict[str, int]:
        """How often each child was restarted."""
        with self._lock:
            return {name: child.restarts for name, child in self._children.items()}

    def pids(self) -> dict[str, int | None]:
        """Process id of each running child (None while it waits to be restarted)."""
        with self._lock:
            return {name: _running_pid(child) for name, child in self._children.items()}

    def _run(self, started: threading.Event, failure: list[BaseException]) -> None:
        """The supervisor thread: start the children, restart the ones that die, stop all."""
        try:
            for child in self._children.values():
                if not self._stopping.is_set():
                    self._start(child)
        except BaseException as exc:
            failure.append(exc)
            self._stop_all()
            started.set()
            return
        started.set()
        try:
            while not self._stopping.wait(self.poll_interval):
                for child in self._children.values():
                    if self._stopping.is_set():
                        break
                    try:
                        self._check(child)
                    except Exception:
                        # The watch must go on: one failed check must not orphan the others.
                        log.exception("supervising %s failed; checking again", child.spec.name)
        finally:
            self._stop_all()

    def _start(self, child: _Child) -> None:
        """Prepare, spawn and await one child; on failure the child is not left running."""
        spec = child.spec
        if spec.prepare is not None:
            spec.prepare()
        if child.log_file is None:
            child.log_file = open(child.log_path, "ab")  # noqa: SIM115 - open while supervised
        self._note(child, f"starting {' '.join(spec.command)}")
        process = spawn(
            spec.command,
            output=child.log_file,
            env={**os.environ, **spec.env},
            user=spec.user,
            death_signal=signal.SIGKILL,
        )
        with self._lock:
            child.process = process
            child.started_at = time.monotonic()
            child.restart_at = None
        self._write_pid_file()
        if spec.ready is None:
            return
        try:
            spec.ready(process)
        except BaseException:
            _kill(process)
            raise
        if child.restarts:
            message = f"back after restart #{child.restarts}"
            log.warning("%s %s", spec.name, message)
            self._note(child, message)

    def _check(self, child: _Child) -> None:
        """Schedule a restart for a child that exited, or perform a restart that is due."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                with self._lock:
                    child.restarts += 1
                try:
                    self._start(child)
                except Exception as exc:
                    self._schedule_restart(child, f"restart failed ({exc})")
            return
        assert child.process is not None
        code = child.process.poll()
        if code is not None:
            self._schedule_restart(child, f"exited with code {code}")

    def _schedule_restart(self, child: _Child, reason: str) -> None:
        """Log why a child is down and when it starts again (exponential backoff)."""
        now = time.monotonic()
        # A child that ran for a while before dying gets the short delay again.
        if now - child.started_at >= self.stable_after:
            child.backoff = 0.0
        child.backoff = min(max(child.backoff * 2, self.initial_backoff), self.max_backoff)
        with self._lock:
            child.restart_at = now + child.backoff
        self._write_pid_file()
        message = f"{reason}; restart #{child.restarts + 1} in {child.backoff:.1f} s"
        log.warning("%s %s", child.spec.name, message)
        self._note(child, message)

    def _stop_all(self) -> None:
        """Stop the children tier by tier, highest first; forget the pid file."""
        for tier in sorted({c.spec.tier for c in self._children.values()}, reverse=True):
            children = [c for c in self._children.values() if c.spec.tier == tier]
            for child in children:
                _signal(child.process, child.spec.stop_signal)
            deadline = time.monotonic() + self.stop_timeout
            for child in children:
                self._reap(child, deadline)
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def _reap(self, child: _Child, deadline: float) -> None:
        """Wait for a child until the deadline, then kill it; close its log."""
        process = child.process
        if process is not None:
            try:
                process.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                log.warning(
                    "%s did not stop in %.0f s; killing it", child.spec.name, self.stop_timeout
                )
                _signal(process, signal.SIGKILL)
                process.wait()
            self._note(child, f"stopped (exit code {process.returncode})")
        with self._lock:
            child.process = None
            child.restart_at = None
        if child.log_file is not None:
            child.log_file.close()
            child.log_file = None

    def _write_pid_file(self) -> None:
        """Record this supervisor and its running children, for `reclaim_leftovers`."""
        if self.pid_file is None:
            return
        children: dict[str, Any] = {}
        for name, child in self._children.items():
            pid = _running_pid(child)
            created = _created(pid)
            if pid is not None and created is not None:
                children[name] = {"pid": pid, "created": created}
        record = {"supervisor": {"pid": os.getpid(), "created": _created(os.getpid())}}
        record["children"] = children
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.pid_file.with_suffix(".tmp")
        partial.write_text(json.dumps(record, indent=1))
        partial.replace(self.pid_file)  # atomic: a reader never sees half a file

    def _note(self, child: _Child, message: str) -> None:
        """Write a supervisor line into the child's log, so its log tells the whole story."""
        if child.log_file is None:
            return
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        child.log_file.write(f"--- supervisor {stamp}: {message}\n".encode())
        child.log_file.flush()


def reclaim_leftovers(pid_file: Path) -> list[str]:
    """Kill the children an earlier supervisor recorded and left running; returns their names.

    Where children do not die with their supervisor (no death signal outside Linux), a killed
    supervisor leaves them holding ports and data directories. Raises SupervisorRunning when
    the recorded supervisor is in fact still alive.
    """
    try:
        record = json.loads(pid_file.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        log.warning("ignoring unreadable pid file %s", pid_file)
        pid_file.unlink(missing_ok=True)
        return []
    owner = record.get("supervisor") or {}
    if owner.get("pid") != os.getpid() and _same_process(owner) is not None:
        raise SupervisorRunning(
            f"another supervisor (pid {owner['pid']}) is still running with {pid_file}; "
            "stop it first"
        )
    leftovers: dict[str, psutil.Process] = {}
    for name, entry in (record.get("children") or {}).items():
        process = _same_process(entry)
        if process is None:
            continue
        log.warning("killing %s (pid %d), left running by an earlier supervisor", name, process.pid)
        # Orphans like these are killed, as the death signal would have: see the module docstring.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        leftovers[name] = process
    psutil.wait_procs(list(leftovers.values()), timeout=5)
    pid_file.unlink(missing_ok=True)
    return list(leftovers)


def _same_process(entry: Mapping[str, Any]) -> psutil.Process | None:
    """The live process a pid-file entry names, unless its pid now belongs to another one."""
    pid, created = entry.get("pid"), entry.get("created")
    if not isinstance(pid, int) or not isinstance(created, int | float):
        return None
    try:
        process = psutil.Process(pid)
        # A reused pid has another start time; that process is not ours to stop.
        if abs(process.create_time() - created) > 0.01:
            return None
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.Error:
        return None
    return process


def _created(pid: int | None) -> float | None:
    """When a process started (with its pid, identifies it), or None if it is gone."""
    if pid is None:
        return None
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _running_pid(child: _Child) -> int | None:
    """The pid of a child that is running, else None."""
    process = child.process
    return process.pid if process is not None and process.poll() is None else None


def _signal(process: subprocess.Popen[bytes] | None, signum: int) -> None:
    """Signal a child's whole process group (it leads its own session), if it still runs."""
    if process is None or process.poll() is not None:
        return
    # It may exit between poll() and now.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill a child that failed to get ready, and reap it."""
    _signal(process, signal.SIGKILL)
    process.wait()
