"""A part of a service (API, consumer, leader) that ends on its own stops the whole service,
so its supervisor restarts it, rather than leave half a service answering as if healthy."""

from __future__ import annotations

import asyncio

import pytest

from shared.runtime.service import _until_stopped


async def _ends_cancelled() -> None:
    inner = asyncio.create_task(asyncio.sleep(60))
    inner.cancel()
    await inner


async def _returns() -> None:
    return None


async def _raises() -> None:
    raise RuntimeError("a bug")


@pytest.mark.parametrize("part", [_ends_cancelled, _returns, _raises])
async def test_a_part_of_the_service_that_ends_on_its_own_stops_the_service(part):
    stop = asyncio.Event()

    await _until_stopped("part", part(), stop)

    assert stop.is_set()


async def test_a_part_stopped_with_the_service_ends_quietly():
    stop = asyncio.Event()
    task = asyncio.create_task(_until_stopped("part", asyncio.sleep(60), stop))
    await asyncio.sleep(0)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert not stop.is_set()
