"""Liveness and readiness: the service answers, and so does the warehouse."""

from __future__ import annotations

import psycopg
from anyio import to_thread
from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from txn_api.deps import SettingsDep, connect_warehouse
from txn_api.schemas import Health
from txn_core.settings import Settings

router = APIRouter(tags=["health"])


def _ping_warehouse(settings: Settings) -> None:
    with connect_warehouse(settings) as conn:
        conn.execute("SELECT 1")


@router.get(
    "/health",
    response_model=Health,
    summary="Is the service ready?",
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": Health,
            "description": "The warehouse does not answer; `error` says why.",
        }
    },
)
async def health(settings: SettingsDep) -> Health | JSONResponse:
    try:
        await to_thread.run_sync(_ping_warehouse, settings)
    except psycopg.Error as exc:
        unavailable = Health(status="degraded", database="unavailable", error=str(exc).strip())
        return JSONResponse(
            unavailable.model_dump(), status_code=status.HTTP_503_SERVICE_UNAVAILABLE
        )
    return Health(status="ok", database="ok")
