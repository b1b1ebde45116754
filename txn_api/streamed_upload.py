"""One upload on its way to the landing zone, fed the file part's events (txn_api.multipart):
the contract check on its first bytes, the size limit, buffered writes off the event loop.
Nothing is stored until the head passed the check, so a wrong file costs nothing."""

from __future__ import annotations

from typing import Any

import anyio
from anyio import to_thread

from txn_api.errors import bad_request, too_large
from txn_core.contract import SNIFF_BYTES, FileRejected, decompressed_head, inspect_head
from txn_core.landing.zone import ACCEPTED_SUFFIXES, LandingZone, UploadWriter, is_accepted_name
from txn_core.settings import Settings


class StreamedUpload:
    def __init__(self, settings: Settings, zone: LandingZone, upload_id: str, field: str):
        self.settings, self.zone, self.upload_id, self.field = settings, zone, upload_id, field
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
            raise bad_request(f"send one file per upload: the form has two `{self.field}` parts")
        if not file_name or not is_accepted_name(file_name):
            raise bad_request(
                f"the file name must end with {' or '.join(ACCEPTED_SUFFIXES)}, "
                f"got {file_name or 'no file name'!r}"
            )
        self.file_name = file_name

    async def _receive(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.settings.max_upload_bytes:
            raise too_large(self.settings.max_upload_bytes)
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
            raise bad_request(f"{self.file_name}: {exc}") from exc
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
