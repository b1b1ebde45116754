"""Analytics assets: PostgreSQL tables that fold in every day that received rows.

One refresh (txn_core.analytics) writes the three tables in one transaction, from the days
queued by loads in their own transactions, whatever their date: the daily partitions never
limit what the analytics see. The ingestion and generation jobs run it in the same process right
after their load, so new rows are readable within seconds; the `analytics_backlog_sensor`
launches it for anything else that queued days (a Materialize or backfill of the ingestion
assets alone, a run that stopped after its load committed). Each table checks itself after
every refresh; the checks show in the UI.
"""

import datetime as dt
from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetMaterialization,
    AssetSpec,
    Config,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from pydantic import Field

from txn_assets.assets.generation import daily_transactions
from txn_assets.assets.ingestion import raw_uploads
from txn_assets.catalog import DAILY_SPEND as DAILY_SPEND_SCHEMA
from txn_assets.catalog import OWNERS, RISK_PROFILE, SPEND_TREND, row_count, table
from txn_assets.partitions import is_daily_partition
from txn_assets.pools import ANALYTICS_POOL
from txn_assets.resources import WarehouseResource
from txn_assets.retries import TRANSIENT_RETRIES, unless_transient
from txn_core import refresh

DAILY_SPEND, TREND, RISK = "user_daily_spend", "user_spend_trend", "user_risk_profile"
# Every day brings at least yesterday's load (and its refresh): a table older than that is late.
# How far the analytics lag the loads, minute by minute, is the `keeps_up_with_loads` check.
DAILY_AT_LEAST = FreshnessPolicy.time_window(
    fail_window=dt.timedelta(hours=26), warn_window=dt.timedelta(hours=25)
)


KEEPS_UP = "keeps_up_with_loads"
# A load's days are refreshed within seconds; waiting this long means no refresh is coming.
MAX_WAIT = dt.timedelta(minutes=5)


def keeps_up(waiting: refresh.Backlog) -> tuple[bool, dict]:
    """Whether the analytics keep up with the loads: no queued day waits longer than MAX_WAIT."""
    wait = refresh.oldest_wait(waiting, dt.datetime.now(dt.UTC))
    return wait <= MAX_WAIT, {
        "days_waiting": waiting.days,
        "longest_wait_minutes": round(wait.total_seconds() / 60, 1),
        "limit_minutes": MAX_WAIT.total_seconds() / 60,
    }


class RefreshConfig(Config):
    rebuild_everything: bool = Field(
        default=False,
        description="Queue every day that has transactions first: a full rebuild of all three "
        "tables (normally only the days that received rows are refreshed).",
    )


def _top_spenders_markdown(conn) -> str:
    rows = refresh.top_spenders(conn, limit=10)
    if not rows:
        return "No users yet."
    lines = [
        f"| {rank} | {user} | {total:,.2f} | {count:,} | {vol} |"
        for rank, user, total, count, vol in rows
    ]
    header = (
        "| rank | user | total spend | transactions | volatility |\n| --- | --- | --- | --- | --- |"
    )
    return "\n".join([header, *lines])


