"""The landing zone on the local file system (or any mounted volume)."""

from __future__ import annotations

import os
from pathlib import Path

from txn_core.landing.zone import (
    ERROR_SUFFIX,
    FAILED,
    INCOMING,
    PROCESSED,
    LandedFile,
    filed_key,
    safe_file_name,
)


class _FolderUploadWriter:
    def __init__(self, part: Path, final: Path, root: Path):
        self._part, self._final = part, final
        self.final_key = final.relative_to(root).as_posix()
        self._handle = open(part, "wb")  # noqa: SIM115 - closed by commit() or abort()

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)

    def commit(self) -> str:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._part, self._final)  # atomic: the sensor sees all of it or nothing
        return self.final_key

    def abort(self) -> None:
        self._handle.close()
        self._part.unlink(missing_ok=True)


class FolderLandingZone:
    """A landing zone on the local file system (or any mounted volume)."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.url = str(self.root)
        for folder in (INCOMING, PROCESSED, FAILED):
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    def list_incoming(self) -> list[LandedFile]:
        files = []
        with os.scandir(self.root / INCOMING) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                stat = entry.stat()
                files.append(LandedFile(f"{INCOMING}/{entry.name}", stat.st_size, stat.st_mtime_ns))
        return sorted(files, key=lambda landed: (landed.modified_ns, landed.key))

    def open_upload(self, upload_id: str, file_name: str) -> _FolderUploadWriter:
        incoming = self.root / INCOMING
        return _FolderUploadWriter(
            incoming / f".{upload_id}.part",
            incoming / f"{upload_id}--{safe_file_name(file_name)}",
            self.root,
        )

    def local_path(self, key: str, scratch: Path) -> Path:
        path = self.root / key
        if not path.is_file():
            raise FileNotFoundError(f"{key} is not in the landing zone {self.url}")
        return path

    def mark_processed(self, key: str, upload_id: str) -> str:
        return self._move(key, filed_key(PROCESSED, key, upload_id))

    def mark_failed(self, key: str, upload_id: str, reason: str) -> str:
        target = filed_key(FAILED, key, upload_id)
        (self.root / f"{target}{ERROR_SUFFIX}").write_text(reason + "\n")
        return self._move(key, target)

    def _move(self, key: str, target: str) -> str:
        if key != target:
            try:
                os.replace(self.root / key, self.root / target)  # atomic on one file system
            except FileNotFoundError:
                if not (self.root / target).is_file():
                    raise
        return target
