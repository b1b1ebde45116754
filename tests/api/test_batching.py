"""BatchLoader: concurrent lookups share queries, and every caller gets its own answer, its
batch's error, or nothing at all when it went away."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from txn_api.batching import BatchLoader


class Table:
    """A fetch over a dict that records its batches and how many ran at once."""

    def __init__(self, rows: Mapping[int, str], *, fail_keys: set[int] = frozenset()) -> None:
        self.rows = rows
        self.fail_keys = fail_keys
        self.batches: list[list[int]] = []
        self.running = 0
        self.most_running = 0

    async def fetch(self, keys: list[int]) -> dict[int, str]:
        self.batches.append(keys)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(0.01)  # a query's round trip
            if self.fail_keys & set(keys):
                raise ConnectionError(f"the warehouse went away during {keys}")
            return {key: self.rows[key] for key in keys if key in self.rows}
        finally:
            self.running -= 1


ROWS = {key: f"row {key}" for key in range(1, 201)}


def test_a_lone_lookup_is_fetched_at_once_on_its_own():
    table = Table(ROWS)

    async def scenario():
        loader = BatchLoader(table.fetch)
        return await loader.load(7)

    assert asyncio.run(scenario()) == "row 7"
    assert table.batches == [[7]]


def test_lookups_made_together_are_one_query_and_each_gets_its_own_row():
    table = Table(ROWS)

    async def scenario():
        loader = BatchLoader(table.fetch)
        return await asyncio.gather(*(loader.load(key) for key in range(1, 101)))

    assert asyncio.run(scenario()) == [f"row {key}" for key in range(1, 101)]
    assert table.batches == [list(range(1, 101))]


def test_batches_are_capped_and_the_rest_follow():
    table = Table(ROWS)

    async def scenario():
        loader = BatchLoader(table.fetch, max_in_flight=1, max_batch=30)
        return await asyncio.gather(*(loader.load(key) for key in range(1, 101)))

    assert asyncio.run(scenario()) == [f"row {key}" for key in range(1, 101)]
    assert [len(batch) for batch in table.batches] == [30, 30, 30, 10]


def test_lookups_made_while_a_query_runs_wait_for_the_next_one_together():
    table = Table(ROWS)

    async def scenario():
        loader = BatchLoader(table.fetch, max_in_flight=1)
        first = asyncio.ensure_future(loader.load(1))
        await asyncio.sleep(0.001)  # the query for [1] is on its way
        later = await asyncio.gather(*(loader.load(key) for key in (2, 3, 4)))
        return [await first, *later]

    assert asyncio.run(scenario()) == ["row 1", "row 2", "row 3", "row 4"]
    assert table.batches == [[1], [2, 3, 4]]


def test_the_same_key_asked_twice_at_once_is_fetched_once():
    table = Table(ROWS)

    async def scenario():
        loader = BatchLoader(table.fetch)
        return await asyncio.gather(loader.load(1), loader.load(5), loader.load(5))

    assert asyncio.run(scenario()) == ["row 1", "row 5", "row 5"]
    assert table.batches == [[1, 5]]


def test_a_key_without_a_row_is_none_for_its_caller_only():
    table = Table(ROWS)

    async def scenario():
        loader = BatchLoader(table.fetch, max_in_flight=1)
        return await asyncio.gather(loader.load(1), loader.load(999), loader.load(2))

    assert asyncio.run(scenario()) == ["row 1", None, "row 2"]


def test_a_failed_query_fails_its_own_batch_and_the_loader_goes_on():
    table = Table(ROWS, fail_keys={13})

    async def scenario():
        loader = BatchLoader(table.fetch, max_in_flight=1)
        first = asyncio.ensure_future(loader.load(1))
        await asyncio.sleep(0.001)  # [1] is on its way; 12 and 13 will go together
        failed = await asyncio.gather(loader.load(12), loader.load(13), return_exceptions=True)
        return await first, failed, await loader.load(12)

    first, failed, again = asyncio.run(scenario())

    assert first == "row 1"
    assert all(isinstance(answer, ConnectionError) for answer in failed)
    assert "went away during [12, 13]" in str(failed[0])
    assert again == "row 12"


def test_a_caller_that_goes_away_leaves_the_others_their_answers():
    table = Table(ROWS)

    async def scenario():
        loader = BatchLoader(table.fetch, max_in_flight=1)
        first = asyncio.ensure_future(loader.load(1))
        await asyncio.sleep(0.001)  # the query for [1] is on its way: the next keys wait
        leaving = asyncio.ensure_future(loader.load(2))
        staying = asyncio.ensure_future(loader.load(3))
        await asyncio.sleep(0)
        leaving.cancel()
        return await asyncio.gather(first, staying), leaving.cancelled()

    (answers, cancelled) = asyncio.run(scenario())

    assert answers == ["row 1", "row 3"]
    assert cancelled


@pytest.mark.parametrize("max_in_flight", [1, 3])
def test_no_caller_is_left_waiting_when_loads_keep_coming(max_in_flight):
    """Loads that arrive while batches are being answered are picked up by a running sender."""
    table = Table(ROWS)

    async def client(loader: BatchLoader, keys: range, pause: float) -> list[str | None]:
        answers = []
        for key in keys:
            answers.append(await loader.load(key))
            await asyncio.sleep(pause)  # clients out of step, as real ones are
        return answers

    async def scenario():
        loader = BatchLoader(table.fetch, max_in_flight=max_in_flight)
        clients = [client(loader, range(start, 201, 8), start / 1000) for start in range(1, 9)]
        return await asyncio.wait_for(asyncio.gather(*clients), timeout=10)

    answers = asyncio.run(scenario())

    assert [answer for answers_of in answers for answer in answers_of] == [
        f"row {key}" for start in range(1, 9) for key in range(start, 201, 8)
    ]
    assert table.most_running <= max_in_flight
    assert len(table.batches) < 200  # 200 lookups
