"""The dashboards' Plotly figures, built from the rows the reads return and handed to the page as
JSON (the page draws them with txn_api/static/dashboard.js). One house style for all of them."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

BAR_COLOUR = "#4c78a8"
LINE_COLOUR = "#f58518"
# Rows of the uploads stacked per day: what went in, what was already there, what was refused.
INGESTION_ROWS = (
    ("rows_loaded", "Rows loaded", BAR_COLOUR),
    ("rows_duplicate", "Duplicate", "#9aa5b1"),
    ("rows_rejected", "Rejected", "#e45756"),
)
# Uploads and failures per day as marks, not lines (counts of separate files); a ring and a
# cross, so both show when every upload of a day failed.
UPLOADS_MARK = {"color": LINE_COLOUR, "symbol": "circle-open", "size": 12, "line": {"width": 2}}
FAILURES_MARK = {"color": "#7b1e1e", "symbol": "x", "size": 8}
INGESTION_UPLOADS = (
    ("uploads", "Uploads", UPLOADS_MARK),
    ("failed", "Failed uploads", FAILURES_MARK),
)
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _count_step(largest: int, ticks: int = 5) -> int:
    """A whole-number tick step (1, 2, 5, 10, 20, 50, ...) giving about `ticks` ticks: counts
    are never drawn at fractional ticks."""
    step, factors = 1, itertools.cycle((2, 2.5, 2))  # 1, 2, 5, 10, 20, 50, 100, ...
    while step * ticks < largest:
        step = int(step * next(factors))
    return step


def _count_axis(largest: int) -> dict[str, Any]:
    return {"tickmode": "linear", "tick0": 0, "dtick": _count_step(largest), "rangemode": "tozero"}


def _floats(values: Sequence[Decimal | float | int]) -> list[float]:
    return [float(value) for value in values]


def _figure_json(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data (plotly's encoder knows dates, numpy and decimals)."""
    return json.loads(fig.to_json())


def _layout(fig: go.Figure, height: int | None, **layout: Any) -> go.Figure:
    """House style; a height of None lets the chart fill its container's height."""
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 64, "r": 24, "t": 16, "b": 48},
        font={"family": FONT, "size": 13, "color": "#1f2933"},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        separators=".,",
        **layout,
    )
    return fig


def trend_figure(days: list[dict[str, Any]]) -> dict[str, Any]:
    dates = [day["spend_date"].isoformat() for day in days]
    fig = go.Figure()
    fig.add_bar(
        x=dates,
        y=_floats([day["daily_total"] for day in days]),
        name="Daily spend",
        marker_color=BAR_COLOUR,
        hovertemplate="%{y:,.2f}<extra>Daily spend</extra>",
    )
    fig.add_scatter(
        x=dates,
        y=_floats([day["rolling_7d_avg"] for day in days]),
        mode="lines",
        name="7-day average",
        line={"color": LINE_COLOUR, "width": 3},
        hovertemplate="%{y:,.2f}<extra>7-day average</extra>",
    )
    _layout(fig, None, hovermode="x unified", bargap=0.2, yaxis_title="Amount")
    fig.update_xaxes(type="date")
    return _figure_json(fig)


def top_spenders_figure(spenders: list[dict[str, Any]]) -> dict[str, Any]:
    fig = go.Figure()
    fig.add_bar(
        x=_floats([row["total_spend"] for row in spenders]),
        y=[f"User {row['user_id']}" for row in spenders],
        orientation="h",
        marker_color=BAR_COLOUR,
        customdata=[f"/dashboard/{row['user_id']}" for row in spenders],
        hovertemplate="%{y}: %{x:,.2f}<extra>Lifetime spend</extra>",
        name="Lifetime spend",
    )
    _layout(fig, 120 + 26 * len(spenders), xaxis_title="Lifetime spend", showlegend=False)
    fig.update_yaxes(autorange="reversed", type="category")
    return _figure_json(fig)


