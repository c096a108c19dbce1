"""A consumer applies a message only after its predecessor: duplicates and gaps told apart."""

from __future__ import annotations

from shared.runtime.consumer import Inbound, chain


def _message(position: int, predecessor: int | None) -> Inbound:
    return Inbound(
        record=None,  # type: ignore[arg-type]  # the chain reads positions only
        position=position,
        source_service="order_service",
        envelope=None,
        predecessor=predecessor,
    )


def _positions(messages: list[Inbound]) -> list[int]:
    return [m.position for m in messages]


def test_messages_that_follow_on_are_applied_in_order():
    fresh, waiting = chain(3, [_message(5, 3), _message(8, 5), _message(9, 8)])
    assert _positions(fresh) == [5, 8, 9] and waiting == []


def test_a_message_whose_predecessor_never_arrived_waits_instead_of_being_applied():
    fresh, waiting = chain(3, [_message(5, 3), _message(9, 8)])
    assert _positions(fresh) == [5]
    assert _positions(waiting) == [9]


def test_duplicates_at_or_below_the_applied_position_are_dropped():
    fresh, waiting = chain(8, [_message(5, 3), _message(8, 5), _message(9, 8)])
    assert _positions(fresh) == [9] and waiting == []


def test_a_republished_predecessor_later_in_the_batch_lets_the_waiting_successor_through():
    # The broker lost its log: 9 arrived first, then the republish of 5, 8 and 9.
    batch = [_message(9, 8), _message(5, 3), _message(8, 5), _message(9, 8)]
    fresh, waiting = chain(3, batch)
    assert _positions(fresh) == [5, 8, 9] and waiting == []


def test_a_message_without_a_predecessor_follows_the_highest_position_rule():
    fresh, waiting = chain(3, [_message(2, None), _message(7, None)])
    assert _positions(fresh) == [7] and waiting == []
