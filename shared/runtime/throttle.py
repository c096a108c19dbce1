"""A limit on failed attempts per key (a sign-in name): after `limit` failures within `window`,
further attempts are refused until the oldest of them leaves the window.

Kept in memory, per process: several instances of a service each allow `limit` failures, and a
restart forgets them. That is enough to make guessing a password slow (a handful of guesses per
window per instance, against passwords of at least 12 characters), without a table written on
every failure by anyone who can reach the endpoint.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class ThrottledError(Exception):
    """Too many failures for this key: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Attempt:
    """One attempt in progress: mark it failed, or it counts as a success."""

    failed: bool = False

    def fail(self) -> None:
        """Count this attempt as a failure."""
        self.failed = True


@dataclass
class _Key:
    failures: deque[float] = field(default_factory=deque)
    running: int = 0  # attempts under way, not yet known to have failed


class FailureThrottle:
    """Failed attempts per key within a sliding window, in memory (thread-safe)."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        # Bounds the memory of made-up keys: the keys that failed longest ago are forgotten
        # first. Pushing a key out takes `max_keys` other failures, each costing its caller a
        # full password check, which is far more than the window lasts.
        self.max_keys = max_keys
        self.clock = clock
        self._keys: OrderedDict[str, _Key] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def attempt(self, key: str) -> Iterator[Attempt]:
        """An attempt for the key; ThrottledError when its failures (and the attempts still
        under way, so parallel guesses do not slip past the limit) reach the limit."""
        with self._lock:
            state = self._keys.setdefault(key, _Key())
            self._forget_old(state, self.clock())
            if len(state.failures) + state.running >= self.limit:
                raise ThrottledError(self._retry_after(state))
            state.running += 1
        attempt = Attempt()
        try:
            yield attempt
        except BaseException:
            self._settle(key, state, None)  # it ended without an answer: neither way
            raise
        self._settle(key, state, attempt.failed)

    def _settle(self, key: str, state: _Key, failed: bool | None) -> None:
        """Record how the attempt ended; a success forgets the key's failures."""
        with self._lock:
            state.running -= 1
            if failed is False:
                state.failures.clear()
            elif failed:
                state.failures.append(self.clock())
                self._keys[key] = state
                self._keys.move_to_end(key)
            if not state.failures and not state.running:
                self._keys.pop(key, None)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)

    def _forget_old(self, state: _Key, now: float) -> None:
        while state.failures and state.failures[0] <= now - self.window:
            state.failures.popleft()

    def _retry_after(self, state: _Key) -> int:
        """Whole seconds until one more attempt is allowed (at least 1)."""
        if len(state.failures) < self.limit:
            return 1  # only attempts under way block: they end within a second
        frees_at = state.failures[-self.limit] + self.window
        return max(1, math.ceil(frees_at - self.clock()))
