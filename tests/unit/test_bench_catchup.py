"""The restart catch-up benchmark's arithmetic (no processes started)."""

from __future__ import annotations

from shared.cli.bench_catchup import Offsets, behind, steady


def test_behind_counts_the_messages_between_commits_and_ends() -> None:
    committed = {("oms.channel.v1", 0): 10, ("oms.channel.v1", 1): 7}
    ends = {("oms.channel.v1", 0): 15, ("oms.channel.v1", 1): 7}
    assert behind(committed, ends) == 5


def test_a_partition_never_committed_on_is_behind_by_all_its_messages() -> None:
    assert behind({}, {("oms.inventory.v1", 3): 4}) == 4


def test_a_group_past_the_ends_is_not_behind() -> None:
    assert behind({("oms.channel.v1", 0): 20}, {("oms.channel.v1", 0): 15}) == 0


async def test_steady_waits_until_offsets_are_known_and_stop_moving() -> None:
    readings: list[Offsets] = [{}, {}, {("t", 0): 1}, {("t", 0): 2}, {("t", 0): 2}, {("t", 0): 2}]
    reads = iter(readings)

    async def read() -> Offsets:
        return next(reads, readings[-1])

    assert await steady(read, checks=2) == {("t", 0): 2}
