"""Response models of the HTTP interface, with the examples the OpenAPI page shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_REJECTED_LINE = "6f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11,1,2,2024-03-01T10:00:00,abc"

UploadState = Literal["queued", "running", "succeeded", "failed"]


class ErrorMessage(BaseModel):
    """The body of every error this service raises itself."""

    detail: str = Field(description="What went wrong, in words a user can act on.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "missing required column(s): user_id"}]}
    )


class UploadAccepted(BaseModel):
    upload_id: str = Field(description="The upload's id; its status is at `status_url`.")
    status: Literal["queued"] = Field(description="Always `queued`: ingestion runs next.")
    status_url: str = Field(description="Where to follow the upload's progress.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "upload_id": "u0f8fad5bd9cb469fa16570867728950e",
                    "status": "queued",
                    "status_url": "/uploads/u0f8fad5bd9cb469fa16570867728950e",
                }
            ]
        }
    )


class UploadStatus(BaseModel):
    """An upload's ledger row: where it is, and what its rows became.

    Once succeeded, `rows_read = rows_loaded + rows_duplicate + rows_rejected`."""

    upload_id: str
    status: UploadState
    file_name: str = Field(description="The file's name as the client sent it.")
    source: str = Field(description="`api` (uploaded here) or `landing` (dropped in the zone).")
    size_bytes: int | None = Field(default=None, description="Size of the file as received.")
    rows_read: int
    rows_loaded: int = Field(description="New transactions stored.")
    rows_duplicate: int = Field(description="Rows whose transaction_id was already known.")
    rows_rejected: int = Field(description="Rows that broke the contract (see `/rejected`).")
    error: str | None = Field(default=None, description="Why the upload failed, when it did.")
    first_timestamp: datetime | None = None
    last_timestamp: datetime | None = None
    days_touched: list[date] = Field(default_factory=list, description="Days with new rows.")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "upload_id": "u0f8fad5bd9cb469fa16570867728950e",
                    "status": "succeeded",
                    "file_name": "march.csv",
                    "source": "api",
                    "size_bytes": 1048576,
                    "rows_read": 12000,
                    "rows_loaded": 11950,
                    "rows_duplicate": 40,
                    "rows_rejected": 10,
                    "error": None,
                    "first_timestamp": "2024-03-01T00:00:04Z",
                    "last_timestamp": "2024-03-02T23:59:51Z",
                    "days_touched": ["2024-03-01", "2024-03-02"],
                    "created_at": "2024-03-03T09:00:00Z",
                    "started_at": "2024-03-03T09:00:06Z",
                    "finished_at": "2024-03-03T09:00:09Z",
                }
            ]
        }
    )


class RejectedRow(BaseModel):
    line_number: int = Field(description="Line in the file, the header being line 1.")
    reason: str
    raw_line: str | None = Field(default=None, description="The line as it was in the file.")


class RejectedRows(BaseModel):
    """A page of an upload's rejected rows, in file order."""

    upload_id: str
    rows_rejected: int = Field(description="How many rows of the upload were rejected in all.")
    limit: int
    offset: int
    rows: list[RejectedRow]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "upload_id": "u0f8fad5bd9cb469fa16570867728950e",
                    "rows_rejected": 1,
                    "limit": 100,
                    "offset": 0,
                    "rows": [
                        {
                            "line_number": 7,
                            "reason": "transaction_amount is not a decimal with at most 2 places",
                            "raw_line": EXAMPLE_REJECTED_LINE,
                        }
                    ],
                }
            ]
        }
    )


class Liveness(BaseModel):
    status: Literal["alive"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"] = Field(
        description="`ready` when the warehouse answers."
    )
    database: Literal["ok", "unavailable"]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "database": "ok"},
                {"status": "unavailable", "database": "unavailable"},
            ]
        }
    )


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: the part of the request and its name.")
    msg: str
    type: str
    input: Any = Field(default=None, description="The value that was rejected.")


class ValidationProblem(BaseModel):
    """The body of a 422: FastAPI's report of the parameters that failed validation."""

    detail: list[ValidationIssue]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "type": "date_from_datetime_parsing",
                            "loc": ["query", "start_date"],
                            "msg": "Input should be a valid date or datetime, month value is "
                            "outside expected range of 1-12",
                            "input": "2024-13-01",
                        }
                    ]
                }
            ]
        }
    )


