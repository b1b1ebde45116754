"""A user's transaction summary over a range of days, from the per-month and per-day spend
tables.

The figures are exact: user_monthly_spend and user_daily_spend keep count, total, minimum and
maximum, which merge without loss, so no request reads `transactions`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from txn_api.deps import ReadLookupsDep, warehouse_errors_as_503
from txn_api.schemas import UserSummary, error_response, validation_response

router = APIRouter(tags=["summary"])

# user_id is a PostgreSQL integer: anything larger cannot exist, so it is a malformed request.
MAX_USER_ID = 2**31 - 1

UserId = Annotated[
    int, Path(gt=0, le=MAX_USER_ID, description="The user's id (a positive integer).")
]
StartDate = Annotated[
    dt.date | None,
    Query(description="First day of the range (UTC, YYYY-MM-DD), inclusive; open when left out."),
]
EndDate = Annotated[
    dt.date | None,
    Query(description="Last day of the range (UTC, YYYY-MM-DD), inclusive; open when left out."),
]


def check_date_range(start_date: dt.date | None, end_date: dt.date | None) -> None:
    if start_date is not None and end_date is not None and start_date > end_date:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=f"start_date {start_date} is after end_date {end_date}",
        )


def describe_range(start_date: dt.date | None, end_date: dt.date | None) -> str:
    if start_date and end_date:
        return f"from {start_date} to {end_date}"
    if start_date:
        return f"on or after {start_date}"
    if end_date:
        return f"on or before {end_date}"
    return "at all"


@router.get(
    "/summary/{user_id}",
    response_model=UserSummary,
    summary="Largest, smallest and mean transaction of a user over a range of days",
    description=(
        "Exact figures over whole UTC days from `start_date` to `end_date`, both inclusive. "
        "Either date may be left out for an open-ended range."
    ),
    responses={
        status.HTTP_400_BAD_REQUEST: error_response("`start_date` is after `end_date`."),
        status.HTTP_404_NOT_FOUND: error_response(
            "The user is unknown, or has no transactions in the range."
        ),
        status.HTTP_422_UNPROCESSABLE_CONTENT: validation_response(
            "A date is not a valid YYYY-MM-DD date, or `user_id` is not a positive integer."
        ),
        status.HTTP_503_SERVICE_UNAVAILABLE: error_response("The warehouse does not answer."),
    },
)
async def get_user_summary(
    user_id: UserId,
    lookups: ReadLookupsDep,
    start_date: StartDate = None,
    end_date: EndDate = None,
) -> UserSummary:
    check_date_range(start_date, end_date)
    with warehouse_errors_as_503():
        # Every ask gets a row; its figures are null when the range holds no transaction.
        row = await lookups.summaries.load((user_id, start_date, end_date))
    if row["transaction_count"] is None:
        if row["has_spend"]:
            detail = f"user {user_id} has no transactions {describe_range(start_date, end_date)}"
        else:
            detail = f"no transactions for user {user_id}"
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)
    return UserSummary(
        user_id=user_id,
        start_date=start_date,
        end_date=end_date,
        transaction_count=row["transaction_count"],
        total_amount=row["total_amount"],
        min_transaction=row["min_transaction"],
        max_transaction=row["max_transaction"],
        mean_transaction=row["mean_transaction"],
    )
