"""Named SQL text from the `sql/` folder (installed as the package `txn_sql`), loaded once by
name, never built from f-strings."""

import re
from functools import cache
from importlib.resources import files
from typing import Any

SQL = files("txn_sql")


@cache
def load_sql(name: str) -> str:
    """`load_sql("ingest/check_rows")` reads `sql/ingest/check_rows.sql`."""
    return SQL.joinpath(f"{name}.sql").read_text()


def load_statements(name: str) -> list[str]:
    """The statements of a multi-statement SQL file (psycopg binds one statement at a time)."""
    chunks = re.split(r";\s*\n", load_sql(name))
    code = [
        chunk
        for chunk in chunks
        if any(line.strip() and not line.strip().startswith("--") for line in chunk.splitlines())
    ]
    return [chunk.strip() for chunk in code]


def one(result: Any) -> tuple:
    """The row of a query that always returns one (a count, an aggregate, a locked row)."""
    row = result.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row
