"""One landed upload, from the landing zone into the warehouse, resumable at every step.

`ingest_upload` loads the file once (txn_core.loader) and then files it under processed/. Run
again, after a crash at any point or beside a concurrent run of the same upload, it finishes
whatever is left and changes nothing that succeeded. An upload that will not load is either
retried later (`retry_later`, a transient failure) or given up (`give_up`: failed in the
ledger, its file under failed/ with the reason beside it).
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

from txn_core import ledger
from txn_core.landing.zone import FAILED, INCOMING, LandingZone
from txn_core.loader import LoadResult, OnStage, UploadNotRegistered, load_upload

log = logging.getLogger(__name__)

# Ledger keys of files that live in the landing zone (generated days have none there).
IN_ZONE = (f"{INCOMING}/", f"{FAILED}/")


def _upload(database_url: str, upload_id: str) -> dict:
    with psycopg.connect(database_url, autocommit=True) as conn:
        upload = ledger.get_upload(conn, upload_id)
    if upload is None:
        raise UploadNotRegistered(f"upload {upload_id!r} is not registered in the ledger")
    return upload


def ingest_upload(
    database_url: str,
    zone: LandingZone,
    upload_id: str,
    *,
    scratch: Path,
    run_id: str | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    on_stage: OnStage | None = None,
) -> LoadResult:
    """Load the upload's file if it is not loaded yet, then file it away. `on_stage` hears the
    loader's stages and "filed"."""
    upload = _upload(database_url, upload_id)
    if upload["status"] == "succeeded":
        result = LoadResult.from_ledger(upload)
    else:
        scratch.mkdir(parents=True, exist_ok=True)
        path = zone.local_path(upload["landing_key"], scratch)
        result = load_upload(
            database_url,
            upload_id,
            path,
            run_id=run_id,
            workdir=scratch,
            logger=logger,
            on_stage=on_stage,
        )
    file_away(database_url, zone, upload_id)
    if on_stage:
        on_stage("filed")
    return result


def file_away(database_url: str, zone: LandingZone, upload_id: str) -> None:
    """A succeeded upload's file moves to processed/; done already, it changes nothing."""
    upload = _upload(database_url, upload_id)
    if upload["status"] == "succeeded" and upload["landing_key"].startswith(IN_ZONE):
        key = zone.mark_processed(upload["landing_key"], upload_id)
        with psycopg.connect(database_url, autocommit=True) as conn:
            ledger.set_landing_key(conn, upload_id, key)


def retry_later(database_url: str, upload_id: str, error: str) -> None:
    """The upload waits for another attempt (queued), with why the last one failed."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        ledger.mark_retrying(conn, upload_id, error)


def give_up(database_url: str, zone: LandingZone, upload_id: str, error: str) -> None:
    """The upload failed for good: failed in the ledger (unless it succeeded meanwhile), and
    its file into failed/ with the reason beside it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        ledger.mark_failed(conn, upload_id, error)
    file_failed(database_url, zone, upload_id)


def file_failed(database_url: str, zone: LandingZone, upload_id: str) -> None:
    """A failed upload's file moves to failed/, its ledger error beside it."""
    upload = _upload(database_url, upload_id)
    if upload["status"] != "failed" or not upload["landing_key"].startswith(IN_ZONE):
        return
    try:
        key = zone.mark_failed(upload["landing_key"], upload_id, upload["error"] or "failed")
    except FileNotFoundError:
        log.warning("Upload %s: its file %s is gone.", upload_id, upload["landing_key"])
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        ledger.set_landing_key(conn, upload_id, key)
