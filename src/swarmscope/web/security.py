"""The workbench's guard: security headers, Host check, token, CSRF and body size, before any route runs.

Post text, names and bios in a case are written by the accounts under
investigation, and the server holds a case an analyst may not want to
share. So every response carries a strict Content-Security-Policy (no
inline script, nothing fetched from elsewhere); a request whose Host header
is not the bound host, 127.0.0.1 or localhost is refused (DNS rebinding: a
hostile page whose name resolves to 127.0.0.1 must not read the API); when a
token is in force every request must carry it (header or cookie); and every
state-changing request needs the double-submit CSRF header plus a same-origin
``Origin`` when the browser sends one. It is a plain ASGI middleware so that
its refusals, Starlette's 404s and file downloads all get the same headers.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
TOKEN_HEADER = "x-swarmscope-token"
TOKEN_COOKIE = "swarmscope_token"
CSRF_HEADER = "x-csrf-token"
CSRF_COOKIE = "swarmscope_csrf"
MAX_BODY = 64 * 1024  # label notes are short; anything larger is a mistake or an attack
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]{16,256}")

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def check_token(token: str | None, host: str) -> None:
    """ValueError unless ``token`` is usable in a cookie and present wherever ``host`` is not loopback."""
    if token is not None and not TOKEN_CHARS.fullmatch(token):
        raise ValueError("a token must be 16-256 characters of A-Z a-z 0-9 . _ ~ -")
    if token is None and host_name(host) not in LOOPBACK_HOSTS:
        raise ValueError(
            f"host {host!r} is not loopback: the server needs a token there (--token, or let "
            "`swarmscope serve` make one)"
        )


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two non-empty strings."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def host_name(host_header: str) -> str:
    """The host part of a Host header, lower case, without port or IPv6 brackets."""
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[1 : h.find("]")] if "]" in h else ""
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


class Guard:
    """ASGI middleware: headers on every response, then Host, token, CSRF and body-size checks."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", token: str | None = None) -> None:
        self.app = app
        self.token = token
        self.hosts = {host_name(host), "127.0.0.1", "localhost"}
        # Bound to every interface, clients name the machine however they reach it; the token
        # (mandatory off loopback) then does the rebinding guard's job: a rebound page has no token.
        self.any_host = host_name(host) in WILDCARD_HOSTS and token is not None

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in dict(SECURITY_HEADERS)]
                message = {**message, "headers": headers + list(SECURITY_HEADERS)}
            await send(message)

        refusal = self.check(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def check(self, scope: Scope) -> ASGIApp | None:
        """A response refusing the request, or None to let it through."""
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not self.any_host and host_name(host) not in self.hosts:
            return error(
                403,
                "this server answers only to its own host name (127.0.0.1 or localhost); "
                "open it at the address `swarmscope serve` printed",
            )
        method = scope["method"]
        cookies = _cookies(headers)
        if self.token is not None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if scope["path"] == "/" and method == "GET" and "token" in query:
                if same(query["token"][0], self.token):
                    return _token_redirect(self.token)
                return error(403, "wrong token: use the address `swarmscope serve` printed")
            if not (same(headers.get(TOKEN_HEADER), self.token) or same(cookies.get(TOKEN_COOKIE), self.token)):
                return error(
                    403,
                    "this server needs its access token: open the address with ?token= that "
                    "`swarmscope serve` printed, or send the X-Swarmscope-Token header",
                )
        if method not in SAFE_METHODS:
            if not same(headers.get(CSRF_HEADER), cookies.get(CSRF_COOKIE)):
                return error(
                    403,
                    "CSRF check failed: send the X-CSRF-Token header with the value of the "
                    "swarmscope_csrf cookie (set when the page at / is loaded)",
                )
            origin = headers.get("origin")
            if origin is not None and not _same_origin(origin, host):
                return error(403, f"cross-origin request refused (Origin {origin[:100]!r} is not this server)")
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                return error(413, f"request body over {MAX_BODY // 1024} KiB")
        return None


def _same_origin(origin: str, host: str) -> bool:
    try:
        o = urlsplit(origin)
    except ValueError:
        return False
    return o.scheme == "http" and o.netloc.lower() == host.strip().lower() and not o.path


def _cookies(headers: Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in headers.get("cookie", "").split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out.setdefault(k.strip(), v.strip())
    return out


def error(status: int, message: str, extra_headers: list[tuple[bytes, bytes]] | None = None) -> ASGIApp:
    body = json.dumps({"error": message}).encode()

    async def respond(scope: Scope, receive: Callable, send: Callable) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ]
                + (extra_headers or []),
            }
        )
        await send({"type": "http.response.body", "body": body})

    return respond


def _token_redirect(token: str) -> ASGIApp:
    async def respond(scope: Scope, receive: Callable, send: Callable) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", b"/"),
                    (b"content-length", b"0"),
                    (b"cache-control", b"no-store"),
                    (b"set-cookie", f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict".encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return respond


def csrf_cookie_header(value: str) -> str:
    """Set-Cookie value for the CSRF cookie: readable by the page's script (double submit), same-site only."""
    return f"{CSRF_COOKIE}={value}; Path=/; SameSite=Strict"
