"""Failures reach people: a failed run, or a failed asset check, is posted once to a
Slack-compatible webhook (`TXN_ALERT_WEBHOOK_URL`) with a link to its run in the Dagster UI.

Without a webhook the message goes to the sensor's log only. A webhook that is down or slow is
logged and the sensor moves on: an alert is never worth a stuck or failing sensor, and the
failure itself stays in the UI. Each failure is notified once: Dagster's run status cursor for
runs, this module's cursor over the event log for checks.

An asset check that fails does not fail its run (unless blocking with severity ERROR), so the
run failure sensor alone would never hear of it; the check sensor reads the check evaluations
Dagster stores in its event log.
"""

import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    EventLogRecord,
    EventRecordsFilter,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from txn_core.settings import get_settings

# Long enough for a webhook across the internet, short enough to keep a tick well inside
# Dagster's 60 s sensor timeout (Dagster hands a run status sensor at most 5 runs a tick).
DELIVERY_TIMEOUT_SECONDS = 5.0
# Failed checks posted per tick; the rest wait for the next tick (the cursor stops before them).
MAX_POSTS_PER_TICK = 5
CHECK_EVENTS_PER_TICK = 500
LONGEST_DETAIL = 500

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG, RANGE_END_TAG = (
    "dagster/asset_partition_range_start",
    "dagster/asset_partition_range_end",
)
# Set on a failed run right after its failure when run retries (dagster.yaml) will run it again.
WILL_RETRY_TAG = "dagster/will_retry"
CHECK_EVALUATION = DagsterEventType.ASSET_CHECK_EVALUATION


