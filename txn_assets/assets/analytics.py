"""Analytics assets: PostgreSQL tables that refresh themselves after new data.

`user_daily_spend` rebuilds exactly the days that changed (declarative automation reacts to
generated days and to uploads, which mark the days they touched). The trend and the risk
profile then apply just the (user, day) changes they have not seen. Each asset checks itself
after every refresh; the checks show in the UI.
"""

import datetime as dt

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AutomationCondition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from txn_assets.partitions import daily_partitions
from txn_assets.resources import WarehouseResource
from txn_core import analytics

# "Upstream changed since this asset last *requested* a run", not Dagster's since_last_handled,
# which also resets when a run completes: an upload landing while a refresh runs would then
# be forgotten. Past days count too (uploads and backfills touch them), not only the latest.
UPSTREAM_CHANGED_SINCE_REQUESTED = (
    AutomationCondition.any_deps_updated().since(AutomationCondition.newly_requested())
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
)
DAILY_AUTOMATION = (
    UPSTREAM_CHANGED_SINCE_REQUESTED & ~AutomationCondition.any_deps_missing()
).with_label("a day's transactions changed")
AFTER_UPSTREAM = UPSTREAM_CHANGED_SINCE_REQUESTED.with_label("after any upstream update")


def _top_spenders_markdown(conn) -> str:
    rows = analytics.top_spenders(conn, limit=10)
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


def _metadata(stats: analytics.RefreshStats, conn) -> dict:
    return {
        "rows_written": stats.rows_written,
        "users_touched": stats.users_touched,
        "seconds": round(stats.seconds, 3),
        "top_spenders": MetadataValue.md(_top_spenders_markdown(conn)),
    }


@asset(
    partitions_def=daily_partitions,
    deps=["daily_transactions"],
    backfill_policy=BackfillPolicy.single_run(),
    automation_condition=DAILY_AUTOMATION,
    group_name="analytics",
    kinds={"postgres"},
    description=(
        "Per user and UTC day: transaction count, total, min, max (plus sum of squares, "
        "first/last time and the shortest gap inside the day, so that days merge). A day is "
        "rebuilt as a whole from `transactions`, in one transaction with its month of "
        "`user_monthly_spend` (the same figures per month, for summaries over long ranges)."
    ),
    check_specs=[
        AssetCheckSpec(
            "reconciles_with_transactions",
            asset="user_daily_spend",
            description=(
                "The refreshed days' counts and totals equal those of `transactions`, and "
                "their months in `user_monthly_spend` merge their days exactly."
            ),
        )
    ],
)
def user_daily_spend(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    window = context.partition_time_window
    days = [
        window.start.date() + dt.timedelta(days=offset)
        for offset in range((window.end - window.start).days)
    ]
    with warehouse.connect() as conn:
        stats = analytics.rebuild_daily_spend(conn, days)
        mismatches = analytics.unreconciled_days(conn, days)
        month_mismatches = analytics.unreconciled_months(conn, days)
        metadata = _metadata(stats, conn)
    context.log.info(f"Rebuilt {len(days)} day(s): {stats.rows_written:,} (user, day) rows.")
    return MaterializeResult(
        metadata={**metadata, "days": len(days)},
        check_results=[
            AssetCheckResult(
                check_name="reconciles_with_transactions",
                passed=not mismatches and not month_mismatches,
                metadata={
                    "days_checked": len(days),
                    "mismatched_days": str(mismatches[:10]),
                    "mismatched_months": str([month for (month,) in month_mismatches[:10]]),
                },
            )
        ],
    )


@asset(
    deps=[user_daily_spend],
    automation_condition=AFTER_UPSTREAM,
    group_name="analytics",
    kinds={"postgres"},
    description=(
        "Per user, every calendar day from the first to the last active day (zero on days "
        "without spend): the daily total and the 7-day moving average. Only users whose daily "
        "spend changed are rewritten, from their earliest changed day on."
    ),
    check_specs=[
        AssetCheckSpec(
            "no_missing_day",
            asset="user_spend_trend",
            description="Every user's series has every calendar day from first to last.",
        )
    ],
)
def user_spend_trend(warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect() as conn:
        stats = analytics.refresh_spend_trend(conn)
        gaps = analytics.trend_gaps(conn)
        metadata = _metadata(stats, conn)
    return MaterializeResult(
        metadata=metadata,
        check_results=[
            AssetCheckResult(
                check_name="no_missing_day",
                passed=not gaps,
                metadata={"users_with_gaps": str(gaps[:10])},
            )
        ],
    )


@asset(
    deps=[user_daily_spend],
    automation_condition=AFTER_UPSTREAM,
    group_name="analytics",
    kinds={"postgres"},
    description=(
        "Per user: transaction count, total spend, mean, population standard deviation, "
        "volatility (stddev / mean), global whale rank (dense rank by total spend), shortest "
        "gap between transactions, largest single amount and velocity. Merged from daily "
        "aggregates for the users that changed; the rank is recomputed for everyone."
    ),
    check_specs=[
        AssetCheckSpec(
            "one_row_per_user",
            asset="user_risk_profile",
            description="Exactly one risk row for every user with spend.",
        )
    ],
)
def user_risk_profile(warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect() as conn:
        stats = analytics.refresh_risk_profile(conn)
        users, rows, missing = analytics.risk_coverage(conn)
        metadata = _metadata(stats, conn)
    return MaterializeResult(
        metadata=metadata,
        check_results=[
            AssetCheckResult(
                check_name="one_row_per_user",
                passed=users == rows and missing == 0,
                metadata={"users": users, "risk_rows": rows, "users_without_row": missing},
            )
        ],
    )
