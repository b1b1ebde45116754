"""What guards the data: the API key, cross-site requests, rate limits and response headers.

- With `TXN_API_KEY` set, every endpoint that returns or writes data needs the key: in the
  `X-API-Key` header, or as the password of HTTP Basic (any user name), so that a person can open
  the dashboards in a browser. Liveness and readiness stay open.
- A browser's cross-site request cannot upload, key or not (a cached Basic login would
  otherwise travel with a hostile page's form post): the browser says where it comes from.
- Each client (its address, as the proxy reports it) has a budget of reads and of uploads
  (`TXN_RATE_LIMIT_READS`, `TXN_RATE_LIMIT_UPLOADS`); past it, 429 with Retry-After.
- Every response says not to sniff, frame or leak referrers; pages get a Content-Security-Policy
  that allows only the API's own scripts (the dashboards' plotly.js is served by the API).
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBasicCredentials
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from txn_api.deps import SettingsDep
from txn_core.settings import Settings

API_KEY_HEADER = "X-API-Key"
BASIC_REALM = "transactions"

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="The service's key (TXN_API_KEY), when it has one.",
)
basic_auth = HTTPBasic(
    auto_error=False,
    realm=BASIC_REALM,
    description="Any user name, the service's key as the password (for browsers).",
)


def _matches(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


async def require_api_key(
    settings: SettingsDep,
    header: Annotated[str | None, Security(api_key_header)],
    basic: Annotated[HTTPBasicCredentials | None, Security(basic_auth)],
) -> None:
    """Data endpoints need the key when one is configured (an empty TXN_API_KEY means none)."""
    expected = settings.api_key.get_secret_value() if settings.api_key else ""
    if not expected:
        return
    if _matches(header, expected) or _matches(basic.password if basic else None, expected):
        return
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=(
            f"a valid API key is required: send it in the {API_KEY_HEADER} header, or as the "
            "password of HTTP Basic"
        ),
        headers={"WWW-Authenticate": f'Basic realm="{BASIC_REALM}", charset="UTF-8"'},
    )


async def refuse_cross_site(request: Request) -> None:
    """Browsers send Sec-Fetch-Site and Origin with a form post; a post from another site, or
    from a page with no origin (a sandbox, a file), is refused. Clients that are not browsers
    send neither and are let through."""
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    foreign_origin = origin is not None and (
        origin == "null" or urlsplit(origin).netloc != request.headers.get("host")
    )
    if fetch_site in ("cross-site", "same-site") or foreign_origin:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="uploads from another site's page are refused; send the file from a client",
        )


class RateLimits:
    """Per client and kind of request ("reads", "uploads"), fixed windows kept in memory (per
    API process: a deployment with several processes allows each its budget)."""

    def __init__(self, reads: str, uploads: str) -> None:
        self._limiter = FixedWindowRateLimiter(MemoryStorage())
        self._limits: dict[str, list[RateLimitItem]] = {
            "reads": parse_many(reads) if reads.strip() else [],
            "uploads": parse_many(uploads) if uploads.strip() else [],
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(settings.rate_limit_reads, settings.rate_limit_uploads)

    def retry_after(self, kind: str, client: str) -> int | None:
        """None when the request fits the client's budget (and counts it), else the seconds
        until it would."""
        for limit in self._limits[kind]:
            if not self._limiter.hit(limit, kind, client):
                reset_at = self._limiter.get_window_stats(limit, kind, client).reset_time
                return max(1, math.ceil(reset_at - time.time()))
        return None


async def rate_limit(request: Request) -> None:
    limits: RateLimits = request.app.state.rate_limits
    kind = "uploads" if request.method == "POST" else "reads"
    client = request.client.host if request.client else "unknown"
    if (wait := limits.retry_after(kind, client)) is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many {kind} from this client; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


# Rate limit first: a flood of requests without the key is refused as cheaply as any other.
DATA_ACCESS = [Depends(rate_limit), Depends(require_api_key)]

COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
# plotly.js styles its charts inline; scripts come only from the API itself.
PAGE_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    b"data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    b"frame-ancestors 'none'"
)
# The interactive docs (/docs, /redoc) load their scripts from a CDN and run inline code.
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """Adds the headers to every HTTP response (plain ASGI: no cost per request beyond that)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = scope["path"].startswith(DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += COMMON_HEADERS
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and not is_docs:
                    headers.append((b"content-security-policy", PAGE_POLICY))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
