"""Named SQL text from the `sql/` folder, loaded once by name (never built from f-strings)."""

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


@cache
def load_sql(name: str) -> str:
    """`load_sql("ingest/check_rows")` reads `sql/ingest/check_rows.sql`."""
    return (SQL_DIR / f"{name}.sql").read_text()
