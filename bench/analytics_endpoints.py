"""What the analytics benchmark compares: the three reads, served by our API and by the
reference's queries, the users it asks about, and what the issue asks of each read."""

from __future__ import annotations

import datetime as dt
import random

# The whole of the reference data set (its 10M rows span 2024-2043): a user's summary over all
# their history, which is what the "about 20 ms" for the reference's query measures.
SUMMARY_RANGE = (dt.date(2024, 1, 1), dt.date(2043, 12, 31))

ENDPOINTS = {
    "summary": "/summary/{user}?start_date={start}&end_date={end}",
    "risk-profile": "/analytics/risk-profile/{user}",
    "spend-trend": "/analytics/spend-trend/{user}",
}

# What the issue asks of each endpoint (information only, never a verdict).
AIMS = {
    "summary": {"speedup": 5, "p99_ms": 50},
    "risk-profile": {"speedup": 500, "p99_ms": 50},
    "spend-trend": {"speedup": 3, "p99_ms": None},
}

# The two sides, each an ASGI app that uvicorn serves.
SERVERS = {
    "ours": "txn_api.main:app",
    "reference": "bench.reference_queries:app",
}

USERS = range(1, 1000)


def endpoint_path(endpoint: str, user: int) -> str:
    start, end = SUMMARY_RANGE
    return ENDPOINTS[endpoint].format(user=user, start=start, end=end)


def endpoint_users(endpoint: str, count: int, seed: int) -> list[int]:
    """The same random users for both sides (a fixed seed per endpoint)."""
    rng = random.Random(f"{seed}:{endpoint}")
    return rng.choices(USERS, k=count)


def check_users(count: int, seed: int) -> list[int]:
    """The users whose answers are compared, and whose SQL is timed alone."""
    return random.Random(f"{seed}:check").sample(USERS, count)
