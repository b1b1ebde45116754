"""GET /health answers for the service and its warehouse; the API never loads Dagster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_health_is_ok_when_the_warehouse_answers(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "error": None}


def test_health_is_503_with_the_reason_when_the_warehouse_is_down(make_client):
    client = make_client(database_url=f"postgresql://txn@127.0.0.1:{free_port()}/txn")

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "unavailable"
    assert "refused" in body["error"] or "failed" in body["error"]


def test_the_api_never_imports_dagster():
    check = "import sys, txn_api.main; print(sorted(m for m in sys.modules if 'dagster' in m))"
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=PROJECT_ROOT, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "[]"
