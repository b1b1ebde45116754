"""A multipart/form-data body read as it arrives, yielding what happens to one file field.

python-multipart's streaming parser calls back synchronously, and acting on a chunk of the file
means awaiting (a write off the event loop), which a callback cannot do. So the callbacks only
record events, and `file_part_events` yields them after each chunk it feeds the parser: the
route never holds more than a chunk of the body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from txn_api.errors import bad_request, too_large, unprocessable

# Room for the multipart framing around the file: boundaries, part headers, small fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

# ("start", file name or None) | ("data", bytes) | ("end", None)
FilePartEvent = tuple[str, Any]


class FilePartEvents:
    """Callbacks for the parser that record the start, data and end of the `field` part; any
    other form field is ignored, and never kept."""

    def __init__(self, field: str) -> None:
        self.field = field.encode()
        self.events: list[FilePartEvent] = []
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
        if options.get(b"name") != self.field:
            return
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


def _boundary(request: Request, field: str) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise unprocessable(f"expected a multipart/form-data body with the file in field `{field}`")
    if not options.get(b"boundary"):
        raise bad_request("malformed multipart body: the Content-Type has no boundary")
    return options[b"boundary"]


def reject_declared_oversize(request: Request, limit: int) -> None:
    """A body that says up front it is too large is refused before a byte is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD_BYTES:
        raise too_large(limit)


async def file_part_events(
    request: Request, field: str, file_limit: int
) -> AsyncIterator[FilePartEvent]:
    """The events of the `field` part as the body arrives; 413 once the body outgrows a file
    of `file_limit` bytes, 400 when it is not well-formed multipart."""
    part_events = FilePartEvents(field)
    try:
        parser = MultipartParser(_boundary(request, field), part_events.callbacks())  # type: ignore[arg-type]
    except FormParserError as exc:
        raise bad_request(f"malformed multipart body: {exc}") from exc
    body_limit, body_bytes = file_limit + MULTIPART_OVERHEAD_BYTES, 0
    async for chunk in request.stream():
        body_bytes += len(chunk)
        if body_bytes > body_limit:
            raise too_large(file_limit)
        try:
            parser.write(chunk)
        except FormParserError as exc:
            raise bad_request(f"malformed multipart body: {exc}") from exc
        for event in part_events.events:
            yield event
        part_events.events.clear()
    parser.finalize()
