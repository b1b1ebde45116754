"""Byte-level passes over a CSV file, in fixed-size chunks (bounded memory), at disk speed.

`count_records` counts records without parsing fields: a line ends a record unless it ends
inside a quoted field, and blank lines are no records (as DuckDB's reader has it); vectorised
with NumPy. Exact for well-formed quoting; for a file whose quotes are broken it is an estimate
that never exceeds the true count, which is all such a file needs.
`one_line_end` rewrites a file that mixes line ends, which DuckDB's reader refuses whole.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHUNK_BYTES = 8 * 1024 * 1024
QUOTE, LF, CR = ord('"'), ord("\n"), ord("\r")
# What a lone CR becomes: a control character, so the row that held it is rejected alone.
LONE_CR = b"\x1a"


def count_records(path: Path) -> int:
    """Records in the file, the header included."""
    records, inside_quotes, open_line = 0, 0, False  # open_line: content since the last end
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            data = np.frombuffer(chunk, dtype=np.uint8)
            newlines = np.flatnonzero(data == LF)
            quotes = np.flatnonzero(data == QUOTE)
            # A newline ends a record when an even number of quotes precede it.
            quotes_before = np.searchsorted(quotes, newlines) + inside_quotes
            ends = newlines[quotes_before % 2 == 0]
            inside_quotes = (inside_quotes + len(quotes)) % 2
            if not len(ends):
                open_line = open_line or bool(np.any(data != CR))
                continue
            starts = np.concatenate(([-1], ends[:-1]))
            length = ends - starts - 1
            blank = (length == 0) | ((length == 1) & (data[ends - 1] == CR))
            blank[0] = blank[0] and not open_line
            records += int(np.count_nonzero(~blank))
            open_line = bool(np.any(data[ends[-1] + 1 :] != CR))
    return records + open_line


def one_line_end(source: Path, target: Path) -> Path:
    """`source` with every CRLF made LF and every lone CR made LONE_CR, written to `target`."""
    with open(source, "rb") as plain, open(target, "wb") as out:
        held = b""  # a CR at a chunk's end: its LF may start the next chunk
        while chunk := plain.read(CHUNK_BYTES):
            chunk = held + chunk
            held = b"\r" if chunk.endswith(b"\r") else b""
            chunk = chunk[: len(chunk) - len(held)]
            out.write(chunk.replace(b"\r\n", b"\n").replace(b"\r", LONE_CR))
        out.write(held.replace(b"\r", LONE_CR))
    return target
