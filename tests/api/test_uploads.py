"""POST /upload streams a file into the landing zone and queues it; GET /uploads/... reads the
ledger. Every test runs on a real warehouse database and a real landing folder."""

from __future__ import annotations

import gzip
import hashlib
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.helpers import HEADER, MULTIPART_CONTENT_TYPE, free_port, multipart_head, stream_upload
from txn_api.main import create_app
from txn_core import ledger
from txn_core.contract import SNIFF_BYTES
from txn_core.landing.folder import FolderLandingZone

ROW = "6f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11, 1, 2, 2024-03-01T10:00:00Z, 12.50"


def csv_bytes(rows: int = 3) -> bytes:
    lines = [HEADER] + [
        f"{uuid.UUID(int=index)},{index % 50 + 1},7,2024-03-01T10:{index % 60:02d}:00Z,{index}.25"
        for index in range(1, rows + 1)
    ]
    return ("\n".join(lines) + "\n").encode()


def post_file(client, name: str, content: bytes, **kwargs):
    return client.post("/upload", files={"file": (name, content, "text/csv")}, **kwargs)


def test_a_valid_csv_lands_whole_in_incoming_and_is_queued(client, landing_root, incoming):
    content = csv_bytes(20)

    response = post_file(client, "march sales.csv", content)

    assert response.status_code == 202, response.text
    body = response.json()
    upload_id = body["upload_id"]
    assert upload_id.startswith("u") and len(upload_id) == 33
    assert body == {
        "upload_id": upload_id,
        "status": "queued",
        "status_url": f"/uploads/{upload_id}",
    }
    # Landed under the name the sensor reads the upload id from; no partial file left.
    assert incoming() == [f"{upload_id}--march_sales.csv"]
    assert (landing_root / "incoming" / incoming()[0]).read_bytes() == content

    status = client.get(body["status_url"])
    assert status.status_code == 200
    row = status.json()
    assert row["upload_id"] == upload_id
    assert row["status"] == "queued"
    assert row["source"] == "api"
    assert row["file_name"] == "march sales.csv"
    assert row["size_bytes"] == len(content)
    assert (row["rows_read"], row["rows_loaded"], row["rows_duplicate"]) == (0, 0, 0)
    assert row["rows_rejected"] == 0
    assert row["error"] is None and row["days_touched"] == []
    assert row["first_timestamp"] is None and row["started_at"] is None
    assert row["created_at"]


def test_the_ledger_row_names_the_landed_file(client, uploads_table, incoming):
    response = post_file(client, "a.csv", csv_bytes())

    [row] = uploads_table()
    assert row["upload_id"] == response.json()["upload_id"]
    assert row["landing_key"] == f"incoming/{incoming()[0]}"


class CommitWatchingZone(FolderLandingZone):
    """A folder zone whose writers run `on_commit` just before the file is renamed into view."""

    def __init__(self, root: Path, on_commit: Callable[[str], None]):
        super().__init__(root)
        self.on_commit = on_commit

    def open_upload(self, upload_id: str, file_name: str):
        writer = super().open_upload(upload_id, file_name)
        real_commit = writer.commit

        def commit() -> str:
            self.on_commit(upload_id)
            return real_commit()

        writer.commit = commit
        return writer


def test_the_ledger_row_exists_before_the_file_appears(
    make_settings, landing_root, uploads_table, incoming
):
    seen_at_commit: list[tuple[list[str], list[str]]] = []
    app = create_app(make_settings())
    app.state.landing_zone = CommitWatchingZone(
        landing_root,
        lambda upload_id: seen_at_commit.append(
            ([row["upload_id"] for row in uploads_table()], incoming())
        ),
    )

    response = post_file(TestClient(app), "a.csv", csv_bytes())

    upload_id = response.json()["upload_id"]
    [(registered, files)] = seen_at_commit
    assert registered == [upload_id]
    assert files == [f".{upload_id}.part"]  # still hidden from the sensor


def test_a_file_that_cannot_be_stored_marks_its_upload_failed(
    make_settings, landing_root, uploads_table, incoming
):
    def fail(upload_id: str) -> None:
        raise OSError("disk full")

    app = create_app(make_settings())
    app.state.landing_zone = CommitWatchingZone(landing_root, fail)

    response = post_file(TestClient(app, raise_server_exceptions=False), "a.csv", csv_bytes())

    assert response.status_code == 500
    [row] = uploads_table()
    assert row["status"] == "failed"
    assert row["error"] == "the file could not be stored"  # the OS's words: logs only
    assert incoming() == []


def test_a_gzipped_csv_is_accepted_and_landed_as_sent(client, landing_root, incoming):
    content = gzip.compress(csv_bytes(2000))

    response = post_file(client, "Day.CSV.GZ", content)

    assert response.status_code == 202, response.text
    [name] = incoming()
    assert name.endswith("--Day.CSV.GZ")
    assert (landing_root / "incoming" / name).read_bytes() == content