@multi_asset(
    name="analytics_tables",
    specs=[
        AssetSpec(
            DAILY_SPEND,
            deps=[raw_uploads, daily_transactions],
            group_name="analytics",
            kinds={"postgres"},
            owners=OWNERS,
            metadata=table("user_daily_spend", DAILY_SPEND_SCHEMA),
            freshness_policy=DAILY_AT_LEAST,
            description=(
                "Per user and UTC day: transaction count, total, min, max (plus sum of squares, "
                "first/last time and the shortest gap inside the day, so that days merge). The "
                "days that received rows are rebuilt whole from `transactions`, with their "
                "months of `user_monthly_spend` (the same figures per month, for summaries over "
                "long ranges)."
            ),
        ),
        AssetSpec(
            TREND,
            deps=[DAILY_SPEND],
            group_name="analytics",
            kinds={"postgres"},
            owners=OWNERS,
            metadata=table("user_spend_trend", SPEND_TREND),
            freshness_policy=DAILY_AT_LEAST,
            description=(
                "Per user, every calendar day from the first to the last active day (zero on "
                "days without spend): the daily total and the 7-day moving average. Only users "
                "whose daily spend changed are rewritten, from their earliest changed day on, "
                "with their months of `user_spend_trend_months` (the same days rendered as the "
                "API's JSON, a month per row, for the whole-trend answer)."
            ),
        ),
        AssetSpec(
            RISK,
            deps=[DAILY_SPEND],
            group_name="analytics",
            kinds={"postgres"},
            owners=OWNERS,
            metadata=table("user_risk_profile", RISK_PROFILE),
            freshness_policy=DAILY_AT_LEAST,
            description=(
                "Per user: transaction count, total spend, exact mean, population standard "
                "deviation, volatility (stddev / mean), global whale rank (dense rank by total "
                "spend), shortest gap between transactions, largest single amount and velocity. "
                "Merged from daily aggregates for the users that changed; the rank is "
                "recomputed for everyone."
            ),
        ),
    ],
    check_specs=[
        AssetCheckSpec(
            "reconciles_with_transactions",
            asset=DAILY_SPEND,
            description=(
                "The refreshed days' counts and totals equal those of `transactions`, and their "
                "months in `user_monthly_spend` merge their days exactly (checked inside the "
                "refresh's transaction: a refresh that does not reconcile keeps nothing)."
            ),
        ),
        AssetCheckSpec(
            KEEPS_UP,
            asset=DAILY_SPEND,
            description=(
                "No day that received rows waits more than 5 minutes for the refresh: the "
                "analytics do not lag the newest load. Also evaluated by the backlog sensor "
                "every few seconds, so a stalled refresh shows without a run."
            ),
        ),
        AssetCheckSpec(
            "no_missing_day",
            asset=TREND,
            description="Every user's series has every calendar day from first to last.",
        ),
        AssetCheckSpec(
            "one_row_per_user",
            asset=RISK,
            description="Exactly one risk row for every user with spend.",
        ),
    ],
    retry_policy=TRANSIENT_RETRIES,
    pool=ANALYTICS_POOL,
)
def analytics_tables(
    context: AssetExecutionContext, config: RefreshConfig, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    with warehouse.connect() as conn:
        if config.rebuild_everything:
            context.log.info(f"Queued {refresh.queue_every_day(conn):,} days for a rebuild.")
        result = _refresh(context, conn)
        gaps = refresh.trend_gaps(conn)
        users, risk_rows, missing = refresh.risk_coverage(conn)
        top_spenders = MetadataValue.md(_top_spenders_markdown(conn))
        daily_rows, trend_rows, risk_rows_total = refresh.table_rows(conn)
        up_to_date, lag = keeps_up(refresh.backlog(conn))
    days = [day.isoformat() for day in result.days]
    mark_days_updated(context, result.uploads)
    stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.stage_seconds.items())
    context.log.info(
        f"Refreshed {len(days):,} day(s) in {result.seconds:.2f} s "
        f"({'bulk' if result.bulk else 'incremental'}): {result.daily_rows:,} daily "
        f"rows, {result.trend_users:,} trends, {result.risk_users:,} risk profiles "
        f"(stages: {stages})."
    )
    yield MaterializeResult(
        asset_key=DAILY_SPEND,
        metadata={
            "days_refreshed": len(days),
            "first_day": days[0] if days else None,
            "last_day": days[-1] if days else None,
            "rows_written": result.daily_rows,
            "path": "bulk" if result.bulk else "incremental",
            **row_count(daily_rows),
            "seconds": round(result.seconds, 3),
        },
        check_results=[
            AssetCheckResult(
                asset_key=DAILY_SPEND,
                check_name="reconciles_with_transactions",
                passed=True,
                metadata={"days_checked": len(days)},
            ),
            AssetCheckResult(
                asset_key=DAILY_SPEND, check_name=KEEPS_UP, passed=up_to_date, metadata=lag
            ),
        ],
    )
    yield MaterializeResult(
        asset_key=TREND,
        metadata={
            "rows_written": result.trend_rows,
            "users_touched": result.trend_users,
            **row_count(trend_rows),
        },
        check_results=[
            AssetCheckResult(
                asset_key=TREND,
                check_name="no_missing_day",
                passed=not gaps,
                metadata={"users_with_gaps": str(gaps[:10])},
            )
        ],
    )
    yield MaterializeResult(
        asset_key=RISK,
        metadata={
            "users_touched": result.risk_users,
            "top_spenders": top_spenders,
            **row_count(risk_rows_total),
        },
        check_results=[
            AssetCheckResult(
                asset_key=RISK,
                check_name="one_row_per_user",
                passed=users == risk_rows and missing == 0,
                metadata={"users": users, "risk_rows": risk_rows, "users_without_row": missing},
            )
        ],
    )


def mark_days_updated(context: AssetExecutionContext, uploads: list[refresh.UploadDays]) -> None:
    """Record the days each upload added rows to as updated partitions of daily_transactions,
    so the UI shows every day that has data and the daily schedule skips it. Recorded once the
    rows are readable, after the refresh's commit: a big upload's thousand days never delay its
    answers. The day generator's loads are partitions of daily_transactions already."""
    for upload in uploads:
        if upload.source == "generator":
            continue
        for day in filter(is_daily_partition, upload.days):
            context.log_event(
                AssetMaterialization(
                    asset_key="daily_transactions",
                    partition=day.isoformat(),
                    description=f"Rows added by upload {upload.upload_id}",
                    metadata={"upload_id": upload.upload_id},
                )
            )


def _refresh(context: AssetExecutionContext, conn) -> refresh.RefreshResult:
    try:
        return refresh.refresh_analytics(conn)
    except refresh.TrendBuildFailed as exc:
        # Its rows are readable: their days are recorded now, as no later refresh knows them.
        mark_days_updated(context, exc.result.uploads)
        raise unless_transient(exc, "The analytics refresh") from exc
    except Exception as exc:
        raise unless_transient(exc, "The analytics refresh") from exc
