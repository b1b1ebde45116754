"""Liveness and readiness, open without a key: the process answers; the warehouse answers.

Neither ever says why the warehouse does not answer: the driver's words name its host and
user, so they go to the service's log only.
"""

from __future__ import annotations

import logging

import psycopg
from anyio import to_thread
from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from txn_api.db import connect_warehouse
from txn_api.deps import SettingsDep
from txn_api.schemas import Liveness, Readiness
from txn_core.settings import Settings

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


def _ping_warehouse(settings: Settings) -> None:
    with connect_warehouse(settings) as conn:
        conn.execute("SELECT 1")


@router.get("/livez", response_model=Liveness, summary="Does the service run?")
async def livez() -> Liveness:
    return Liveness(status="alive")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Can the service answer: does its warehouse answer?",
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": Readiness,
            "description": "The warehouse does not answer (why is in the service's log).",
        }
    },
)
async def readyz(settings: SettingsDep) -> Readiness | JSONResponse:
    try:
        await to_thread.run_sync(_ping_warehouse, settings)
    except psycopg.Error as exc:
        log.warning("Not ready: the warehouse does not answer: %s", exc)
        return JSONResponse(
            Readiness(status="unavailable", database="unavailable").model_dump(),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Readiness(status="ready", database="ok")


# The address earlier releases documented: the same answer as /readyz.
router.add_api_route("/health", readyz, include_in_schema=False, response_model=Readiness)
