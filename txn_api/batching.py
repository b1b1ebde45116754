"""Concurrent lookups of one kind share a query: `BatchLoader`.

A read endpoint's query is a few primary-key probes, well under a millisecond in PostgreSQL;
what a worker spends on it is Python: taking a pooled connection, sending, waking up for the
answer, giving the connection back, about half a millisecond of its one core per query. Under
32 concurrent clients that, not the database, set the pace. A `BatchLoader` gathers the keys
asked for while its queries are in flight and fetches them together in the next one, so many
concurrent requests cost a few queries. A lone request is a batch of one and waits for
nothing; answers never outlive the request (no cache).

This is the DataLoader pattern, except that a batch leaves as soon as a query slot is free
rather than once per turn of the event loop.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")

# Fetching queries at once per loader: enough to keep PostgreSQL busy while the worker reads
# the previous answers, few enough that each batch gathers many keys.
MAX_IN_FLIGHT = 3
# Keys per query at most: a batch's answer must stay quick to read and send.
MAX_BATCH = 256


class BatchLoader(Generic[Key, Value]):
    """`await loader.load(key)` answers `fetch([key, ...]).get(key)`, with the keys of
    concurrent calls fetched together. A failed fetch raises its error in every call of that
    batch, and only there."""

    def __init__(
        self,
        fetch: Callable[[list[Key]], Awaitable[Mapping[Key, Value]]],
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._fetch = fetch
        self._max_in_flight = max_in_flight
        self._max_batch = max_batch
        self._waiting: dict[Key, list[asyncio.Future[Value | None]]] = {}
        self._in_flight = 0
        self._senders: set[asyncio.Task[None]] = set()  # held, so none is garbage-collected

    async def load(self, key: Key) -> Value | None:
        answer: asyncio.Future[Value | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(answer)  # the same key twice: fetched once
        if self._in_flight < self._max_in_flight:
            self._in_flight += 1
            sender = asyncio.create_task(self._send_batches())
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return await answer

    async def _send_batches(self) -> None:
        """Fetch the waiting keys, batch after batch, until nobody waits."""
        try:
            while self._waiting:
                keys = list(itertools.islice(self._waiting, self._max_batch))
                batch = {key: self._waiting.pop(key) for key in keys}
                try:
                    found = await self._fetch(keys)
                except asyncio.CancelledError:  # the app is stopping: so are its requests
                    for answer in _still_awaited(batch.values()):
                        answer.cancel()
                    raise
                except Exception as exc:
                    for answer in _still_awaited(batch.values()):
                        answer.set_exception(exc)
                else:
                    for key, answers in batch.items():
                        for answer in _still_awaited([answers]):
                            answer.set_result(found.get(key))
        finally:
            self._in_flight -= 1


def _still_awaited(
    answer_lists: Iterable[list[asyncio.Future[Value | None]]],
) -> Iterator[asyncio.Future[Value | None]]:
    """The answers someone still awaits (a request that went away has cancelled its own)."""
    for answers in answer_lists:
        yield from (answer for answer in answers if not answer.done())
