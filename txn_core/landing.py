"""The landing zone: where files wait to be ingested.

Layout under the zone's root (a folder, or an S3 prefix):
    incoming/   files waiting; the sensor ingests each once. Names starting with "." are
                still being written and are never picked up.
    processed/  files whose upload succeeded, as `<upload_id>--<name>`: two files of the same
                name never overwrite each other.
    failed/     files whose upload failed, as `<upload_id>--<name>`, each with its reason beside
                it in `<upload_id>--<name>.error.txt`. A fixed file dropped under the old name
                is a new upload.
An API upload is written to `incoming/.<upload_id>.part` and renamed to
`incoming/<upload_id>--<name>` only when complete, so a half-written upload is never seen.
Moving a file out of incoming/ is idempotent: a run that repeats it after a crash finds it done.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

INCOMING = "incoming"
PROCESSED = "processed"
FAILED = "failed"
ERROR_SUFFIX = ".error.txt"
ACCEPTED_SUFFIXES = (".csv", ".csv.gz")
UPLOAD_ID_PATTERN = re.compile(r"^(u[0-9a-f]{32})--")


@dataclass(frozen=True)
class LandedFile:
    key: str  # relative to the zone's root, e.g. "incoming/sales.csv"
    size: int
    modified_ns: int

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def upload_id(self) -> str:
        """The upload this file is: named by the API, else derived from the file's identity
        (name, size and mtime), so re-evaluating the same file always gives the same id."""
        if match := UPLOAD_ID_PATTERN.match(self.name):
            return match.group(1)
        identity = f"{self.key}\0{self.size}\0{self.modified_ns}".encode()
        return "f" + hashlib.sha256(identity).hexdigest()[:32]

    @property
    def original_name(self) -> str:
        return UPLOAD_ID_PATTERN.sub("", self.name)


def filed_key(folder: str, key: str, upload_id: str) -> str:
    """Where an upload's file goes in `folder`: named after the upload, so never overwritten."""
    original = UPLOAD_ID_PATTERN.sub("", key.rsplit("/", 1)[-1])
    return f"{folder}/{upload_id}--{original}"


def safe_file_name(name: str) -> str:
    """A client-supplied file name reduced to a harmless base name."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or "upload.csv").name).lstrip(".")
    return base[:120] or "upload.csv"


def is_accepted_name(name: str) -> bool:
    return name.lower().endswith(ACCEPTED_SUFFIXES)


class UploadWriter(Protocol):
    final_key: str  # where the file appears on commit

    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> str: ...  # returns the landed key
    def abort(self) -> None: ...


class LandingZone(Protocol):
    url: str

    def list_incoming(self) -> list[LandedFile]: ...
    def open_upload(self, upload_id: str, file_name: str) -> UploadWriter: ...
    def local_path(self, key: str, scratch: Path) -> Path: ...
    def mark_processed(self, key: str, upload_id: str) -> str: ...
    def mark_failed(self, key: str, upload_id: str, reason: str) -> str: ...


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


def landing_zone_from_url(url: str) -> LandingZone:
    """The zone named by TXN_LANDING: a folder path, or s3://bucket/prefix."""
    if url.startswith("s3://"):
        from txn_core.landing_s3 import S3LandingZone

        return S3LandingZone(url)
    return FolderLandingZone(url)
