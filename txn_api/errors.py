"""The API's errors in one place: what each tells the client, and how the OpenAPI documents it.

A client reads `detail`; the driver's own words (they name the warehouse's host and user) go to
the service's log only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from fastapi import HTTPException, status
from psycopg_pool import PoolTimeout

from txn_api.schemas import ErrorMessage, ValidationProblem

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def documented(description: str) -> dict[str, Any]:
    """An error the service raises itself, as a route's `responses` entry."""
    return {"model": ErrorMessage, "description": description}


def documented_validation(description: str) -> dict[str, Any]:
    """A 422 from FastAPI's own parameter validation, as a route's `responses` entry."""
    return {"model": ValidationProblem, "description": description}


WAREHOUSE_DOWN = documented("The warehouse does not answer; `Retry-After` says when to retry.")
BAD_DATE_RANGE = documented("`start_date` is after `end_date`.")
BAD_USER_ID = documented_validation("`user_id` is not a positive integer.")
BAD_DATES_OR_USER_ID = documented_validation(
    "A date is not a valid YYYY-MM-DD date, or `user_id` is not a positive integer."
)


def bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail)


def not_found(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"the file is larger than the limit of {limit} bytes",
    )


def unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def warehouse_unavailable(exc: Exception) -> HTTPException:
    """503 for the client; why, with the driver's words, for the logs only."""
    log.warning("The warehouse is unavailable: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail="the warehouse is unavailable; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@contextmanager
def warehouse_errors_as_503() -> Iterator[None]:
    """The warehouse down or every pooled connection busy for too long: 503, saying so."""
    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise warehouse_unavailable(exc) from exc
