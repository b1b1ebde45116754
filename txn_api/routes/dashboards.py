"""HTML dashboards: a user's daily spend with its 7-day average beside their risk metrics, and
an overview of the platform (top spenders, volatility distribution, volume per day, and the
health of ingestion from the upload ledger).

Figures are built with plotly's Python package and handed to the page as JSON; the page draws
them with the plotly.js bundled in that same package, which this router serves itself, so the
dashboards need no network beyond this service. Every value reaches the page through Jinja2's
autoescaping (or its `tojson` filter, which is safe inside a script element).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Annotated, Any

import plotly
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from txn_api.charts import (
    ingestion_figure,
    ingestion_totals,
    top_spenders_figure,
    trend_figure,
    volatility_figure,
    volume_figure,
)
from txn_api.deps import ReadConnectionDep
from txn_api.errors import BAD_USER_ID, WAREHOUSE_DOWN, documented_validation
from txn_api.params import UserId
from txn_api.schemas import RiskMetrics
from txn_core import reads

router = APIRouter(tags=["dashboards"])

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
# The version in the address lets browsers keep the file for a year: a new plotly is a new URL.
PLOTLY_JS_URL = f"/static/plotly.min.js?v={plotly.__version__}"
# The pages' own script, a file rather than inline code, so their Content-Security-Policy
# allows scripts from the API alone; its address changes with its content.
DASHBOARD_JS = Path(__file__).resolve().parents[1] / "static" / "dashboard.js"
DASHBOARD_JS_URL = (
    f"/static/dashboard.js?v={hashlib.sha256(DASHBOARD_JS.read_bytes()).hexdigest()[:12]}"
)
LONG_CACHE = "public, max-age=31536000, immutable"

TOP_SPENDERS = 20
VOLATILITY_BINS = 20

HTML_PAGE: dict[str, Any] = {"content": {"text/html": {}}}


def _money(value: Any) -> str:
    return f"{value:,.2f}"


def _count(value: Any) -> str:
    return f"{value:,}"


def _minutes(value: float | None) -> str:
    return "none yet" if value is None else f"{value:,.1f} min"


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


TEMPLATES.env.filters.update(money=_money, count=_count, minutes=_minutes, timestamp=_timestamp)
TEMPLATES.env.globals.update(plotly_js_url=PLOTLY_JS_URL, dashboard_js_url=DASHBOARD_JS_URL)


@router.get("/static/plotly.min.js", include_in_schema=False)
def plotly_js() -> FileResponse:
    """The plotly.js that the installed plotly package ships: the pages never call a CDN."""
    return _script(PLOTLY_JS)


@router.get("/static/dashboard.js", include_in_schema=False)
def dashboard_js() -> FileResponse:
    """Draws the figures a page carries as JSON."""
    return _script(DASHBOARD_JS)


def _script(path: Path) -> FileResponse:
    return FileResponse(
        path, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": LONG_CACHE}
    )


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    summary="Overview dashboard: top spenders, volatility, volume and ingestion per day",
    response_description="An HTML page with the charts (or a note where there is no data yet).",
    responses={
        status.HTTP_422_UNPROCESSABLE_CONTENT: documented_validation(
            "`days` is not an integer from 1 to 3660."
        ),
        status.HTTP_503_SERVICE_UNAVAILABLE: WAREHOUSE_DOWN,
    },
)
async def overview_dashboard(
    request: Request,
    conn: ReadConnectionDep,
    days: Annotated[
        int,
        Query(
            ge=1,
            le=3660,
            description="Days shown: of platform volume, up to its latest day; of ingestion, "
            "up to today (UTC).",
        ),
    ] = 90,
) -> HTMLResponse:
    totals = await reads.platform_totals(conn)
    spenders = await reads.top_spenders(conn, TOP_SPENDERS)
    bins = await reads.volatility_histogram(conn, VOLATILITY_BINS)
    volume = await reads.platform_daily_volume(conn, days)
    ingestion = await reads.ingestion_health(conn, days)
    # Building the figures and the page is CPU work: a worker thread keeps the loop free.
    return await run_in_threadpool(
        _overview_page, request, totals, spenders, bins, volume, ingestion, days
    )


def _overview_page(request, totals, spenders, bins, volume, ingestion, days: int) -> HTMLResponse:
    figures = {}
    if spenders:
        figures["top-spenders"] = top_spenders_figure(spenders)
    if bins:
        figures["volatility"] = volatility_figure(bins)
    if volume:
        figures["volume"] = volume_figure(volume)
    ingested = ingestion_totals(ingestion["daily"])
    if ingested["uploads"]:  # a window without uploads gets a sentence, not an empty chart
        figures["ingestion"] = ingestion_figure(ingestion["daily"])
    return TEMPLATES.TemplateResponse(
        request,
        "overview.html",
        {
            "totals": totals,
            "spenders": spenders,
            "volume": volume,
            "ingestion": ingestion,
            "ingested": ingested,
            "days": days,
            "figures": figures,
        },
    )


@router.get(
    "/dashboard/{user_id}",
    response_class=HTMLResponse,
    summary="A user's dashboard: daily spend with its 7-day average, and risk metrics",
    response_description="An HTML page with the chart and the risk metrics.",
    responses={
        status.HTTP_404_NOT_FOUND: {
            "description": "The user is unknown: an HTML page that says so.",
            **HTML_PAGE,
        },
        status.HTTP_422_UNPROCESSABLE_CONTENT: BAD_USER_ID,
        status.HTTP_503_SERVICE_UNAVAILABLE: WAREHOUSE_DOWN,
    },
)
async def user_dashboard(
    request: Request, user_id: UserId, conn: ReadConnectionDep
) -> HTMLResponse:
    trend = await reads.spend_trend(conn, user_id)
    profile = await reads.risk_profile(conn, user_id)
    return await run_in_threadpool(_user_page, request, user_id, trend, profile)


def _user_page(request, user_id: int, trend, profile) -> HTMLResponse:
    if not trend and profile is None:
        return TEMPLATES.TemplateResponse(
            request,
            "not_found.html",
            {"user_id": user_id},
            status_code=status.HTTP_404_NOT_FOUND,
        )
    figures = {"spend-trend": trend_figure(trend)} if trend else {}
    return TEMPLATES.TemplateResponse(
        request,
        "user_dashboard.html",
        {
            "user_id": user_id,
            "trend": trend,
            "metrics": RiskMetrics.from_profile(profile) if profile else None,
            "analysis": reads.risk_assessment(profile) if profile else None,
            "figures": figures,
        },
    )
