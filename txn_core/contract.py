"""The CSV data contract: which columns a file must have, and what makes a file unreadable.

Row-level rules (types, ranges, duplicates) live in `sql/ingest/*.sql` and run in DuckDB;
this module only looks at the first bytes of a file to fail fast on a wrong one.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

REQUIRED_COLUMNS = ("transaction_id", "user_id", "product_id", "timestamp", "transaction_amount")
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 64 * 1024
LINE_END = re.compile(rb"\r\n?|\n")
# Control characters other than tab, CR and LF, which CSV text may hold.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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


def _header_record(head: bytes) -> bytes:
    """The bytes of the header record: up to its line end (LF, CRLF or CR) outside quotes, as
    a quoted name may span lines; all of `head` when no such line end is in it."""
    start = 0
    quoted = False
    for line_end in LINE_END.finditer(head):
        quoted ^= head.count(b'"', start, line_end.start()) % 2 == 1
        if not quoted:
            return head[: line_end.end()]
        start = line_end.end()
    return head


def inspect_head(head: bytes, compression: str = "none") -> CsvLayout:
    """Check that `head` (a file's first bytes, decompressed) starts with a UTF-8 CSV header
    that names every required column, and say where those columns are.

    Only the header must be clean text: a later row holding binary data is rejected alone
    when the file is loaded (sql/ingest/check_rows.sql), the rest of the file still loads.
    """
    if not head.strip():
        raise FileRejected("the file is empty: expected a CSV header line")
    header_bytes = _header_record(head)
    if (offset := header_bytes.find(b"\x00")) >= 0:
        raise FileRejected(
            f"not CSV text: the header line is binary data (a NUL byte at offset {offset})"
        )
    try:
        # Final only when the header's line end is in the head: else a character may be cut.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(
            header_bytes, final=header_bytes.endswith((b"\n", b"\r"))
        )
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"not CSV text: the header line is binary data, not UTF-8 text "
            f"(invalid byte at offset {exc.start})"
        ) from exc
    if control := CONTROL_CHARACTER.search(text):
        raise FileRejected(
            f"not CSV text: the header line is binary data (control character "
            f"U+{ord(control.group()):04X})"
        )

    header = next(csv.reader(io.StringIO(text, newline="")), [])
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
