"""A short chaos run inside the test suite: the whole system under faults of every kind, then
every invariant of `make chaos` checked (the long run is `make chaos`)."""

from __future__ import annotations

import asyncio

import pytest

from shared.cli.chaos.faults import KINDS
from shared.cli.chaos.run import ChaosOptions, run_chaos

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_orders_under_one_fault_of_every_kind_are_neither_lost_nor_done_twice(tmp_path):
    options = ChaosOptions(
        orders=60, faults_per_kind=1, seed=8, duration=45, settle=90, var_dir=tmp_path / "var"
    )

    report = asyncio.run(run_chaos(options))

    assert sorted(f.kind for f in report.faults) == sorted(KINDS)
    slow = [f"{f.kind} {f.target}" for f in report.faults if f.recovered_in is None]
    assert not slow, f"not ready again within the limit after: {slow}"
    failed = {c.name: c.failures[:5] for c in report.checks if not c.passed}
    assert report.passed, f"{failed}; logs in {report.log_dir}"
    assert report.statuses["shipped"] + report.statuses["returned"] > 0
