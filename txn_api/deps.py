"""What routes get injected: the settings, a warehouse connection, the batched lookups and the
landing zone. The settings come from the app itself, so tests build an app with their own (the
key, cross-site and rate-limit checks are in txn_api.security; the pools in txn_api.db).

Dependencies that never wait are `async def`: FastAPI runs those on the event loop, where a
plain `def` would cost each request a hop through the thread pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from txn_api.db import ledger_pool
from txn_api.errors import warehouse_errors_as_503
from txn_api.lookups import ReadLookups
from txn_core.landing import landing_zone_from_url
from txn_core.landing.zone import LandingZone
from txn_core.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def _ledger_pool(request: Request, settings: SettingsDep) -> ConnectionPool:
    """Opened on first use: only the ledger's routes need it."""
    pool = getattr(request.app.state, "pool", None)
    if pool is None:
        pool = request.app.state.pool = ledger_pool(settings)
    return pool


def get_connection(
    pool: Annotated[ConnectionPool, Depends(_ledger_pool)],
) -> Iterator[psycopg.Connection]:
    with warehouse_errors_as_503(), pool.connection() as conn:
        yield conn


ConnectionDep = Annotated[psycopg.Connection, Depends(get_connection)]


async def get_read_connection(request: Request) -> AsyncIterator[psycopg.AsyncConnection]:
    pool: AsyncConnectionPool = request.app.state.read_pool
    with warehouse_errors_as_503():
        async with pool.connection() as conn:
            yield conn


ReadConnectionDep = Annotated[psycopg.AsyncConnection, Depends(get_read_connection)]


async def get_read_lookups(request: Request) -> ReadLookups:
    """The app's batched lookups (made by its lifespan, over their own pool)."""
    return request.app.state.read_lookups


ReadLookupsDep = Annotated[ReadLookups, Depends(get_read_lookups)]


def get_landing_zone(request: Request, settings: SettingsDep) -> LandingZone:
    # Built on first use, not at import: an S3 zone needs credentials only when used.
    zone = getattr(request.app.state, "landing_zone", None)
    if zone is None:
        zone = request.app.state.landing_zone = landing_zone_from_url(settings.landing)
    return zone


LandingZoneDep = Annotated[LandingZone, Depends(get_landing_zone)]
