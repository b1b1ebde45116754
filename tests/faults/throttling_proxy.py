"""A stand-in for S3 under load: a proxy in front of moto's server that answers reads of
objects with 503 SlowDown, as S3 does when throttling, as many times as it is told to."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class ThrottlingProxy:
    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.throttle_reads = 0  # how many more object reads to refuse
        self.throttled = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _should_throttle(self, method: str, path: str) -> bool:
        is_object_read = method in ("GET", "HEAD") and path.strip("/").count("/") >= 1
        with self._lock:
            if is_object_read and self.throttle_reads > 0:
                self.throttle_reads -= 1
                self.throttled += 1
                return True
        return False

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _relay(self) -> None:
                if proxy._should_throttle(self.command, urlsplit(self.path).path):
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(SLOW_DOWN)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status)
                head = self.command == "HEAD"  # keeps the object's length, sends no body
                for name, value in response.getheaders():
                    dropped = (
                        "transfer-encoding",
                        "connection",
                        *(() if head else ("content-length",)),
                    )
                    if name.lower() not in dropped:
                        self.send_header(name, value)
                if not head:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                upstream.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _relay

        return Handler
