"""A user's risk profile and daily spend trend, read from their materialised tables."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from txn_api.deps import ReadConnectionDep, ReadLookupsDep
from txn_api.errors import (
    BAD_DATE_RANGE,
    BAD_DATES_OR_USER_ID,
    BAD_USER_ID,
    WAREHOUSE_DOWN,
    documented,
    not_found,
    warehouse_errors_as_503,
)
from txn_api.params import EndDate, StartDate, UserId, check_date_range, describe_range
from txn_api.schemas import RiskMetrics, RiskProfile, SpendTrendPoint
from txn_core import reads

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get(
    "/risk-profile/{user_id}",
    response_model=RiskProfile,
    summary="A user's risk metrics: whale rank, volatility, velocity",
    responses={
        status.HTTP_404_NOT_FOUND: documented("No risk profile for this user."),
        status.HTTP_422_UNPROCESSABLE_CONTENT: BAD_USER_ID,
        status.HTTP_503_SERVICE_UNAVAILABLE: WAREHOUSE_DOWN,
    },
)
async def get_risk_profile(user_id: UserId, lookups: ReadLookupsDep) -> RiskProfile:
    with warehouse_errors_as_503():
        profile = await lookups.risk_profiles.load(user_id)
    if profile is None:
        raise not_found(f"no risk profile for user {user_id}")
    return RiskProfile(
        user_id=user_id,
        risk_metrics=RiskMetrics.from_profile(profile),
        analysis=reads.risk_assessment(profile),
    )


@router.get(
    "/spend-trend/{user_id}",
    response_model=list[SpendTrendPoint],
    summary="A user's daily spend and 7-day moving average, by date",
    description=(
        "Every calendar day from the user's first to last active day (0 on days without "
        "spend), in date order; `start_date` and `end_date` (inclusive) narrow the range."
    ),
    responses={
        status.HTTP_400_BAD_REQUEST: BAD_DATE_RANGE,
        status.HTTP_404_NOT_FOUND: documented("The user is unknown, or has no days in the range."),
        status.HTTP_422_UNPROCESSABLE_CONTENT: BAD_DATES_OR_USER_ID,
        status.HTTP_503_SERVICE_UNAVAILABLE: WAREHOUSE_DOWN,
    },
)
async def get_spend_trend(
    user_id: UserId,
    conn: ReadConnectionDep,
    start_date: StartDate = None,
    end_date: EndDate = None,
) -> Response:
    check_date_range(start_date, end_date)
    days = await reads.spend_trend_json(conn, user_id, start_date, end_date)
    if days == b"[]":
        if await reads.user_has_trend(conn, user_id):
            detail = f"user {user_id} has no trend days {describe_range(start_date, end_date)}"
        else:
            detail = f"no spend trend for user {user_id}"
        raise not_found(detail)
    # Already the response's JSON (the model above documents it): sent without re-encoding.
    return Response(content=days, media_type="application/json")
