"""The analytics assets on real resources: a backfilled range of days flows into all three
tables, their checks pass, and the automation conditions ask for exactly what changed."""

import psycopg
from dagster import materialize

from txn_assets.assets.analytics import user_daily_spend, user_risk_profile, user_spend_trend
from txn_assets.assets.generation import daily_transactions
from txn_assets.schedules import RANGE_END_TAG, RANGE_START_TAG

RANGE = {RANGE_START_TAG: "2024-01-01", RANGE_END_TAG: "2024-01-14"}


def test_a_range_of_days_flows_into_every_table_and_every_check_passes(
    instance, resources, warehouse_url
):
    config = {"ops": {"daily_transactions": {"config": {"rows_per_day": 300}}}}
    assert materialize(
        [daily_transactions], instance=instance, resources=resources, tags=RANGE,
        run_config=config,
    ).success
    result = materialize(
        [user_daily_spend, user_spend_trend, user_risk_profile],
        instance=instance, resources=resources, tags=RANGE,
    )
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "reconciles_with_transactions": True, "no_missing_day": True, "one_row_per_user": True
    }
    daily = {
        m.asset_key.path[-1]: m.metadata
        for m in result.get_asset_materialization_events()
        for m in [m.event_specific_data.materialization]
    }
    assert daily["user_risk_profile"]["users_touched"].value > 100
    assert "| rank | user |" in daily["user_risk_profile"]["top_spenders"].value

    with psycopg.connect(warehouse_url) as conn:
        facts = conn.execute(
            "SELECT count(*), sum(transaction_amount), count(DISTINCT user_id) FROM transactions"
        ).fetchone()
        assert conn.execute(
            "SELECT sum(tx_count), sum(total_amount) FROM user_daily_spend"
        ).fetchone() == facts[:2]
        assert conn.execute(
            "SELECT sum(tx_count), sum(total_spend), count(*) FROM user_risk_profile"
        ).fetchone() == facts
        ranks = conn.execute(
            "SELECT min(global_whale_rank), max(global_whale_rank) FROM user_risk_profile"
        ).fetchone()
    assert ranks[0] == 1 and ranks[1] <= facts[2]

    again = materialize([user_spend_trend, user_risk_profile], instance=instance,
                        resources=resources)
    touched = [
        m.event_specific_data.materialization.metadata["users_touched"].value
        for m in again.get_asset_materialization_events()
    ]
    assert touched == [0, 0]  # nothing changed since: nothing rewritten
