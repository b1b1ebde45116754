"""What routes get injected: the settings, a warehouse connection, the landing zone and the
API key check. The settings come from the app itself, so tests build an app with their own.

Dependencies that never wait are `async def`: FastAPI runs those on the event loop, where a
plain `def` would cost each request a hop through the thread pool.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from txn_api.lookups import POOL_SIZE as LOOKUP_POOL_SIZE
from txn_api.lookups import ReadLookups
from txn_core.landing import LandingZone, landing_zone_from_url
from txn_core.settings import Settings

POOL_MAX_CONNECTIONS = 10
CONNECT_TIMEOUT_SECONDS = 5
API_KEY_HEADER = "X-API-Key"
# The batched lookups' sessions (see lookup_pool).
LOOKUP_SESSION_OPTIONS = "-c plan_cache_mode=force_generic_plan"


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def connect_warehouse(settings: Settings) -> psycopg.Connection:
    """A short-lived autocommit connection: the API reads single rows and writes single rows."""
    return psycopg.connect(
        settings.warehouse_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
    )


def _pool_options(settings: Settings) -> dict:
    """What both pools share: the warehouse, their size and their connections' settings."""
    return {
        "conninfo": settings.warehouse_url,
        "min_size": 1,
        "max_size": POOL_MAX_CONNECTIONS,
        "timeout": CONNECT_TIMEOUT_SECONDS,  # waiting for a free connection, then 503
        "kwargs": {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
    }


def warehouse_unavailable(exc: psycopg.Error) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"the warehouse is unavailable: {exc}"
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
    options["kwargs"] = options["kwargs"] | {"options": LOOKUP_SESSION_OPTIONS}
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

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="Required by writing endpoints when the service has TXN_API_KEY set.",
)


async def require_api_key(
    settings: SettingsDep, given: Annotated[str | None, Security(api_key_header)]
) -> None:
    """Writing endpoints need the key when one is configured (an empty TXN_API_KEY means none)."""
    expected = settings.api_key.get_secret_value() if settings.api_key else ""
    if not expected:
        return
    challenge = {"WWW-Authenticate": "ApiKey"}
    if not given:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"missing API key: send it in the {API_KEY_HEADER} header",
            headers=challenge,
        )
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="invalid API key", headers=challenge
        )
