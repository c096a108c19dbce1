"""One conflict policy: a use case that owns its unit is retried; one that joins a unit is not."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from shared.runtime.application import (
    MAX_CONFLICT_RETRIES,
    ServiceApplication,
    UnitOfWork,
    UseCases,
    use_case,
)


class Counters(ServiceApplication):
    """An application whose one use case loses a write conflict `losses` times."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counting = Counting(self)
        self.losses = 0
        self.attempts = 0


class Counting(UseCases[Counters]):
    @use_case
    def count(self, value: int, uow: UnitOfWork | None = None) -> int:
        self.app.attempts += 1
        if self.app.attempts <= self.app.losses:
            raise IntegrityError("another writer got there first")
        return value


def test_a_use_case_of_its_own_is_retried_until_it_wins_the_conflict():
    app = Counters()
    app.losses = 3
    assert app.counting.count(7) == 7
    assert app.attempts == 4


def test_a_use_case_gives_up_after_the_limit_and_says_why():
    app = Counters()
    app.losses = MAX_CONFLICT_RETRIES
    with pytest.raises(IntegrityError):
        app.counting.count(7)
    assert app.attempts == MAX_CONFLICT_RETRIES


@pytest.mark.parametrize("by_keyword", [True, False])
def test_a_use_case_joining_the_callers_unit_is_run_once_and_leaves_conflicts_to_it(by_keyword):
    app = Counters()
    app.losses = 1
    uow = UnitOfWork(app)
    with pytest.raises(IntegrityError):
        if by_keyword:
            app.counting.count(7, uow=uow)
        else:
            app.counting.count(7, uow)
    assert app.attempts == 1
