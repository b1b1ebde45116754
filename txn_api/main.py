"""Builds the HTTP service: `uvicorn txn_api.main:app`, or `create_app(settings)` in tests."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from txn_api.allocator import keep_freed_memory
from txn_api.db import lookup_pool, read_pool
from txn_api.errors import documented
from txn_api.lookups import ReadLookups
from txn_api.routes import analytics, dashboards, health, summary, uploads
from txn_api.security import DATA_ACCESS, RateLimits, SecurityHeaders
from txn_core.settings import Settings, get_settings

DESCRIPTION = """
Upload transaction files and follow their ingestion.

* `POST /upload` streams a CSV file (`.csv` or `.csv.gz`) into the landing zone; the
  platform's pipeline ingests it within seconds.
* `GET /uploads/{upload_id}` shows where an upload is and what its rows became;
  `GET /uploads/{upload_id}/rejected` lists the rows that broke the data contract.
* `GET /summary/{user_id}` gives a user's largest, smallest and mean transaction over a
  range of days; `GET /analytics/risk-profile/{user_id}` and
  `GET /analytics/spend-trend/{user_id}` give their risk metrics and daily spend trend.
* `GET /dashboard` and `GET /dashboard/{user_id}` are HTML dashboards with Plotly charts.
* `GET /livez` says the service runs; `GET /readyz` that its warehouse answers.

Summaries, analytics and dashboards read the analytics tables the pipeline keeps up to date.

When the service has an API key (`TXN_API_KEY`), every endpoint but `/livez` and `/readyz`
requires it: in the `X-API-Key` header, or as the password of HTTP Basic (any user name) so a
browser can open the dashboards. Each client has a budget of reads and uploads; past it,
429 with `Retry-After`.
"""

TAGS = [
    {"name": "uploads", "description": "Files in, and what became of their rows."},
    {"name": "summary", "description": "A user's transactions over a range of days."},
    {"name": "analytics", "description": "A user's risk profile and daily spend trend."},
    {"name": "dashboards", "description": "HTML pages with Plotly charts."},
    {"name": "health", "description": "Liveness of the service, readiness of its warehouse."},
]


ACCESS_RESPONSES: dict[int | str, dict] = {
    401: documented("The service has a key and the request does not carry it."),
    429: documented("Too many requests from this client; `Retry-After` says when to retry."),
}


def _version() -> str:
    try:
        return version("txn-platform")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"


@asynccontextmanager
async def _warehouse_pools(app: FastAPI) -> AsyncIterator[None]:
    """The read endpoints' pools live as long as the app; opening them does not wait for the
    warehouse, so the service starts (and says so on /readyz) while the database is down."""
    app.state.read_pool = read_pool(app.state.settings)
    app.state.lookup_pool = lookup_pool(app.state.settings)
    await app.state.read_pool.open(wait=False)
    await app.state.lookup_pool.open(wait=False)
    app.state.read_lookups = ReadLookups(app.state.lookup_pool)
    try:
        yield
    finally:
        await app.state.lookup_pool.close()
        await app.state.read_pool.close()
        if pool := getattr(app.state, "pool", None):  # the writers' pool, opened on first use
            pool.close()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    keep_freed_memory()  # half-megabyte answers, without the kernel's page faults each time
    async with _warehouse_pools(app):
        # What is imported and built by now lives as long as the process. Frozen, it is left
        # out of the collector's full passes, which would otherwise walk its ~75,000 objects
        # every couple of thousand requests and stall every request in flight.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app, serving `settings` (by default, the environment's)."""
    app = FastAPI(
        lifespan=_lifespan,
        title="Transaction analytics API",
        description=DESCRIPTION,
        version=_version(),
        openapi_tags=TAGS,
    )
    app.state.settings = settings or get_settings()
    app.state.rate_limits = RateLimits.from_settings(app.state.settings)
    app.add_middleware(SecurityHeaders)
    for module in (uploads, summary, analytics, dashboards):
        app.include_router(module.router, dependencies=DATA_ACCESS, responses=ACCESS_RESPONSES)
    app.include_router(health.router)
    return app


app = create_app()
