"""The CSV data contract: which columns a file must have, and what makes a file unreadable.

Row-level rules (types, ranges, duplicates) live in `sql/ingest/*.sql` and run in DuckDB;
this module only looks at the first bytes of a file to fail fast on a wrong one.
"""

from __future__ import annotations

import codecs
import csv
import zlib
from dataclasses import dataclass
from pathlib import Path

REQUIRED_COLUMNS = ("transaction_id", "user_id", "product_id", "timestamp", "transaction_amount")
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 64 * 1024


class FileRejected(ValueError):
    """The whole file breaks the contract: nothing of it is loaded."""


@dataclass(frozen=True)
class CsvLayout:
    compression: str  # "gzip" or "none"
    column_count: int
    positions: dict[str, int]  # required column -> 0-based position in the file


def decompressed_head(first_bytes: bytes) -> tuple[bytes, str]:
    """The first bytes of a file's text, and its compression ("gzip" or "none").

    Works on a prefix of the file (the API checks an upload's first chunk before storing it).
    """
    if not first_bytes.startswith(GZIP_MAGIC):
        return first_bytes[:SNIFF_BYTES], "none"
    try:
        head = zlib.decompressobj(wbits=31).decompress(first_bytes, SNIFF_BYTES)
    except zlib.error as exc:
        raise FileRejected(f"not a readable gzip file: {exc}") from exc
    if not head:
        raise FileRejected("not a readable gzip file: no data could be decompressed")
    return head, "gzip"


def inspect_head(head: bytes, compression: str = "none") -> CsvLayout:
    """Check that `head` (a file's first bytes, decompressed) starts UTF-8 CSV text with every
    required column, and say where those columns are."""
    if not head.strip():
        raise FileRejected("the file is empty: expected a CSV header line")
    if b"\x00" in head:
        raise FileRejected("not CSV text: the file contains binary data")
    try:
        # An incremental decoder accepts a multi-byte character cut at the sniff boundary.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise FileRejected(f"not UTF-8 text: invalid byte at offset {exc.start}") from exc

    header = next(csv.reader(text.splitlines()[:1]), [])
    names = [name.strip().lower() for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise FileRejected(
            f"missing required column(s): {', '.join(missing)}; the header must name "
            f"{', '.join(REQUIRED_COLUMNS)} (found: {', '.join(header) or 'nothing'})"
        )
    repeated = sorted({name for name in REQUIRED_COLUMNS if names.count(name) > 1})
    if repeated:
        raise FileRejected(f"column(s) named more than once: {', '.join(repeated)}")
    return CsvLayout(
        compression=compression,
        column_count=len(names),
        positions={column: names.index(column) for column in REQUIRED_COLUMNS},
    )


def inspect_file(path: Path) -> CsvLayout:
    with open(path, "rb") as handle:
        first_bytes = handle.read(SNIFF_BYTES)
    return inspect_head(*decompressed_head(first_bytes))
