"""What routes get injected: the settings, a warehouse connection and the landing zone. The
settings come from the app itself, so tests build an app with their own (the key, cross-site
and rate-limit checks are in txn_api.security).

Dependencies that never wait are `async def`: FastAPI runs those on the event loop, where a
plain `def` would cost each request a hop through the thread pool.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request, status
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from txn_api.lookups import POOL_SIZE as LOOKUP_POOL_SIZE
from txn_api.lookups import ReadLookups
from txn_core.landing import LandingZone, landing_zone_from_url
from txn_core.settings import Settings

POOL_MAX_CONNECTIONS = 10
CONNECT_TIMEOUT_SECONDS = 5
# The batched lookups' sessions (see lookup_pool).
LOOKUP_SESSION_OPTIONS = "-c plan_cache_mode=force_generic_plan"


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


log = logging.getLogger(__name__)


def _session_options(settings: Settings) -> str:
    """No statement of the API runs longer than this: a stuck query frees its connection."""
    return f"-c statement_timeout={int(settings.statement_timeout_seconds * 1000)}"


def connect_warehouse(settings: Settings) -> psycopg.Connection:
    """A short-lived autocommit connection: the API reads single rows and writes single rows."""
    return psycopg.connect(
        settings.warehouse_url,
        autocommit=True,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        options=_session_options(settings),
    )


def _pool_options(settings: Settings) -> dict:
    """What both pools share: the warehouse, their size and their connections' settings."""
    return {
        "conninfo": settings.warehouse_url,
        "min_size": 1,
        "max_size": POOL_MAX_CONNECTIONS,
        "timeout": CONNECT_TIMEOUT_SECONDS,  # waiting for a free connection, then 503
        "kwargs": {
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": _session_options(settings),
        },
    }


def warehouse_unavailable(exc: Exception) -> HTTPException:
    """503 for the client; why, with the driver's words (host, user), for the logs only."""
    log.warning("The warehouse is unavailable: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail="the warehouse is unavailable; try again shortly",
        headers={"Retry-After": "5"},
    )


async def warehouse_pool(request: Request, settings: SettingsDep) -> ConnectionPool:
    """The app's connection pool, opened on first use: opening a connection per request costs
    more than the primary-key lookups the read endpoints make. Opening does not wait for the
    connections (they are made in the background), so the event loop never blocks here."""
    pool = getattr(request.app.state, "pool", None)
    if pool is None:
        pool = request.app.state.pool = ConnectionPool(
            **_pool_options(settings), open=True, name="warehouse"
        )
    return pool


@contextmanager
def warehouse_errors_as_503() -> Iterator[None]:
    """The warehouse down or every pooled connection busy for too long: 503, saying so."""
    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise warehouse_unavailable(exc) from exc


def get_connection(
    pool: Annotated[ConnectionPool, Depends(warehouse_pool)],
) -> Iterator[psycopg.Connection]:
    with warehouse_errors_as_503(), pool.connection() as conn:
        yield conn


ConnectionDep = Annotated[psycopg.Connection, Depends(get_connection)]


def read_pool(settings: Settings) -> AsyncConnectionPool:
    """The pool the read endpoints await their connections from (opened and closed by the
    app's lifespan, see txn_api.main): reads run on the event loop, with no thread each."""
    return AsyncConnectionPool(**_pool_options(settings), open=False, name="warehouse-reads")


async def get_read_connection(request: Request) -> AsyncIterator[psycopg.AsyncConnection]:
    pool: AsyncConnectionPool = request.app.state.read_pool
    with warehouse_errors_as_503():
        async with pool.connection() as conn:
            yield conn


ReadConnectionDep = Annotated[psycopg.AsyncConnection, Depends(get_read_connection)]


def lookup_pool(settings: Settings) -> AsyncConnectionPool:
    """The batched lookups' own pool (txn_api.lookups), whose sessions always reuse the plan
    PostgreSQL prepared for a lookup. By default PostgreSQL prices a batch's key array at 10
    keys whatever its length, finds its cached plan dearer than one made for the actual keys,
    and so plans the lookup anew on every call: 1-2 ms, more than running it."""
    options = _pool_options(settings) | {"max_size": LOOKUP_POOL_SIZE}
    session = f"{options['kwargs']['options']} {LOOKUP_SESSION_OPTIONS}"
    options["kwargs"] = options["kwargs"] | {"options": session}
    return AsyncConnectionPool(**options, open=False, name="warehouse-lookups")


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
