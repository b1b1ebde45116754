"""What every landing zone shares: its folders, how a landed file is named and identified,
and the interface the folder and S3 zones implement (see txn_core.landing for the layout)."""

from __future__ import annotations

import hashlib
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
