"""A user's transaction summary over a range of days, from the per-month and per-day spend
tables.

The figures are exact: user_monthly_spend and user_daily_spend keep count, total, minimum and
maximum, which merge without loss, so no request reads `transactions`.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from txn_api.deps import ReadLookupsDep
from txn_api.errors import (
    BAD_DATE_RANGE,
    BAD_DATES_OR_USER_ID,
    WAREHOUSE_DOWN,
    documented,
    not_found,
    warehouse_errors_as_503,
)
from txn_api.params import EndDate, StartDate, UserId, check_date_range, describe_range
from txn_api.schemas import UserSummary

router = APIRouter(tags=["summary"])


@router.get(
    "/summary/{user_id}",
    response_model=UserSummary,
    summary="Largest, smallest and mean transaction of a user over a range of days",
    description=(
        "Exact figures over whole UTC days from `start_date` to `end_date`, both inclusive. "
        "Either date may be left out for an open-ended range."
    ),
    responses={
        status.HTTP_400_BAD_REQUEST: BAD_DATE_RANGE,
        status.HTTP_404_NOT_FOUND: documented(
            "The user is unknown, or has no transactions in the range."
        ),
        status.HTTP_422_UNPROCESSABLE_CONTENT: BAD_DATES_OR_USER_ID,
        status.HTTP_503_SERVICE_UNAVAILABLE: WAREHOUSE_DOWN,
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
    assert row is not None  # the batched query answers every ask
    if row["transaction_count"] is None:
        if row["has_spend"]:
            detail = f"user {user_id} has no transactions {describe_range(start_date, end_date)}"
        else:
            detail = f"no transactions for user {user_id}"
        raise not_found(detail)
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
