"""The API's connections to the warehouse: one-off connections for the rare writes and health
checks, a pool for the ledger's reads, and two async pools for the analytics reads (opened and
closed by the app's lifespan, see txn_api.main). Every session has a statement timeout, so a
stuck query frees its connection."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from txn_api.lookups import POOL_SIZE as LOOKUP_POOL_SIZE
from txn_core.settings import Settings
from txn_core.sql import load_sql

POOL_MAX_CONNECTIONS = 10
CONNECT_TIMEOUT_SECONDS = 5
# libpq's receive buffer starts at 16 KiB and grows only to fit a message. A whole trend (half a
# megabyte at 10M rows) comes as 2 KiB months, so through 16 KiB it took ~30 reads, each a trip
# through the event loop; through 1 MiB, one or two. With txn_api.allocator, this halves the
# API's CPU per trend (1.6-2.0 ms to 0.8 ms at 10M rows) and the database's (0.7 to 0.4 ms).
RECEIVE_BUFFER_BYTES = 512 * 1024  # a message this size grows the buffer to 1 MiB
# The batched lookups' sessions reuse the plan PostgreSQL prepared (see lookup_pool).
LOOKUP_SESSION_OPTIONS = "-c plan_cache_mode=force_generic_plan"


def _session_options(settings: Settings) -> str:
    # No JIT: every read is a lookup of milliseconds, and a trend's plan carries the branch that
    # computes it from the days (user_spend_trend_of), estimated at millions of rows: compiling
    # for it would cost 100-150 ms per answer, for a branch that seldom runs.
    timeout = int(settings.statement_timeout_seconds * 1000)
    return f"-c statement_timeout={timeout} -c jit=off"


def connect_warehouse(settings: Settings) -> psycopg.Connection:
    """A short-lived autocommit connection: the API writes single rows."""
    return psycopg.connect(
        settings.warehouse_url,
        autocommit=True,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        options=_session_options(settings),
    )


def _pool_options(settings: Settings) -> dict[str, Any]:
    """What every pool shares: the warehouse, their size and their connections' settings."""
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


def ledger_pool(settings: Settings) -> ConnectionPool:
    """The upload ledger's reads (sync routes, in FastAPI's thread pool). Opening does not wait
    for the connections: they are made in the background."""
    return ConnectionPool(**_pool_options(settings), open=True, name="warehouse")


def read_pool(settings: Settings) -> AsyncConnectionPool:
    """The pool the read endpoints await their connections from: reads run on the event loop,
    with no thread each."""
    return AsyncConnectionPool(
        **_pool_options(settings),
        open=False,
        name="warehouse-reads",
        configure=_widen_receive_buffer,
    )


async def _widen_receive_buffer(conn: psycopg.AsyncConnection) -> None:
    """Grow a new read connection's receive buffer once, with one large message (see
    RECEIVE_BUFFER_BYTES)."""
    await conn.execute(load_sql("reads/widen_receive_buffer"), {"bytes": RECEIVE_BUFFER_BYTES})


def lookup_pool(settings: Settings) -> AsyncConnectionPool:
    """The batched lookups' own pool (txn_api.lookups), whose sessions always reuse the plan
    PostgreSQL prepared for a lookup. By default PostgreSQL prices a batch's key array at 10
    keys whatever its length, finds its cached plan dearer than one made for the actual keys,
    and so plans the lookup anew on every call, which costs more than running it."""
    options = _pool_options(settings) | {"max_size": LOOKUP_POOL_SIZE}
    session = f"{options['kwargs']['options']} {LOOKUP_SESSION_OPTIONS}"
    options["kwargs"] = options["kwargs"] | {"options": session}
    return AsyncConnectionPool(**options, open=False, name="warehouse-lookups")