def test_a_file_larger_than_the_checked_head_lands_byte_identical(
    make_client, landing_root, incoming
):
    client = make_client(upload_chunk_bytes=4096)
    content = csv_bytes(20_000)
    assert len(content) > 10 * SNIFF_BYTES

    assert post_file(client, "big.csv", content).status_code == 202

    [name] = incoming()
    assert (landing_root / "incoming" / name).read_bytes() == content


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary"),
        ("notes.txt", csv_bytes(), ".csv or .csv.gz"),
        ("no_name_suffix", csv_bytes(), ".csv or .csv.gz"),
        ("short.csv", b"transaction_id,user_id,product_id,timestamp\n1,2,3,4\n",
         "transaction_amount"),
        ("long.csv", b"transaction_id,user_id,timestamp,transaction_amount\n"
         + b"6f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11,1,2024-03-01,1.00\n" * 5000, "product_id"),
        # A bad byte in a row only rejects that row (at load); in the header, the whole file.
        ("latin1.csv", HEADER.encode() + b",caf\xe9\n1,2,3,4,5,6\n", "UTF-8"),
        ("empty.csv", b"", "empty"),
        ("broken.csv.gz", b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
    ids=["png", "txt-name", "no-suffix", "missing-column", "missing-column-long", "latin1",
         "empty", "broken-gzip"],
)  # fmt: skip
def test_a_wrong_file_is_refused_with_the_reason_and_nothing_is_stored(
    client, incoming, uploads_table, name, content, message
):
    response = post_file(client, name, content)

    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]
    assert incoming() == []
    assert uploads_table() == []


def test_a_missing_column_is_named_in_the_error(client):
    response = post_file(client, "a.csv", b"transaction_id,user_id,timestamp,transaction_amount\n")

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "missing required column(s): product_id" in detail
    assert detail.startswith("a.csv: ")


def test_a_form_without_the_file_field_is_refused(client, incoming, uploads_table):
    other_field = client.post(
        "/upload", files={"document": ("a.csv", csv_bytes(), "text/csv")}, data={"note": "x"}
    )
    not_a_form = client.post("/upload", json={"file": "a.csv"})

    for response in (other_field, not_a_form):
        assert response.status_code == 422, response.text
        assert "`file`" in response.json()["detail"]
    assert incoming() == []
    assert uploads_table() == []


def test_a_plain_text_field_named_file_is_refused(client, incoming):
    response = client.post(
        "/upload", data={"file": HEADER}, files={"other": ("a.csv", csv_bytes(), "text/csv")}
    )

    assert response.status_code == 400
    assert "no file name" in response.json()["detail"]
    assert incoming() == []


def test_two_files_in_one_upload_are_refused(client, incoming, uploads_table):
    response = client.post(
        "/upload",
        files=[("file", ("a.csv", csv_bytes(), "text/csv")), ("file", ("b.csv", csv_bytes()))],
    )

    assert response.status_code == 400
    assert "one file per upload" in response.json()["detail"]
    assert incoming() == []
    assert uploads_table() == []


def test_a_truncated_body_is_refused(client, incoming):
    body = multipart_head("a.csv") + csv_bytes(2000)  # no closing boundary

    response = client.post(
        "/upload", content=body, headers={"Content-Type": MULTIPART_CONTENT_TYPE}
    )

    assert response.status_code == 400
    assert "before the file was complete" in response.json()["detail"]
    assert incoming() == []


def test_a_file_over_the_limit_is_refused_and_nothing_is_left(make_client, incoming, uploads_table):
    # Within the multipart allowance, so the Content-Length alone does not refuse it.
    client = make_client(max_upload_bytes=100 * 1024)
    content = csv_bytes(1700)
    assert 100 * 1024 < len(content) < 100 * 1024 + 60 * 1024

    response = post_file(client, "big.csv", content)

    assert response.status_code == 413
    assert "102400 bytes" in response.json()["detail"]
    assert incoming() == []
    assert uploads_table() == []


def test_a_declared_length_over_the_limit_is_refused_before_reading(make_client, incoming):
    client = make_client(max_upload_bytes=1000)

    response = post_file(client, "big.csv", csv_bytes(5000))

    assert response.status_code == 413
    assert incoming() == []


def test_a_chunked_body_over_the_limit_is_refused_and_nothing_is_left(
    make_settings, incoming, uploads_table
):
    app = create_app(make_settings(max_upload_bytes=200 * 1024, upload_chunk_bytes=16384))

    seen_while_streaming: list[list[str]] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield csv_bytes(1)
        for index in range(100):
            if index == 20:  # ~140 KiB in: past the checked head, below the limit
                seen_while_streaming.append(incoming())
            yield b"6f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11,1,2,2024-03-01T10:00:00Z,1.00\n" * 100

    response = anyio.run(stream_upload, app, "endless.csv", chunks())

    assert response.status_code == 413
    [[partial]] = seen_while_streaming
    assert partial.endswith(".part")  # the writer was open, and its abort removed the file
    assert incoming() == []
    assert uploads_table() == []


