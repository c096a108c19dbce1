"""Where each service's CPU goes while the bench runs: py-spy samples, summed per function."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Frames of our own code; a sample is charged to the deepest of them (with what it called).
OWN_CODE = ("services/", "shared/")


@dataclass
class Profiler:
    """Samples the given processes with py-spy until stopped; raw stacks land in `out_dir`."""

    pids: dict[str, int]
    out_dir: Path
    rate: int = 100
    _running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @staticmethod
    def available() -> bool:
        """True when py-spy is installed (a dev dependency)."""
        return _py_spy() is not None

    def start(self) -> None:
        """Start one py-spy per process (non-blocking: the services are not paused)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            command = [str(_py_spy()), "record", "--pid", str(pid), "--rate", str(self.rate)]
            # --gil: only samples that hold the GIL, i.e. Python at work, not waits in C.
            command += ["--format", "raw", "--nonblocking", "--gil"]
            command += ["--output", str(self._path(name))]
            self._running[name] = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

    def stop(self) -> None:
        """Stop sampling; py-spy writes its file on SIGINT."""
        for process in self._running.values():
            process.send_signal(signal.SIGINT)
        for process in self._running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self._running.clear()

    def summary(self, top: int = 6) -> dict[str, list[tuple[str, float]]]:
        """Per process, the own functions that took the largest shares of its samples."""
        return {
            name: hot_spots(self._path(name).read_text(), top)
            for name in self.pids
            if self._path(name).exists()
        }

    def _path(self, name: str) -> Path:
        return self.out_dir / f"{name}.txt"


def _py_spy() -> str | None:
    """py-spy beside our interpreter (the venv's), else on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def hot_spots(collapsed: str, top: int) -> list[tuple[str, float]]:
    """The `top` own functions by share of samples, from py-spy's collapsed stacks."""
    charged: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        charged[_own_frame(stack.split(";"))] += samples
    if not total:
        return []
    return [(frame, round(100 * n / total, 1)) for frame, n in charged.most_common(top)]


def _own_frame(frames: list[str]) -> str:
    """The deepest frame of our own code, else the outermost frame (a library's loop)."""
    for frame in reversed(frames):
        if any(part in frame for part in OWN_CODE):
            return _short(frame)
    return _short(frames[0]) if frames else "?"


def _short(frame: str) -> str:
    """`function (path/file.py:line)` as `function (file.py)`."""
    function, _, where = frame.partition(" (")
    file = where.split(":")[0].rsplit("/", 1)[-1].rstrip(")")
    return f"{function} ({file})" if file else function
