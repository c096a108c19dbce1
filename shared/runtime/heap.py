"""The collector's view of a process's heap."""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """Keep the objects built at start-up out of every later full collection.

    A service's modules, app and schemas are some hundreds of thousands of objects that live as
    long as the process. Each full (oldest generation) collection walks all of them: 50-90 ms on
    this machine, every few seconds under load, which is every request's p99 (make bench-search).
    Frozen, they are never walked again; what the process makes afterwards is collected as usual.
    """
    gc.collect()  # cycles already garbage are freed now, not kept forever by the freeze
    gc.freeze()
