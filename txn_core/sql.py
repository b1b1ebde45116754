"""Named SQL text from the `sql/` folder (installed as the package `txn_sql`), loaded once by
name, never built from f-strings."""

from functools import cache
from importlib.resources import files
from typing import Any

SQL = files("txn_sql")


@cache
def load_sql(name: str) -> str:
    """`load_sql("ingest/check_rows")` reads `sql/ingest/check_rows.sql`."""
    return SQL.joinpath(f"{name}.sql").read_text()


def one(result: Any) -> tuple:
    """The row of a query that always returns one (a count, an aggregate, a locked row)."""
    row = result.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row