def volatility_figure(bins: list[dict[str, Any]]) -> dict[str, Any]:
    starts = _floats([row["bin_start"] for row in bins])
    ends = _floats([row["bin_end"] for row in bins])
    fig = go.Figure()
    fig.add_bar(
        x=[(start + end) / 2 for start, end in zip(starts, ends, strict=True)],
        y=[row["users"] for row in bins],
        width=[(end - start) * 0.95 for start, end in zip(starts, ends, strict=True)],
        customdata=[[start, end] for start, end in zip(starts, ends, strict=True)],
        marker_color=BAR_COLOUR,
        hovertemplate="%{customdata[0]:.2f} to %{customdata[1]:.2f}: %{y} users<extra></extra>",
        name="Users",
    )
    _layout(
        fig,
        None,
        xaxis_title="Spending volatility index (stddev / mean)",
        yaxis={"title": {"text": "Users"}, **_count_axis(max(row["users"] for row in bins))},
        showlegend=False,
    )
    return _figure_json(fig)


def volume_figure(days: list[dict[str, Any]]) -> dict[str, Any]:
    dates = [day["spend_date"].isoformat() for day in days]
    fig = go.Figure()
    fig.add_bar(
        x=dates,
        y=_floats([day["total_amount"] for day in days]),
        name="Spend",
        marker_color=BAR_COLOUR,
        hovertemplate="%{y:,.2f}<extra>Spend</extra>",
    )
    fig.add_scatter(
        x=dates,
        y=[day["tx_count"] for day in days],
        name="Transactions",
        mode="lines+markers" if len(days) < 40 else "lines",
        yaxis="y2",
        line={"color": LINE_COLOUR, "width": 2.5},
        hovertemplate="%{y:,}<extra>Transactions</extra>",
    )
    _layout(
        fig,
        380,
        hovermode="x unified",
        bargap=0.2,
        yaxis={"title": {"text": "Spend"}},
        yaxis2={
            "title": {"text": "Transactions"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            **_count_axis(max(day["tx_count"] for day in days)),
        },
    )
    fig.update_layout(margin={"r": 72})
    fig.update_xaxes(type="date")
    return _figure_json(fig)


def ingestion_figure(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows per day stacked as loaded, duplicate and rejected; uploads and failures per day on
    a second axis, since a day of one huge file and one of many small ones differ."""
    dates = [day["day"].isoformat() for day in days]
    fig = go.Figure()
    for column, name, colour in INGESTION_ROWS:
        fig.add_bar(
            x=dates,
            y=[day[column] for day in days],
            name=name,
            marker_color=colour,
            hovertemplate=f"%{{y:,}}<extra>{name}</extra>",
        )
    for column, name, marker in INGESTION_UPLOADS:
        fig.add_scatter(
            x=dates,
            y=[day[column] or None for day in days],  # no mark on a day without: zeros are noise
            name=name,
            mode="markers",
            yaxis="y2",
            marker=marker,
            hovertemplate=f"%{{y:,}}<extra>{name}</extra>",
        )
    _ingestion_layout(fig, days)
    return _figure_json(fig)


def _ingestion_layout(fig: go.Figure, days: list[dict[str, Any]]) -> None:
    most_rows = max(sum(day[column] for column, _, _ in INGESTION_ROWS) for day in days)
    _layout(
        fig,
        380,
        barmode="stack",
        hovermode="x unified",
        bargap=0.2,
        yaxis={"title": {"text": "Rows"}, **_count_axis(most_rows)},
        yaxis2={
            "title": {"text": "Uploads"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            **_count_axis(max(day["uploads"] for day in days)),
        },
    )
    # Plotly lists stacked bars top of the stack first; keep the tiles' order instead.
    fig.update_layout(margin={"r": 72}, legend_traceorder="normal")
    fig.update_xaxes(type="date")


def ingestion_totals(days: list[dict[str, Any]]) -> dict[str, int]:
    """The window's uploads, failures and rows, summed over its days."""
    columns = ["uploads", "failed"] + [column for column, _, _ in INGESTION_ROWS]
    return {column: sum(day[column] for day in days) for column in columns}