class Alerts:
    """Posts messages to the webhook of the settings, or logs them when there is none. After a
    delivery fails, the rest of its messages are logged only: a slow webhook costs the check
    sensor one timeout per tick, not one per failed check (Dagster calls the run failure sensor
    once per run, at most 5 runs a tick)."""

    def __init__(self, log: logging.Logger):
        settings = get_settings()
        secret = settings.alert_webhook_url
        self._url = secret.get_secret_value().strip() if secret else ""
        self._log = log
        self._broken = False
        self.ui_url = (
            settings.dagster_ui_url or f"http://127.0.0.1:{settings.dagster_port}"
        ).rstrip("/")

    def run_link(self, run_id: str) -> str:
        return f"{self.ui_url}/runs/{run_id}"

    def send(self, text: str) -> None:
        if not self._url:
            self._log.warning(f"{text}\n(TXN_ALERT_WEBHOOK_URL is unset: logged only)")
        elif urlsplit(self._url).scheme not in ("http", "https"):
            self._log.error(f"{text}\n(not sent: TXN_ALERT_WEBHOOK_URL is not an http(s) URL)")
        elif self._broken:
            self._log.warning(f"{text}\n(not sent: the webhook failed earlier in this tick)")
        else:
            self._post(text)

    def _post(self, text: str) -> None:
        request = urllib.request.Request(
            self._url,
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
                response.read(1024)
        # URLError, HTTPError and timeouts are OSErrors; a garbled answer an HTTPException.
        except (OSError, ValueError, http.client.HTTPException) as exc:
            self._broken = True
            self._log.error(f"{text}\n(not sent: the webhook failed: {self._reason(exc)})")
        else:
            self._log.info(f"Posted to the webhook: {text.splitlines()[0]}")

    def _reason(self, exc: Exception) -> str:
        """Why a delivery failed, never with the webhook's address (it is the secret)."""
        if isinstance(exc, urllib.error.HTTPError):
            return f"HTTP {exc.code}"
        if isinstance(exc, urllib.error.URLError):
            exc = exc.reason if isinstance(exc.reason, Exception) else exc
        return f"{type(exc).__name__}: {exc}".replace(self._url, "<webhook>")


def _slack_escape(text: str) -> str:
    """Slack reads <, > and & as markup; Slack's own escapes keep an error message intact."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _first_line(text: str | None) -> str:
    line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return line if len(line) <= LONGEST_DETAIL else line[: LONGEST_DETAIL - 1] + "…"


def _partition(tags: Mapping[str, str]) -> str | None:
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    if RANGE_START_TAG in tags:
        return f"{tags[RANGE_START_TAG]}...{tags.get(RANGE_END_TAG, '')}"
    return None


def _error_line(error) -> str:
    """The first line of the error that matters: Dagster wraps what the code raised (and says
    only "Error occurred while executing op"), so its wrappers are skipped."""
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    return _first_line(error.message)


def run_failure_message(context: RunFailureSensorContext, alerts: Alerts) -> str:
    run = context.dagster_run
    steps = context.get_step_failure_events()
    error = getattr(steps[0].event_specific_data, "error", None) if steps else None
    if error is None:
        error = getattr(context.failure_event.event_specific_data, "error", None)
    detail = _error_line(error) if error else _first_line(context.failure_event.message)
    where = f"job `{run.job_name}`"
    if partition := _partition(run.tags):
        where += f", partition `{partition}`"
    retry = " Dagster runs it again." if run.tags.get(WILL_RETRY_TAG) == "true" else ""
    return (
        _slack_escape(f"Run failed: {where}.{retry}\n{detail}") + f"\n{alerts.run_link(run.run_id)}"
    )


def check_failure_message(
    context: SensorEvaluationContext, record: EventLogRecord, alerts: Alerts
) -> str:
    entry = record.event_log_entry
    evaluation = entry.get_dagster_event().asset_check_evaluation_data
    check = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    where = f"`{check}` ({evaluation.severity.value}), job `{entry.job_name}`"
    run = context.instance.get_run_by_id(entry.run_id)
    if partition := evaluation.partition or (run and _partition(run.tags)):
        where += f", partition `{partition}`"
    detail = evaluation.description or ", ".join(
        f"{key}={value.value}" for key, value in evaluation.metadata.items()
    )
    text = f"Asset check failed: {where}.\n{_first_line(detail) or 'no detail recorded'}"
    return _slack_escape(text) + f"\n{alerts.run_link(entry.run_id)}"


@run_failure_sensor(
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Posts every failed run of this code location (job, partition, the first line of the "
        "error, a link to the run) to the webhook of TXN_ALERT_WEBHOOK_URL, once; without a "
        "webhook the message is only logged here."
    ),
)
def run_failure_alert_sensor(context: RunFailureSensorContext) -> None:
    alerts = Alerts(context.log)
    alerts.send(run_failure_message(context, alerts))


@sensor(
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Posts every failed asset check (check, severity, job, partition, why, a link to the "
        "run) to the webhook of TXN_ALERT_WEBHOOK_URL, once: a failed check does not fail its "
        "run, so the run failure alert does not see it. Without a webhook the message is only "
        "logged here. It starts from the checks evaluated after it was first turned on."
    ),
)
def asset_check_failure_alert_sensor(context: SensorEvaluationContext):
    storage = context.instance.event_log_storage
    if storage.is_run_sharded:
        # Run-sharded SQLite numbers events per run: no cursor runs across runs there.
        return SkipReason("Needs Dagster storage in PostgreSQL (dagster.yaml), not SQLite.")
    if context.cursor is None:
        latest = storage.get_event_records(EventRecordsFilter(CHECK_EVALUATION), limit=1)
        start = latest[0].storage_id if latest else 0
        return SensorResult(
            skip_reason=f"Watching the checks evaluated after event {start}.", cursor=str(start)
        )

    cursor = int(context.cursor)
    records = storage.get_event_records(
        EventRecordsFilter(CHECK_EVALUATION, after_cursor=cursor),
        limit=CHECK_EVENTS_PER_TICK,
        ascending=True,
    )
    alerts, posted = Alerts(context.log), 0
    for record in records:
        if not record.event_log_entry.get_dagster_event().asset_check_evaluation_data.passed:
            if posted == MAX_POSTS_PER_TICK:
                break
            alerts.send(check_failure_message(context, record, alerts))
            posted += 1
        cursor = record.storage_id
    return SensorResult(
        skip_reason=f"{posted} failed check(s) notified." if posted else "No failed check.",
        cursor=str(cursor),
    )
