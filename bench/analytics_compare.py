"""Our three answers against the reference's, for the same users: equal where they should be,
with what was compared kept for the report."""

from __future__ import annotations

import math
from typing import Any

CENT = 0.005 + 1e-9


def _close(left: float | None, right: float | None, tolerance: float = 1e-9) -> bool:
    if left is None or right is None:
        return left is right
    return abs(left - right) <= tolerance


def compare_summary(ours: dict, ref: dict) -> tuple[bool, dict[str, Any]]:
    detail = {
        "max": [ours["max_transaction"], ref["max_transaction"]],
        "min": [ours["min_transaction"], ref["min_transaction"]],
        "mean": [ours["mean_transaction"], ref["mean_transaction"]],
    }
    equal = (
        _close(ours["max_transaction"], ref["max_transaction"])
        and _close(ours["min_transaction"], ref["min_transaction"])
        # ours is rounded to cents; the reference's AVG is not
        and _close(ours["mean_transaction"], ref["mean_transaction"], CENT)
    )
    return equal, detail


def compare_risk(ours: dict, ref: dict) -> tuple[bool, dict[str, Any]]:
    mine, theirs = ours["risk_metrics"], ref["risk_metrics"]
    count = mine["transaction_count"]
    # Ours is the population standard deviation over the mean; the reference's STDDEV is
    # PostgreSQL's sample one. Both are rounded to 2 places, so the converted figure may be a
    # cent off either way.
    ref_volatility = theirs["spending_volatility_index"]
    as_population = (
        ref_volatility * math.sqrt((count - 1) / count)
        if ref_volatility is not None and count > 1
        else 0.0
    )
    detail = {
        "global_whale_rank": [mine["global_whale_rank"], theirs["global_whale_rank"]],
        "volatility": [mine["spending_volatility_index"], ref_volatility],
        "volatility_reference_as_population": round(as_population, 4),
        "volatility_equal_as_printed": mine["spending_volatility_index"] == ref_volatility,
        "total": [mine["total_lifetime_spend"], theirs["total_lifetime_spend"]],
        "max_single": [
            mine["max_single_transaction_spike"],
            theirs["max_single_transaction_spike"],
        ],
        "shortest_gap_mins": [
            mine["shortest_time_between_transactions_mins"],
            theirs["shortest_time_between_transactions_mins"],
        ],
        "transaction_count": count,
    }
    equal = (
        mine["global_whale_rank"] == theirs["global_whale_rank"]
        and _close(mine["total_lifetime_spend"], theirs["total_lifetime_spend"], 1e-6)
        and _close(mine["max_single_transaction_spike"], theirs["max_single_transaction_spike"])
        and _close(
            mine["shortest_time_between_transactions_mins"],
            theirs["shortest_time_between_transactions_mins"],
            1e-6,
        )
        and _close(mine["spending_volatility_index"], as_population, 0.01 + 1e-9)
    )
    return equal, detail


def _ends(days: list[dict], index: int) -> str | None:
    return days[index]["spend_date"] if days else None


def compare_trend(ours: list, ref: list) -> tuple[bool, dict[str, Any]]:
    same_days = [day["spend_date"] for day in ours] == [day["spend_date"] for day in ref]
    mismatches = [
        mine["spend_date"]
        for mine, theirs in zip(ours, ref, strict=False)
        if not _close(mine["daily_total"], theirs["daily_total"], 1e-6)
        or not _close(mine["rolling_7d_avg"], theirs["rolling_7d_avg"], 1e-6)
    ]
    detail = {
        "days": [len(ours), len(ref)],
        "first_day": [_ends(ours, 0), _ends(ref, 0)],
        "last_day": [_ends(ours, -1), _ends(ref, -1)],
        "sum_daily_total": [
            round(sum(day["daily_total"] for day in ours), 2),
            round(sum(day["daily_total"] for day in ref), 2),
        ],
        "days_with_other_values": mismatches[:5],
    }
    return same_days and not mismatches, detail


COMPARE = {"summary": compare_summary, "risk-profile": compare_risk, "spend-trend": compare_trend}


def compare_answers(ours: dict, reference: dict, users: list[int]) -> dict[str, Any]:
    """Every endpoint's answers for `users`, ours against the reference's (status, then body)."""
    checks = []
    for endpoint, compare in COMPARE.items():
        for user in users:
            mine, theirs = ours[endpoint][str(user)], reference[endpoint][str(user)]
            if mine["status"] != 200 or theirs["status"] != 200:
                equal = mine["status"] == theirs["status"]
                detail = {"status": [mine["status"], theirs["status"]]}
            else:
                equal, detail = compare(mine["body"], theirs["body"])
            checks.append({"endpoint": endpoint, "user_id": user, "equal": equal, **detail})
    volatility_as_printed = [
        check["volatility_equal_as_printed"] for check in checks if "volatility" in check
    ]
    return {
        "users": users,
        "checks": checks,
        "all_equal": all(check["equal"] for check in checks),
        "volatility_equal_as_printed": f"{sum(volatility_as_printed)}/{len(volatility_as_printed)}",
    }
