"""Generated data: simulated days (partitioned, scheduled, backfilled) and bulk files."""

import datetime as dt
import tempfile
import uuid
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    Config,
    FreshnessPolicy,
    MaterializeResult,
    OpExecutionContext,
    asset,
    op,
)
from pydantic import Field, field_validator, model_validator

from txn_assets.assets.ingestion import load_metadata
from txn_assets.catalog import OWNERS, TRANSACTIONS, table
from txn_assets.partitions import daily_partitions
from txn_assets.pools import INGESTION_POOL
from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_assets.retries import TRANSIENT_RETRIES, unless_transient
from txn_core import generator, ledger
from txn_core.generated_days import load_generated_days
from txn_core.settings import get_settings

STREAM_CHUNK_BYTES = 1024 * 1024


class DailyGenerationConfig(Config):
    rows_per_day: int = Field(
        default=get_settings().rows_per_day,
        ge=1,
        description="Transactions per simulated day, before the weekday rhythm.",
    )


@asset(
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    retry_policy=TRANSIENT_RETRIES,
    pool=INGESTION_POOL,
    owners=OWNERS,
    metadata=table("transactions", TRANSACTIONS),
    # Yesterday's day is due by 02:00 UTC (the schedule runs at 00:05): late after that.
    freshness_policy=FreshnessPolicy.cron(
        deadline_cron="0 2 * * *", lower_bound_delta=dt.timedelta(hours=24), timezone="UTC"
    ),
    group_name="ingestion",
    kinds={"duckdb", "postgres"},
    description=(
        "Transactions per UTC day; writes simulated rows into `transactions`. Materialising a "
        "range of days generates their simulated transactions (deterministic per day: the same "
        "ids on every run, so a re-run adds nothing) and loads them with the same loader as "
        "uploads, in one run for the whole range, one upload per month (ledger source "
        "`generator`): a failed run keeps the months it finished. A daily schedule does "
        "yesterday when TXN_GENERATE_DAILY is on; backfills fill history. Uploads that touch a "
        "day mark it updated here too, so the UI shows every day that has data. The analytics "
        "follow the days that received rows, in or outside these partitions."
    ),
    tags={"txn/pipeline": "ingestion"},
)
def daily_transactions(
    context: AssetExecutionContext,
    config: DailyGenerationConfig,
    warehouse: WarehouseResource,
) -> MaterializeResult:
    window = context.partition_time_window
    first_day = window.start.date()
    last_day = window.end.date() - dt.timedelta(days=1)
    context.log.info(
        f"Generating and loading {first_day}..{last_day} at {config.rows_per_day:,} rows per "
        "day, month by month..."
    )
    try:
        result = load_generated_days(
            warehouse.database_url,
            first_day,
            last_day,
            config.rows_per_day,
            run_id=context.run.run_id,
            logger=context.log,
        )
    except Exception as exc:
        raise unless_transient(exc, "Generating the days") from exc
    return MaterializeResult(metadata=load_metadata(result))


class BulkGenerationConfig(Config):
    """Checked as the run starts, before any work (Dagster's config types cannot check a date
    or a range in the Launchpad form)."""

    num_rows: int = Field(
        default=50_000, ge=1, le=100_000_000, description="How many transactions to write."
    )
    start_date: str = Field(
        default=get_settings().history_start.isoformat(), description="First day (YYYY-MM-DD)."
    )
    end_date: str | None = Field(default=None, description="Last day (default: yesterday).")
    seed: int | None = Field(default=None, description="Fixes the rows; random when unset.")

    @field_validator("start_date", "end_date")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                dt.date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a day written YYYY-MM-DD") from exc
        return value

    @model_validator(mode="after")
    def _in_order(self) -> "BulkGenerationConfig":
        if self.end_date and self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        return self


@op(
    description=(
        "Writes a CSV of simulated transactions into the landing zone, like the reference "
        "system's Bulk Data Generator; the landing-zone sensor then ingests it like any upload."
    ),
    tags={"kind": "duckdb"},
)
def generate_bulk_file(
    context: OpExecutionContext,
    config: BulkGenerationConfig,
    warehouse: WarehouseResource,
    landing: LandingZoneResource,
) -> str:
    first_day = dt.date.fromisoformat(config.start_date)
    last_day = (
        dt.date.fromisoformat(config.end_date)
        if config.end_date
        else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    )
    if last_day < first_day:  # the default end, yesterday, before a start in the future
        raise ValueError(f"end_date {last_day} is before start_date {first_day}")
    seed = config.seed if config.seed is not None else uuid.uuid4().int % 2**31
    upload_id = "u" + uuid.uuid4().hex
    file_name = f"bulk-{config.num_rows}-rows-seed-{seed}.csv"

    with tempfile.TemporaryDirectory(prefix="txn-bulk-") as scratch:
        generated = generator.write_bulk(
            Path(scratch) / file_name, config.num_rows, first_day, last_day, seed=seed
        )
        writer = landing.zone().open_upload(upload_id, file_name)
        try:
            with generated.path.open("rb") as source:
                while chunk := source.read(STREAM_CHUNK_BYTES):
                    writer.write(chunk)
            with warehouse.connect() as conn:
                # Registered before the file appears, as the API does, so the sensor finds it.
                ledger.register_upload(
                    conn,
                    upload_id=upload_id,
                    source="bulk",
                    file_name=file_name,
                    landing_key=writer.final_key,
                    size_bytes=generated.path.stat().st_size,
                )
            key = writer.commit()
        except BaseException:
            writer.abort()
            raise
    context.log.info(
        f"Wrote {generated.rows:,} rows ({first_day}..{last_day}, seed {seed}) to {key} as "
        f"upload {upload_id}; the landing-zone sensor ingests it next."
    )
    return upload_id
