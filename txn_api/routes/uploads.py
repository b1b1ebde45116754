"""Uploads: a CSV file streamed into the landing zone, then its ledger row and rejected rows.

`POST /upload` never holds a file in memory: the multipart body is parsed as it arrives
(python-multipart's streaming parser) and the file part goes to the landing zone in chunks of
`upload_chunk_bytes`, written off the event loop. The first bytes are checked against the data
contract before anything is stored, so a wrong file costs nothing. The file becomes visible to
the Dagster sensor (an atomic rename into incoming/) only after its ledger row exists.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

import anyio
import psycopg
from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect

from txn_api.deps import (
    ConnectionDep,
    LandingZoneDep,
    SettingsDep,
    connect_warehouse,
    warehouse_unavailable,
)
from txn_api.schemas import ErrorMessage, RejectedRow, RejectedRows, UploadAccepted, UploadStatus
from txn_api.security import refuse_cross_site
from txn_core import ledger
from txn_core.contract import SNIFF_BYTES, FileRejected, decompressed_head, inspect_head
from txn_core.landing import ACCEPTED_SUFFIXES, LandingZone, UploadWriter, is_accepted_name
from txn_core.settings import Settings

router = APIRouter(tags=["uploads"])
log = logging.getLogger(__name__)

FILE_FIELD = "file"
# Room for the multipart framing around the file: boundaries, part headers, small fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorMessage, "description": description}


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"the file is larger than the limit of {limit} bytes",
    )


def _bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail)


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: _error("No upload has this id."),
    status.HTTP_503_SERVICE_UNAVAILABLE: _error("The warehouse does not answer."),
}


class FilePartEvents:
    """Callbacks for python-multipart's parser. They only record what happened to the `file`
    part (its start, its data, its end), because acting on it means awaiting, which a parser
    callback cannot do; the route drains the events after each chunk it feeds the parser."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._in_file_part = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
        }

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._in_file_part = False

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value).strip()
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if options.get(b"name") != FILE_FIELD.encode():
            return  # another form field: ignored, and never kept
        self._in_file_part = True
        file_name = options.get(b"filename")
        self.events.append(
            ("start", None if file_name is None else file_name.decode("utf-8", "replace"))
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file_part and end > start:
            self.events.append(("data", data[start:end]))

    def _on_part_end(self) -> None:
        if self._in_file_part:
            self.events.append(("end", None))
        self._in_file_part = False


class StreamedUpload:
    """One upload on its way to the landing zone: contract check on the first bytes, size
    limit, buffered writes off the event loop. Nothing is stored until the head passed."""

    def __init__(self, settings: Settings, zone: LandingZone, upload_id: str):
        self.settings, self.zone, self.upload_id = settings, zone, upload_id
        self.file_name: str | None = None
        self.complete = False
        self.size = 0
        self.writer: UploadWriter | None = None
        self._head = bytearray()
        self._buffer = bytearray()

    async def handle(self, kind: str, payload: Any) -> None:
        if kind == "start":
            self._start(payload)
        elif kind == "data":
            await self._receive(payload)
        else:
            await self._finish()

    def _start(self, file_name: str | None) -> None:
        if self.file_name is not None:
            raise _bad_request(f"send one file per upload: the form has two `{FILE_FIELD}` parts")
        if not file_name or not is_accepted_name(file_name):
            raise _bad_request(
                f"the file name must end with {' or '.join(ACCEPTED_SUFFIXES)}, "
                f"got {file_name or 'no file name'!r}"
            )
        self.file_name = file_name

    async def _receive(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.settings.max_upload_bytes:
            raise _too_large(self.settings.max_upload_bytes)
        if self.writer is None:
            self._head += data
            if len(self._head) >= SNIFF_BYTES:
                await self._check_head_and_open()
            return
        self._buffer += data
        if len(self._buffer) >= self.settings.upload_chunk_bytes:
            await self._flush()

    async def _finish(self) -> None:
        if self.writer is None:  # the whole file is smaller than the head
            await self._check_head_and_open()
        await self._flush()
        self.complete = True

    async def _check_head_and_open(self) -> None:
        try:
            inspect_head(*decompressed_head(bytes(self._head)))
        except FileRejected as exc:
            raise _bad_request(f"{self.file_name}: {exc}") from exc
        assert self.file_name is not None
        self.writer = await to_thread.run_sync(
            self.zone.open_upload, self.upload_id, self.file_name
        )
        self._buffer, self._head = self._head, bytearray()
        await self._flush()

    async def _flush(self) -> None:
        if self._buffer:
            assert self.writer is not None
            chunk, self._buffer = bytes(self._buffer), bytearray()
            await to_thread.run_sync(self.writer.write, chunk)

    async def abort(self) -> None:
        if self.writer is not None:
            # Shielded: a cancelled request must still remove its partial file.
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(self.writer.abort)
            self.writer = None


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"expected a multipart/form-data body with the file in field `{FILE_FIELD}`",
        )
    if not options.get(b"boundary"):
        raise _bad_request("malformed multipart body: the Content-Type has no boundary")
    return options[b"boundary"]


def _reject_declared_oversize(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD_BYTES:
        raise _too_large(limit)


async def _receive_file(request: Request, upload: StreamedUpload) -> None:
    """Feed the body to the streaming parser, acting on the file part's events per chunk."""
    part_events = FilePartEvents()
    try:
        parser = MultipartParser(_boundary(request), part_events.callbacks())  # type: ignore[arg-type]
    except FormParserError as exc:
        raise _bad_request(f"malformed multipart body: {exc}") from exc
    body_limit = upload.settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
    body_bytes = 0
    async for chunk in request.stream():
        body_bytes += len(chunk)
        if body_bytes > body_limit:
            raise _too_large(upload.settings.max_upload_bytes)
        try:
            parser.write(chunk)
        except FormParserError as exc:
            raise _bad_request(f"malformed multipart body: {exc}") from exc
        for kind, payload in part_events.events:
            await upload.handle(kind, payload)
        part_events.events.clear()
    parser.finalize()
    if upload.file_name is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"the form has no file field `{FILE_FIELD}`",
        )
    if not upload.complete:
        raise _bad_request("the multipart body ended before the file was complete")


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
        status.HTTP_400_BAD_REQUEST: _error(
            "The file breaks the contract (not CSV text, not UTF-8, a required column missing), "
            "its name does not end with .csv or .csv.gz, or the multipart body is malformed. "
            "Nothing is stored."
        ),
        status.HTTP_403_FORBIDDEN: _error(
            "The request comes from another site's page in a browser (a cross-site form post)."
        ),
        status.HTTP_413_CONTENT_TOO_LARGE: _error(
            "The file is larger than the service's limit (TXN_MAX_UPLOAD_BYTES). Nothing is stored."
        ),
        status.HTTP_422_UNPROCESSABLE_CONTENT: _error(
            "The body is not multipart/form-data, or has no `file` field."
        ),
        status.HTTP_503_SERVICE_UNAVAILABLE: _error(
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
    _reject_declared_oversize(request, settings.max_upload_bytes)
    upload_id = "u" + uuid.uuid4().hex
    upload = StreamedUpload(settings, zone, upload_id)
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
        raise _bad_request("the client disconnected before the upload was complete") from exc
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
    responses=READ_ERRORS,
)
def get_upload_status(upload_id: str, conn: ConnectionDep) -> UploadStatus:
    row = ledger.get_upload(conn, upload_id)
    if row is None:
        raise _unknown_upload(upload_id)
    return UploadStatus.model_validate(row)


@router.get(
    "/uploads/{upload_id}/rejected",
    response_model=RejectedRows,
    summary="The rows of an upload that broke the contract, with the reason for each",
    responses=READ_ERRORS,
)
def list_rejected_rows(
    upload_id: str,
    conn: ConnectionDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows per page.")] = 100,
    offset: Annotated[int, Query(ge=0, description="Rows to skip, in file order.")] = 0,
) -> RejectedRows:
    upload = ledger.get_upload(conn, upload_id)
    if upload is None:
        raise _unknown_upload(upload_id)
    rows = ledger.list_rejected_rows(conn, upload_id, limit, offset)
    return RejectedRows(
        upload_id=upload_id,
        rows_rejected=upload["rows_rejected"],
        limit=limit,
        offset=offset,
        rows=[RejectedRow.model_validate(row) for row in rows],
    )


def _unknown_upload(upload_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no upload with id {upload_id!r}")
