"""Response models of the HTTP interface, with the examples the OpenAPI page shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

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


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="`ok` when every dependency answers.")
    database: Literal["ok", "unavailable"]
    error: str | None = Field(default=None, description="Why the database is unavailable.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ok", "database": "ok", "error": None},
                {
                    "status": "degraded",
                    "database": "unavailable",
                    "error": "connection to server at 127.0.0.1, port 5432 failed",
                },
            ]
        }
    )
