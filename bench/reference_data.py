"""The reference system's stress-test file, generated set-based by DuckDB.

uuid4 ids, users 1-999, products 1-499, one row per minute from 2024-01-01 and amounts
from 10 to 1000 with 2 decimals, as the predecessor's generator wrote it.
"""

from pathlib import Path

import duckdb


def write_reference_csv(path: Path, rows: int, seed: float = 0.42) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SELECT setseed(?)", [seed])
    con.execute(
        f"""
        COPY (
            SELECT uuid() AS transaction_id,
                   1 + floor(random() * 999)::int AS user_id,
                   1 + floor(random() * 499)::int AS product_id,
                   strftime(TIMESTAMP '2024-01-01' + to_minutes(i), '%Y-%m-%d %H:%M:%S')
                       AS timestamp,
                   round(10 + random() * 990, 2)::decimal(10, 2) AS transaction_amount
            FROM range({int(rows)}) AS t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )
    return path


if __name__ == "__main__":
    import sys

    write_reference_csv(Path(sys.argv[1]), int(sys.argv[2]))
