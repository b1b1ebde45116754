"""Every user's answers against the file's own figures, for the readable benchmark.

The expected figures per user come from the file itself (DuckDB, before the upload), so the
measured window holds no work of ours that competes with the platform's; after the run, one
SQL query confirms that `transactions` holds exactly those figures. A pass asks the three reads
for every user not yet matched, a few users at a time, and keeps when each user's answers first
all matched.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import aiohttp
import duckdb
import psycopg

READS = ("/summary/{}", "/analytics/risk-profile/{}", "/analytics/spend-trend/{}")
# The contract's columns typed as the loader reads them: amounts exact, ids as written.
FILE_COLUMNS = {
    "transaction_id": "VARCHAR",
    "user_id": "INTEGER",
    "product_id": "INTEGER",
    "timestamp": "VARCHAR",
    "transaction_amount": "DECIMAL(12, 2)",
}
PER_USER_SQL = """
SELECT user_id, count(*), sum(transaction_amount) FROM transactions GROUP BY user_id
"""
MISMATCHES_KEPT = 5


@dataclass(frozen=True)
class Figures:
    count: int
    total: Decimal


def figures_in_file(path: Path) -> dict[int, Figures]:
    """Per user of the file: its rows and their total."""
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT user_id, count(*), sum(transaction_amount) "
            "FROM read_csv(?, header = true, columns = ?) GROUP BY user_id",
            [str(path), FILE_COLUMNS],
        ).fetchall()
    return {user: Figures(count, total) for user, count, total in rows}


def figures_in_warehouse(url: str) -> dict[int, Figures]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(PER_USER_SQL).fetchall()
    return {user: Figures(count, total) for user, count, total in rows}


def mismatch(bodies: list[str], want: Figures) -> str | None:
    """Why a user's three answers do not count the file's rows, or None when they all do."""
    summary, risk = json.loads(bodies[0]), json.loads(bodies[1])
    trend_total = sum(day["daily_total"] for day in json.loads(bodies[2], parse_float=Decimal))
    got = (summary["transaction_count"], risk["risk_metrics"]["transaction_count"], trend_total)
    if got == (want.count, want.count, want.total):
        return None
    return f"summary {got[0]}, risk profile {got[1]}, trend total {got[2]}; file {want}"


@dataclass
class CheckPass:
    users: int
    seconds: float = 0.0
    matched: dict[int, float] = field(default_factory=dict)  # user: when its answers matched
    mismatches: dict[int, str] = field(default_factory=dict)  # a few of those that did not


async def _answers(session: aiohttp.ClientSession, user: int) -> list[str] | str:
    """The three answers' bodies, or why one is not a 200."""
    bodies = []
    for path in READS:
        async with session.get(path.format(user)) as response:
            if response.status != 200:
                return f"{path.format(user)} answered {response.status}"
            bodies.append(await response.text())
    return bodies


async def _check(base_url: str, expected: dict[int, Figures], clients: int) -> CheckPass:
    result, waiting = CheckPass(users=len(expected)), list(expected)
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def worker() -> None:
            while waiting:
                user = waiting.pop()
                answers = await _answers(session, user)
                why = answers if isinstance(answers, str) else mismatch(answers, expected[user])
                if why is None:
                    result.matched[user] = time.time()
                elif len(result.mismatches) < MISMATCHES_KEPT:
                    result.mismatches[user] = why

        await asyncio.gather(*(worker() for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def check_every_user(base_url: str, expected: dict[int, Figures], clients: int) -> CheckPass:
    """One pass over `expected`'s users, `clients` at a time over keep-alive connections."""
    return asyncio.run(_check(base_url, expected, clients))
