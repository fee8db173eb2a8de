"""HTTP hardening (R36): security headers on every response, and the live-update connection
accepted only from the product's own origin."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from portal_ui.config import Settings

# NiceGUI mounts its socket.io app here (nicegui/nicegui.py: app.mount('/_nicegui_ws/', ...)),
# reached by HTTP long-polling and by websocket.
LIVE_UPDATE_PREFIX = "/_nicegui_ws"
# Their URLs carry tokens: no Referer may leak them, and no cache may keep the page.
TOKEN_PAGE_PREFIXES = ("/activate/", "/portal/reset/")
POLICY_VIOLATION = 1008
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]
Network = IPv4Network | IPv6Network


class Hardening:
    """A pure ASGI middleware (so it also sees websocket scopes) that adds the R36 headers and
    refuses live-update connections whose Origin is neither the request's own nor the
    configured PORTAL_BASE_URL's."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.base_origin = parse_origin(settings.public_base_url)
        # Only a trusted proxy's X-Forwarded-* headers say how the browser reached us.
        self.trusted_proxies: tuple[Network, ...] = tuple(
            getattr(settings, "trusted_proxy_networks", ())
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = _app_path(scope)
        if _is_live_update(path) and not self.origin_allowed(scope):
            await _refuse(scope, receive, send)
            return
        if scope["type"] == "http":
            send = _with_security_headers(send, token_page=path.startswith(TOKEN_PAGE_PREFIXES))
        await self.app(scope, receive, send)

    def origin_allowed(self, scope: Scope) -> bool:
        """No Origin (a non-browser client) is allowed; a browser's must be ours."""
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            return True
        parsed = parse_origin(origin)
        return parsed is not None and parsed in (self.request_origin(scope), self.base_origin)

    def request_origin(self, scope: Scope) -> Origin | None:
        """The origin the browser used to reach this request: its scheme and Host header, or
        what a trusted proxy says they were."""
        headers = Headers(scope=scope)
        scheme = {"ws": "http", "wss": "https"}.get(scope["scheme"], scope["scheme"])
        host = headers.get("host", "")
        if self._from_trusted_proxy(scope):
            # The nearest proxy writes the last entry; earlier ones may be the client's own.
            scheme = _last_entry(headers.get("x-forwarded-proto")) or scheme
            host = _last_entry(headers.get("x-forwarded-host")) or host
        return parse_origin(f"{scheme}://{host}")

    def _from_trusted_proxy(self, scope: Scope) -> bool:
        client = scope.get("client")
        if not client or not self.trusted_proxies:
            return False
        return _in_networks(client[0], self.trusted_proxies)


def parse_origin(url: str) -> Origin | None:
    """scheme, host and port of a URL or an Origin header, default ports filled in; None when it
    is not an http(s) origin (for example the "null" origin of a sandboxed frame)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _app_path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :] or "/"
    return path


def _is_live_update(path: str) -> bool:
    return path == LIVE_UPDATE_PREFIX or path.startswith(LIVE_UPDATE_PREFIX + "/")


def _last_entry(value: str | None) -> str:
    if not value:
        return ""
    return value.split(",")[-1].strip()


def _in_networks(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """403 for HTTP; for a websocket, a close before accept (the server answers the handshake
    with 403)."""
    if scope["type"] == "websocket":
        await WebSocketClose(code=POLICY_VIOLATION)(scope, receive, send)
        return
    await Response(status_code=403)(scope, receive, send)


def _with_security_headers(send: Send, *, token_page: bool) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            headers = MutableHeaders(scope=message)
            headers["X-Content-Type-Options"] = "nosniff"
            if token_page:
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cache-Control"] = "no-store"
            else:
                headers.setdefault("Referrer-Policy", "same-origin")
            if headers.get("content-type", "").startswith("text/html"):
                # Only frame-ancestors: NiceGUI needs inline scripts and styles.
                headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
                headers["X-Frame-Options"] = "SAMEORIGIN"
        await send(message)

    return send_with_headers
