"""The read endpoints' lookups by key, batched across concurrent requests (see
txn_api.batching): a user's risk profile, a user's summary over a range of days."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from txn_api.batching import MAX_IN_FLIGHT, BatchLoader
from txn_core import reads
from txn_core.reads import Row, SummaryAsk

# One connection for each query the two loaders below may have in flight: none ever waits.
POOL_SIZE = 2 * MAX_IN_FLIGHT


class ReadLookups:
    """`await lookups.risk_profiles.load(user_id)` (None for a user without a profile),
    `await lookups.summaries.load((user_id, start_date, end_date))` (always a row, see
    `reads.user_summaries`). The warehouse's errors (psycopg's, the pool's timeout)
    are raised to every request of the failed batch."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self.risk_profiles: BatchLoader[int, Row] = BatchLoader(self._risk_profiles)
        self.summaries: BatchLoader[SummaryAsk, Row] = BatchLoader(self._summaries)

    async def _risk_profiles(self, user_ids: list[int]) -> dict[int, Row]:
        async with self._pool.connection() as conn:
            return await reads.risk_profiles(conn, user_ids)

    async def _summaries(self, asks: list[SummaryAsk]) -> dict[SummaryAsk, Row]:
        async with self._pool.connection() as conn:
            rows = await reads.user_summaries(conn, asks)
        return dict(zip(asks, rows, strict=True))
