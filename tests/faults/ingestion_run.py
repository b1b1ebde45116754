"""What an `ingest_upload` run does, without Dagster, as a process a test can kill or starve:
load one upload from the landing zone (txn_core.ingest), then refresh the analytics.

    python -m tests.faults.ingestion_run URL LANDING UPLOAD_ID SCRATCH [--die-at STAGE]

Each stage is printed as it is reached; with --die-at the process SIGKILLs itself there (the
loader's "checking", "copying", "copied", "committed", then "filed", and the refresh's
"refresh:claimed", "refresh:daily_spend", "refresh:trend", "refresh:risk"). A failure prints
whether it counts as transient and exits with FAILED_EXIT.
"""

import argparse
import os
import signal
import sys
from pathlib import Path

import psycopg

from txn_core import ingest, refresh
from txn_core.failures import is_transient
from txn_core.landing import landing_zone_from_url

FAILED_EXIT = 3


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("database_url", "landing", "upload_id", "scratch"):
        parser.add_argument(name)
    parser.add_argument("--die-at")
    args = parser.parse_args()

    def on_stage(name: str) -> None:
        print(f"stage {name}", flush=True)
        if name == args.die_at:
            os.kill(os.getpid(), signal.SIGKILL)

    zone = landing_zone_from_url(args.landing)
    try:
        ingest.ingest_upload(
            args.database_url, zone, args.upload_id, scratch=Path(args.scratch), on_stage=on_stage
        )
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            refresh.refresh_analytics(conn, on_stage=lambda name: on_stage(f"refresh:{name}"))
    except Exception as exc:
        print(f"failed transient={is_transient(exc)}: {type(exc).__name__}: {exc}", flush=True)
        return FAILED_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
