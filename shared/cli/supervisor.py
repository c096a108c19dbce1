"""A small process supervisor: runs services, restarts the ones that die, stops them all."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildSpec:
    """What to run for one supervised child: its name, command line and extra environment."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)


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


class Supervisor:
    """Runs child processes, restarts any that exit unexpectedly (with backoff), stops them all."""

    def __init__(
        self,
        children: Iterable[ChildSpec],
        log_dir: Path,
        *,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        stable_after: float = 30.0,
        stop_timeout: float = 10.0,
        poll_interval: float = 0.2,
    ):
        self.log_dir = Path(log_dir)
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
        """Start every child and the monitor thread."""
        if self._thread is not None:
            raise RuntimeError("supervisor already started")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._stopping.clear()
        with self._lock:
            for child in self._children.values():
                self._spawn(child)
        # A thread, not an asyncio task: works the same from the CLI and from sync or async tests.
        self._thread = threading.Thread(target=self._monitor, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the monitor, SIGTERM every child, SIGKILL those still alive after the timeout."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            children = list(self._children.values())
            for child in children:
                _signal(child.process, signal.SIGTERM)
            deadline = time.monotonic() + self.stop_timeout
            for child in children:
                self._reap(child, deadline)

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
            return {
                name: child.process.pid
                if child.process is not None and child.process.poll() is None
                else None
                for name, child in self._children.items()
            }

    def _spawn(self, child: _Child) -> None:
        """Start one child, its output appended to its log file."""
        if child.log_file is None:
            child.log_file = open(child.log_path, "ab")  # noqa: SIM115 - open while supervised
        self._note(child, f"starting {' '.join(child.spec.command)}")
        child.process = subprocess.Popen(
            list(child.spec.command),
            env={**os.environ, **child.spec.env},
            stdout=child.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Own session: Ctrl-C in a terminal reaches only the supervisor, which then stops
            # the children in order instead of racing their deaths against restarts.
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        child.restart_at = None

    def _monitor(self) -> None:
        """Poll the children until stop(); restart the ones that exited."""
        while not self._stopping.wait(self.poll_interval):
            with self._lock:
                if self._stopping.is_set():
                    return
                for child in self._children.values():
                    self._check(child)

    def _check(self, child: _Child) -> None:
        """Schedule a restart for a child that exited, or perform a restart that is due."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
            return
        assert child.process is not None
        code = child.process.poll()
        if code is None:
            return
        # A child that ran for a while before dying gets the short delay again.
        if now - child.started_at >= self.stable_after:
            child.backoff = 0.0
        child.backoff = min(max(child.backoff * 2, self.initial_backoff), self.max_backoff)
        child.restart_at = now + child.backoff
        message = f"exited with code {code}; restart #{child.restarts + 1} in {child.backoff:.1f} s"
        log.warning("%s %s", child.spec.name, message)
        self._note(child, message)

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
        child.process = None
        child.restart_at = None
        if child.log_file is not None:
            child.log_file.close()
            child.log_file = None

    def _note(self, child: _Child, message: str) -> None:
        """Write a supervisor line into the child's log, so its log tells the whole story."""
        if child.log_file is None:
            return
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        child.log_file.write(f"--- supervisor {stamp}: {message}\n".encode())
        child.log_file.flush()


def _signal(process: subprocess.Popen[bytes] | None, signum: int) -> None:
    """Signal a child's whole process group (it leads its own session), if it still runs."""
    if process is None or process.poll() is not None:
        return
    # It may exit between poll() and now.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