def test_a_client_that_disconnects_mid_body_leaves_nothing_behind(
    make_settings, incoming, uploads_table
):
    app = create_app(make_settings())
    seen_while_streaming: list[list[str]] = []
    messages = [
        {
            "type": "http.request",
            "body": multipart_head("a.csv") + csv_bytes(3000),  # past the head: writing began
            "more_body": True,
        },
    ]

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        seen_while_streaming.append(incoming())
        return {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/upload", "raw_path": b"/upload", "root_path": "",
        "query_string": b"", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(b"content-type", MULTIPART_CONTENT_TYPE.encode())],
    }  # fmt: skip
    anyio.run(app, scope, receive, send)

    [[partial]] = seen_while_streaming
    assert partial.startswith(".u") and partial.endswith(".part")
    assert sent[0]["status"] == 400
    assert incoming() == []
    assert uploads_table() == []


def test_a_large_upload_streams_with_constant_memory(make_settings, landing_root, incoming):
    """64 MiB generated while it is sent: the app in this process never holds more than a
    few chunks of it, and the landed file is the same bytes."""
    app = create_app(make_settings(upload_chunk_bytes=256 * 1024))
    total = 64 * 1024**2
    sent_digest = hashlib.sha256()

    # One template, stamped with the block number: every row differs, and making a block
    # costs one C-level replace (tracemalloc makes Python-level row building slow).
    template = "".join(
        f"BLOCKNUM-0000-4000-8000-{row:012x},{row + 1},3,2024-03-01T10:00:00Z,{row}.50\n"
        for row in range(800)
    ).encode()

    async def chunks() -> AsyncIterator[bytes]:
        head = csv_bytes(0)
        sent_digest.update(head)
        yield head
        produced, block_index = len(head), 0
        while produced < total:
            block = template.replace(b"BLOCKNUM", b"%08x" % block_index)
            sent_digest.update(block)
            produced += len(block)
            block_index += 1
            yield block

    tracemalloc.start()
    try:
        response = anyio.run(stream_upload, app, "huge.csv", chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 202, response.text
    assert peak < 16 * 1024**2, f"peak traced memory {peak / 1024**2:.1f} MiB"
    [name] = incoming()
    landed = landing_root / "incoming" / name
    assert landed.stat().st_size >= total
    assert file_sha256(landed) == sent_digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024**2):
            digest.update(block)
    return digest.hexdigest()


def test_an_upload_is_refused_when_the_warehouse_is_down_and_nothing_is_landed(
    make_client, incoming
):
    client = make_client(database_url=f"postgresql://txn@127.0.0.1:{free_port()}/txn")

    response = post_file(client, "a.csv", csv_bytes())

    assert response.status_code == 503
    assert "warehouse is unavailable" in response.json()["detail"]
    assert incoming() == []


def test_an_unknown_upload_is_404(client):
    for path in ("/uploads/u0000", "/uploads/u0000/rejected"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "no upload with id 'u0000'"}


def test_rejected_rows_are_listed_in_file_order_page_by_page(client, warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        ledger.register_upload(
            conn, upload_id="u1", source="api", file_name="a.csv",
            landing_key="incoming/a.csv", size_bytes=10,
        )  # fmt: skip
        for line in (9, 3, 5):
            conn.execute(
                "INSERT INTO rejected_rows (upload_id, line_number, reason, raw_line) "
                "VALUES ('u1', %s, %s, %s)",
                (line, f"reason {line}", f"raw {line}"),
            )

    first = client.get("/uploads/u1/rejected", params={"limit": 2})
    second = client.get("/uploads/u1/rejected", params={"limit": 2, "offset": 2})

    assert first.status_code == 200
    assert [row["line_number"] for row in first.json()["rows"]] == [3, 5]
    assert first.json()["rows"][0] == {"line_number": 3, "reason": "reason 3", "raw_line": "raw 3"}
    assert [row["line_number"] for row in second.json()["rows"]] == [9]
    assert client.get("/uploads/u1/rejected", params={"limit": 0}).status_code == 422


def test_the_openapi_page_documents_errors_and_examples(client):
    spec = client.get("/openapi.json").json()

    upload = spec["paths"]["/upload"]["post"]
    assert {"400", "401", "403", "413", "422", "429"} <= set(upload["responses"])
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "404" in spec["paths"]["/uploads/{upload_id}"]["get"]["responses"]
    for model in ("UploadAccepted", "UploadStatus", "RejectedRows", "Readiness"):
        assert spec["components"]["schemas"][model]["examples"]
