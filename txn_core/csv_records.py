"""Counting a CSV file's records fast, without parsing its fields: a line ends a record unless
it ends inside a quoted field, and blank lines are no records (as DuckDB's reader has it).

Vectorised with NumPy over fixed-size chunks (bounded memory), so millions of lines take well
under a second. Exact for well-formed quoting; for a file whose quotes are broken it is an
estimate, which is all a file that broken needs (it is about to be refused).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHUNK_BYTES = 8 * 1024 * 1024
QUOTE, LF, CR = ord('"'), ord("\n"), ord("\r")


def count_lines(path: Path) -> int:
    """Physical lines (an upper bound of records), at memchr speed."""
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


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
