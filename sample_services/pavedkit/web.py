"""A small HTTP layer on the standard library: routes with templates, JSON, one handler.

Every request to a service route is traced (W3C ``traceparent`` in, a SERVER span),
counted in the metrics contract by route template, and logged as one JSON line. Probe and
metrics endpoints are served but neither counted nor traced (the contract says so).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MAX_BODY = 1 << 20
UNMATCHED = "unmatched"  # the route label of a request no route matches: bounded cardinality


class HttpError(Exception):
    """Raise in a handler to answer with ``status`` and a JSON ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    """One HTTP request as a handler sees it."""

    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        """The body parsed as JSON; 400 when it is not."""
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"request body is not JSON: {exc}") from None


@dataclass
class Response:
    """What a handler returns; a dict or list body is sent as JSON."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        """The body bytes and their content type."""
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain; charset=utf-8")
        if self.body is None:
            return b"", ""
        return json.dumps(self.body).encode(), "application/json"


Handler = Callable[[Request], Response | dict | list]


@dataclass(frozen=True)
class Route:
    """A method and a path template such as ``/orders/{order_id}``."""

    method: str
    template: str
    handler: Handler
    pattern: re.Pattern = field(compare=False)


def compile_template(template: str) -> re.Pattern:
    """``/orders/{order_id}`` → a regex with a named group per placeholder."""
    if not template.startswith("/"):
        raise ValueError(f"route {template!r} must start with '/'")
    parts = re.split(r"\{([a-z_][a-z0-9_]*)\}", template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$")


class Router:
    """Routes of one service, matched in the order they were added."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Add a route; a duplicate method and template is a programming error."""
        method = method.upper()
        if any(r.method == method and r.template == template for r in self.routes):
            raise ValueError(f"route {method} {template} is defined twice")
        self.routes.append(Route(method, template, handler, compile_template(template)))

    def match(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str], bool]:
        """(route template, handler, params, path matched some route with another method)."""
        path_known = False
        for r in self.routes:
            m = r.pattern.match(path)
            if not m:
                continue
            if r.method == method:
                return r.template, r.handler, m.groupdict(), True
            path_known = True
        return UNMATCHED, None, {}, path_known


class Server(ThreadingHTTPServer):
    """A threading HTTP server that knows the application it serves."""

    daemon_threads = True
    # Listen backlog: connections queued during a burst instead of being refused.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Any, metrics_only: bool = False) -> None:
        self.app = app
        self.metrics_only = metrics_only
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    """Dispatches to probes, metrics, or the application's routes."""

    server: Server
    server_version = "pavedkit"
    sys_version = ""
    # A client that stops sending is cut off instead of holding a thread forever.
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # access lines are logged as JSON by the application

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            if k.lower() != "content-type":
                self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _dispatch(self) -> None:
        app = self.server.app
        path = urlsplit(self.path).path
        if self.server.metrics_only or app.metrics_on_main_port:
            if path == app.METRICS_PATH and self.command in ("GET", "HEAD"):
                body, ctype = app.metrics.exposition()
                return self._send(200, body, ctype)
            if self.server.metrics_only:
                return self._send(404, b'{"error": "not found"}', "application/json")
        if not self.server.metrics_only and self.command in ("GET", "HEAD"):
            if path == app.LIVENESS_PATH:
                return self._send(200, b'{"status": "ok"}', "application/json")
            if path == app.READINESS_PATH:
                ready, reason = app.readiness()
                body = json.dumps({"status": "ready" if ready else "not ready", "reason": reason}).encode()
                return self._send(200 if ready else 503, body, "application/json")
        app.request_started()
        try:
            status, body, ctype, headers = app.handle_http(self, path)
            self._send(status, body, ctype, headers)
        finally:
            app.request_finished()

    def read_body(self) -> bytes:
        """The request body (at most MAX_BODY bytes); 413 beyond, 400 when malformed."""
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit():
            raise HttpError(400, "Content-Length is not a number")
        if int(length) > MAX_BODY:
            raise HttpError(413, f"request body is larger than {MAX_BODY} bytes")
        return self.rfile.read(int(length))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch  # noqa: N815


def elapsed(start: float) -> float:
    """Seconds since ``start`` (a ``time.perf_counter()`` value)."""
    return time.perf_counter() - start
