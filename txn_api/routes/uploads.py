"""Uploads: a CSV file streamed into the landing zone, then its ledger row and rejected rows.

`POST /upload` never holds a file in memory: the multipart body is parsed as it arrives
(txn_api.multipart) and the file goes to the landing zone in chunks, its head checked against
the data contract before anything is stored (txn_api.streamed_upload). The file becomes visible
to the Dagster sensor (an atomic rename into incoming/) only after its ledger row exists.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

import anyio
import psycopg
from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, status
from starlette.requests import ClientDisconnect

from txn_api.db import connect_warehouse
from txn_api.deps import ConnectionDep, LandingZoneDep, SettingsDep
from txn_api.errors import (
    WAREHOUSE_DOWN,
    bad_request,
    documented,
    not_found,
    unprocessable,
    warehouse_unavailable,
)
from txn_api.multipart import file_part_events, reject_declared_oversize
from txn_api.schemas import RejectedRow, RejectedRows, UploadAccepted, UploadStatus
from txn_api.security import refuse_cross_site
from txn_api.streamed_upload import StreamedUpload
from txn_core import ledger
from txn_core.settings import Settings

router = APIRouter(tags=["uploads"])
log = logging.getLogger(__name__)

FILE_FIELD = "file"

LEDGER_READ_ERRORS: dict[int | str, dict] = {
    status.HTTP_404_NOT_FOUND: documented("No upload has this id."),
    status.HTTP_503_SERVICE_UNAVAILABLE: WAREHOUSE_DOWN,
}


async def _receive_file(request: Request, upload: StreamedUpload) -> None:
    async for kind, payload in file_part_events(
        request, FILE_FIELD, upload.settings.max_upload_bytes
    ):
        await upload.handle(kind, payload)
    if upload.file_name is None:
        raise unprocessable(f"the form has no file field `{FILE_FIELD}`")
    if not upload.complete:
        raise bad_request("the multipart body ended before the file was complete")


def _register(settings: Settings, upload_id: str, file_name: str, key: str, size: int) -> None:
    with connect_warehouse(settings) as conn:
        ledger.register_upload(
            conn, upload_id=upload_id, source="api", file_name=file_name,
            landing_key=key, size_bytes=size,
        )  # fmt: skip


def _record_failure(settings: Settings, upload_id: str, error: str) -> None:
    """The row was registered but its file never landed: say so, rather than stay queued."""
    try:
        with connect_warehouse(settings) as conn:
            ledger.mark_failed(conn, upload_id, error)
    except psycopg.Error:
        pass  # the caller re-raises the storage error, which is what the client must see


@router.post(
    "/upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadAccepted,
    response_description="The file is stored and queued for ingestion.",
    summary="Upload a CSV file of transactions",
    description=(
        "Send the file as multipart/form-data in the field `file` (`.csv` or `.csv.gz`). "
        "The body is streamed to the landing zone; the answer comes once the file is stored "
        "and queued for ingestion. Follow it at `status_url`. A browser's cross-site post is "
        "refused."
    ),
    dependencies=[Depends(refuse_cross_site)],
    responses={
        status.HTTP_400_BAD_REQUEST: documented(
            "The file breaks the contract (not CSV text, not UTF-8, a required column missing), "
            "its name does not end with .csv or .csv.gz, or the multipart body is malformed. "
            "Nothing is stored."
        ),
        status.HTTP_403_FORBIDDEN: documented(
            "The request comes from another site's page in a browser (a cross-site form post)."
        ),
        status.HTTP_413_CONTENT_TOO_LARGE: documented(
            "The file is larger than the service's limit (TXN_MAX_UPLOAD_BYTES). Nothing is stored."
        ),
        status.HTTP_422_UNPROCESSABLE_CONTENT: documented(
            "The body is not multipart/form-data, or has no `file` field."
        ),
        status.HTTP_503_SERVICE_UNAVAILABLE: documented(
            "The warehouse does not answer, so the upload cannot be queued. Nothing is stored."
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [FILE_FIELD],
                        "properties": {
                            FILE_FIELD: {
                                "type": "string",
                                "format": "binary",
                                "description": "The CSV file (.csv or .csv.gz).",
                            }
                        },
                    }
                }
            },
        }
    },
)
async def upload_file(
    request: Request, settings: SettingsDep, zone: LandingZoneDep
) -> UploadAccepted:
    reject_declared_oversize(request, settings.max_upload_bytes)
    upload_id = "u" + uuid.uuid4().hex
    upload = StreamedUpload(settings, zone, upload_id, FILE_FIELD)
    try:
        await _receive_file(request, upload)
        assert upload.file_name is not None and upload.writer is not None
        # The ledger row first, under the key the file will have: the sensor must find the row
        # as soon as the file appears in incoming/.
        key = upload.writer.final_key
        try:
            await to_thread.run_sync(
                _register, settings, upload_id, upload.file_name, key, upload.size
            )
        except psycopg.OperationalError as exc:
            raise warehouse_unavailable(exc) from exc
        try:
            await to_thread.run_sync(upload.writer.commit)
        except BaseException as exc:
            log.warning("Upload %s: the file could not be stored: %s", upload_id, exc)
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(
                    _record_failure, settings, upload_id, "the file could not be stored"
                )
            raise
        upload.writer = None
    except ClientDisconnect as exc:
        await upload.abort()
        raise bad_request("the client disconnected before the upload was complete") from exc
    except BaseException:
        await upload.abort()
        raise
    return UploadAccepted(
        upload_id=upload_id,
        status="queued",
        status_url=str(request.app.url_path_for("get_upload_status", upload_id=upload_id)),
    )


@router.get(
    "/uploads/{upload_id}",
    response_model=UploadStatus,
    name="get_upload_status",
    summary="Where an upload is, and what its rows became",
    responses=LEDGER_READ_ERRORS,
)
def get_upload_status(upload_id: str, conn: ConnectionDep) -> UploadStatus:
    row = ledger.get_upload(conn, upload_id)
    if row is None:
        raise not_found(f"no upload with id {upload_id!r}")
    return UploadStatus.model_validate(row)


@router.get(
    "/uploads/{upload_id}/rejected",
    response_model=RejectedRows,
    summary="The rows of an upload that broke the contract, with the reason for each",
    responses=LEDGER_READ_ERRORS,
)
def list_rejected_rows(
    upload_id: str,
    conn: ConnectionDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows per page.")] = 100,
    offset: Annotated[int, Query(ge=0, description="Rows to skip, in file order.")] = 0,
) -> RejectedRows:
    upload = ledger.get_upload(conn, upload_id)
    if upload is None:
        raise not_found(f"no upload with id {upload_id!r}")
    rows = ledger.list_rejected_rows(conn, upload_id, limit, offset)
    return RejectedRows(
        upload_id=upload_id,
        rows_rejected=upload["rows_rejected"],
        limit=limit,
        offset=offset,
        rows=[RejectedRow.model_validate(row) for row in rows],
    )
