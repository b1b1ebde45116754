"""A gzip file decompressed to disk in bounded memory, refused once it outgrows a cap.

A few kilobytes of gzip can hold gigabytes of text; the cap keeps such a file from filling the
scratch disk. The plain copy also lets DuckDB parse the CSV in parallel, which it cannot do
inside a gzip stream.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from txn_core.contract import FileRejected

CHUNK_BYTES = 1024 * 1024


def gunzip_capped(source: Path, target: Path, limit: int) -> Path:
    """Decompress `source` (every gzip member) into `target`; FileRejected past `limit` bytes
    or when the gzip data is broken or cut short."""
    written = 0
    try:
        with gzip.open(source, "rb") as compressed, open(target, "wb") as plain:
            while chunk := compressed.read(CHUNK_BYTES):
                written += len(chunk)
                if written > limit:
                    raise FileRejected(
                        f"decompressed, the file is larger than the limit of {limit:,} bytes "
                        "(TXN_MAX_DECOMPRESSED_BYTES)"
                    )
                plain.write(chunk)
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise FileRejected(f"not a readable gzip file: {exc}") from exc
    except FileRejected:
        target.unlink(missing_ok=True)
        raise
    return target
