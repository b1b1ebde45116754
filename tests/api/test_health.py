"""/livez and /readyz answer for the service and its warehouse; the API never loads Dagster."""

from __future__ import annotations

import gc
import subprocess
import sys
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from tests.helpers import HEADER, free_port
from txn_api.main import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_liveness_and_readiness_answer_without_a_key(make_client):
    client = make_client(api_key="a-key-of-twenty-four-chars")

    assert client.get("/livez").json() == {"status": "alive"}
    assert client.get("/readyz").json() == {"status": "ready", "database": "ok"}
    assert client.get("/health").json() == {"status": "ready", "database": "ok"}


def test_a_warehouse_that_does_not_answer_is_said_without_the_drivers_words(make_client):
    """psycopg's message names the database host and user: logs only, never a body."""
    port = free_port()
    client = make_client(database_url=f"postgresql://secret_user@127.0.0.1:{port}/txn")

    assert client.get("/livez").status_code == 200  # the process itself is fine
    answers = [client.get(path) for path in ("/readyz", "/summary/1", "/analytics/risk-profile/1")]
    upload = f"{HEADER}\n{uuid.uuid4()},1,1,2024-03-01T10:00:00Z,1.00\n".encode()
    answers.append(client.post("/upload", files={"file": ("a.csv", upload, "text/csv")}))
    assert answers[0].json() == {"status": "unavailable", "database": "unavailable"}
    for answer in answers:
        assert answer.status_code == 503, answer.text
    for answer in answers:
        assert str(port) not in answer.text and "secret_user" not in answer.text
        assert "127.0.0.1" not in answer.text


def test_the_api_never_imports_dagster():
    check = "import sys, txn_api.main; print(sorted(m for m in sys.modules if 'dagster' in m))"
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=PROJECT_ROOT, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "[]"


def test_the_running_service_keeps_its_startup_objects_out_of_full_collections(make_settings):
    """Full garbage collections over everything imported stalled every request in flight for
    40-60 ms; while the app runs, those objects are frozen (and thawed when it stops)."""
    app = create_app(make_settings())
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        frozen_while_running = gc.get_freeze_count()

    assert frozen_while_running > 10_000
    assert gc.get_freeze_count() == 0