class UserSummary(BaseModel):
    """A user's transactions over a range of whole UTC days, both ends inclusive."""

    user_id: int
    max_transaction: float = Field(description="The largest single transaction in the range.")
    min_transaction: float = Field(description="The smallest single transaction in the range.")
    mean_transaction: float = Field(
        description="total_amount / transaction_count, exact (not rounded)."
    )
    transaction_count: int
    total_amount: float
    start_date: date | None = Field(description="The range's first day; null when open.")
    end_date: date | None = Field(description="The range's last day; null when open.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": 42,
                    "max_transaction": 912.4,
                    "min_transaction": 3.15,
                    "mean_transaction": 187.6200350877193,
                    "transaction_count": 57,
                    "total_amount": 10694.34,
                    "start_date": "2024-03-01",
                    "end_date": "2024-03-31",
                }
            ]
        }
    )


class RiskMetrics(BaseModel):
    global_whale_rank: int = Field(description="Dense rank by lifetime spend; 1 spends most.")
    spending_volatility_index: float = Field(
        description="Standard deviation / mean of the user's amounts, 2 places."
    )
    total_lifetime_spend: float
    max_single_transaction_spike: float = Field(description="The largest single transaction.")
    shortest_time_between_transactions_mins: float | None = Field(
        description="Shortest gap between two consecutive transactions, in minutes; null for a "
        "single transaction."
    )
    transaction_count: int
    mean_transaction: float = Field(description="Lifetime spend / transactions, exact.")
    stddev_transaction: float
    transactions_per_active_day: float = Field(
        description="Transactions per day on which the user transacted."
    )
    transactions_last_24h: int = Field(
        description="Transactions in the 24 hours up to the user's latest transaction."
    )
    first_transaction_at: datetime
    last_transaction_at: datetime

    @classmethod
    def from_profile(cls, profile: dict[str, Any]) -> RiskMetrics:
        """The reference's field names for the columns of user_risk_profile."""
        return cls(
            global_whale_rank=profile["global_whale_rank"],
            spending_volatility_index=profile["volatility_index"],
            total_lifetime_spend=profile["total_spend"],
            max_single_transaction_spike=profile["max_single_transaction"],
            shortest_time_between_transactions_mins=profile["shortest_gap_minutes"],
            transaction_count=profile["tx_count"],
            mean_transaction=profile["mean_amount"],
            stddev_transaction=profile["stddev_amount"],
            transactions_per_active_day=profile["tx_per_active_day"],
            transactions_last_24h=profile["tx_last_24h"],
            first_transaction_at=profile["first_transaction_at"],
            last_transaction_at=profile["last_transaction_at"],
        )


class RiskProfile(BaseModel):
    """A user's risk metrics, with a short reading of them."""

    user_id: int
    risk_metrics: RiskMetrics
    analysis: str = Field(description="Whale status, volatility level, rapid-fire activity.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": 42,
                    "risk_metrics": {
                        "global_whale_rank": 3,
                        "spending_volatility_index": 1.27,
                        "total_lifetime_spend": 48210.55,
                        "max_single_transaction_spike": 4999.0,
                        "shortest_time_between_transactions_mins": 1.5,
                        "transaction_count": 212,
                        "mean_transaction": 227.41,
                        "stddev_transaction": 288.8,
                        "transactions_per_active_day": 2.41,
                        "transactions_last_24h": 4,
                        "first_transaction_at": "2024-01-02T08:14:00Z",
                        "last_transaction_at": "2024-03-31T21:40:12Z",
                    },
                    "analysis": (
                        "Whale: rank 3 by lifetime spend, among the top 10 spenders. Highly "
                        "volatile spending (volatility index 1.27). Rapid-fire activity: two "
                        "transactions 1.5 minutes apart."
                    ),
                }
            ]
        }
    )


class SpendTrendPoint(BaseModel):
    """One calendar day of a user's trend (days without spend have a total of 0)."""

    spend_date: date
    daily_total: float
    rolling_7d_avg: float = Field(
        description="Mean daily_total of this day and the 6 before it (fewer at the series' start)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"spend_date": "2024-03-05", "daily_total": 120.5, "rolling_7d_avg": 86.1}]
        }
    )
