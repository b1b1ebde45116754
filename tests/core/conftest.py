from pathlib import Path

import psycopg
import pytest

from txn_core import ledger
from txn_core.loader import LoadResult, load_upload


@pytest.fixture
def load(warehouse_url: str, tmp_path: Path):
    """Register `path` as an upload and load it; returns the LoadResult."""
    counter = iter(range(1, 1000))

    def _load(path: Path, upload_id: str | None = None, **kwargs) -> LoadResult:
        upload_id = upload_id or f"test{next(counter)}"
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            ledger.register_upload(
                conn,
                upload_id=upload_id,
                source="test",
                file_name=path.name,
                landing_key=str(path),
                size_bytes=path.stat().st_size,
            )
        return load_upload(warehouse_url, upload_id, path, workdir=tmp_path, **kwargs)

    return _load


@pytest.fixture
def db(warehouse_url: str):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        yield conn
