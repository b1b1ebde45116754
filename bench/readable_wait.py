"""Following one upload from the 202 of `POST /upload` until every user's answers count its
rows, for the readable benchmark: the ledger over HTTP, then the refresh queue in SQL, then every
user's three reads over HTTP, each polled only while it is the stage being waited for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.harness import say
from bench.readable_answers import CheckPass, Figures, check_every_user
from txn_core.sql import one

LEDGER_POLL_SECONDS, REFRESH_POLL_SECONDS, CHECK_PAUSE_SECONDS = 0.5, 0.25, 0.5
PROGRESS_SECONDS = 15  # a line at least this often while nothing changes
UPLOAD_TIMEOUT = httpx.Timeout(60, read=600)  # the API answers once the file is on disk
# The refresh that folds the upload in deletes its queue entries when it commits.
REFRESHED_SQL = """
SELECT (SELECT count(*) FROM analytics_pending_days WHERE upload_id = %(upload_id)s),
       (SELECT coalesce(sum(tx_count), 0) FROM user_risk_profile)
"""


@dataclass
class Watch:
    """The moments seen (epoch seconds) after the 202, the deadline, and progress lines."""

    accepted: float
    timeout: float
    seen: dict[str, float] = field(default_factory=dict)
    note: str = ""
    _said: tuple[str, float] = ("", 0.0)

    def in_time(self) -> bool:
        if time.time() < self.accepted + self.timeout:
            return True
        self.note = self.note or f"not readable within {self.timeout:.0f} s"
        return False

    def mark(self, stage: str) -> None:
        self.seen[stage] = time.time()

    def progress(self, state: str) -> None:
        """A line when the state changes, and every PROGRESS_SECONDS while it does not."""
        now = time.time()
        if state != self._said[0] or now - self._said[1] >= PROGRESS_SECONDS:
            say(f"   {now - self.accepted:7.1f} s after the 202: {state}")
            self._said = (state, now)


def post_upload(api: httpx.Client, path: Path) -> tuple[dict[str, Any], float, float]:
    """The file sent as `POST /upload` without holding it in memory (httpx reads it in 64 KiB
    chunks as it sends); the 202's body, when sending began and when the 202 came."""
    with path.open("rb") as file:
        sent = time.time()
        response = api.post(
            "/upload", files={"file": (path.name, file, "text/csv")}, timeout=UPLOAD_TIMEOUT
        )
    accepted = time.time()
    if response.status_code != 202:
        raise RuntimeError(f"POST /upload answered {response.status_code}: {response.text}")
    return response.json(), sent, accepted


def wait_loaded(api: httpx.Client, watch: Watch, upload_id: str) -> dict[str, Any] | None:
    """The ledger's row once the load ended (succeeded or failed); None past the deadline."""
    while watch.in_time():
        ledger = api.get(f"/uploads/{upload_id}").json()
        watch.progress(f"the ledger says {ledger['status']}")
        if ledger["status"] in ("succeeded", "failed"):
            watch.mark("ledger_ended_seen")
            return ledger
        time.sleep(LEDGER_POLL_SECONDS)
    return None


def wait_refreshed(url: str, watch: Watch, upload_id: str, rows: int) -> bool:
    """Until no day of the upload waits in the refresh queue and the risk profiles count the
    `rows` of `transactions`."""
    with psycopg.connect(url, autocommit=True) as conn:
        while watch.in_time():
            queued, counted = one(conn.execute(REFRESHED_SQL, {"upload_id": upload_id}))
            if queued == 0 and counted == rows:
                watch.mark("refreshed")
                return True
            watch.progress(f"waiting for the refresh: {queued:,} day(s) of the upload queued")
            time.sleep(REFRESH_POLL_SECONDS)
    return False


def wait_readable(
    base_url: str, watch: Watch, expected: dict[int, Figures], clients: int
) -> list[CheckPass]:
    """Passes over every user whose answers do not match yet, until none is left. Verified is
    when the last user's answers matched; readable is the refresh's commit when the first pass
    after it found every answer right (the answers come from the tables it committed, so they
    were readable then, and checking 1,000 users' years of trend takes seconds of its own),
    else verified."""
    waiting, passes, matched_at = dict(expected), [], []
    while waiting and watch.in_time():
        checked = check_every_user(base_url, waiting, clients)
        passes.append(checked)
        for user, at in checked.matched.items():
            del waiting[user]
            matched_at.append(at)
        watch.progress(
            f"pass {len(passes)}: {len(checked.matched):,} of {checked.users:,} users' answers "
            f"match, in {checked.seconds:.1f} s"
        )
        if waiting:
            time.sleep(CHECK_PAUSE_SECONDS)
    if not waiting:
        watch.seen["verified"] = max(matched_at, default=time.time())
        first_pass_enough = len(passes) == 1 and "refreshed" in watch.seen
        watch.seen["readable"] = watch.seen["refreshed" if first_pass_enough else "verified"]
    return passes
