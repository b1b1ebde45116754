"""Which failures are worth another attempt.

Transient: the warehouse dropped the connection, was shutting down or asked for a retry
(serialization failure, deadlock); S3 throttled or failed on its side; the network broke; the
disk was full. Everything else (a file that breaks the contract, a missing file, a bug) fails
the same way every time, so retrying it only delays the error.
"""

from __future__ import annotations

import errno

import duckdb
import psycopg
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from txn_core.contract import FileRejected

# SQLSTATE classes: connection exception, transaction rollback (serialization failure,
# deadlock), insufficient resources, operator intervention (shutdown, cancel).
TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")
TRANSIENT_S3_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestLimitExceeded",
    "InternalError",
    "ServiceUnavailable",
    "503",
    "500",
}
FULL_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def is_transient(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, may pass if tried again later."""
    seen: BaseException | None = exc
    while seen is not None:
        if _transient_itself(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _transient_itself(exc: BaseException) -> bool:
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate or ""
        # No SQLSTATE: the connection itself failed (refused, dropped, reset).
        return state.startswith(TRANSIENT_SQLSTATE_CLASSES) or (
            not state and isinstance(exc, psycopg.OperationalError)
        )
    if isinstance(exc, ClientError):
        response = exc.response
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return response.get("Error", {}).get("Code") in TRANSIENT_S3_CODES or status >= 500
    if isinstance(exc, ConnectionError | HTTPClientError):
        return True
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
        return exc.errno in FULL_DISK_ERRNOS
    if isinstance(exc, duckdb.IOException | duckdb.OutOfMemoryException):
        return "No space left on device" in str(exc) or isinstance(exc, duckdb.OutOfMemoryException)
    return False


def public_reason(exc: BaseException) -> str:
    """What the ledger, and so the API, may say of a failure: the contract's own words, or the
    kind of failure. A driver's words name hosts and users: they stay in the logs."""
    if isinstance(exc, FileRejected):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return "the file is no longer where the ledger says it was"
    kind = "a transient failure" if is_transient(exc) else "an unexpected error"
    return f"{kind} ({type(exc).__name__}); the run's log says more"
