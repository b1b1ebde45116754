"""Path and query parameters the routes share, and the checks that go with them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path, Query

from txn_api.errors import bad_request

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
        raise bad_request(f"start_date {start_date} is after end_date {end_date}")


def describe_range(start_date: dt.date | None, end_date: dt.date | None) -> str:
    if start_date and end_date:
        return f"from {start_date} to {end_date}"
    if start_date:
        return f"on or after {start_date}"
    if end_date:
        return f"on or before {end_date}"
    return "at all"
