"""HTTP hardening (R36): security headers, and the live-update connection only from our origin."""

from __future__ import annotations

from typing import Any

import httpx
from nicegui.testing import User
from starlette.types import Message, Receive, Scope, Send

from portal_ui.config import Settings, load_settings
from web.hardening import Hardening

HANDSHAKE = "/_nicegui_ws/socket.io/?EIO=4&transport=polling"
EVIL = "https://evil.example"


# -- through the app, as the User fixture runs it -------------------------------------------------


async def test_pages_cannot_be_framed_by_other_sites(user: User) -> None:  # R36
    response = await user.http_client.get("/login")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


async def test_every_response_is_nosniff_and_same_origin_referrer(user: User) -> None:  # R36
    response = await user.http_client.get("/login")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    handshake = await user.http_client.get(HANDSHAKE)
    assert handshake.headers["x-content-type-options"] == "nosniff"


async def test_activation_page_sends_no_referer_and_is_not_cached(user: User) -> None:  # R36
    response = await user.http_client.get("/activate/sometoken")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


async def test_reset_page_sends_no_referer_and_is_not_cached(user: User) -> None:  # R36
    response = await user.http_client.get("/portal/reset/x")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


async def test_live_update_from_another_site_is_refused(user: User) -> None:  # R36
    response = await user.http_client.get(HANDSHAKE, headers={"Origin": EVIL})
    assert response.status_code == 403


async def test_live_update_from_the_null_origin_is_refused(user: User) -> None:  # R36
    response = await user.http_client.get(HANDSHAKE, headers={"Origin": "null"})
    assert response.status_code == 403


async def test_live_update_from_the_own_origin_is_accepted(user: User) -> None:  # R36
    response = await user.http_client.get(HANDSHAKE, headers={"Origin": "http://test"})
    assert response.status_code == 200
    assert '"sid"' in response.text


async def test_live_update_from_the_configured_base_url_is_accepted(user: User) -> None:  # R36
    response = await user.http_client.get(HANDSHAKE, headers={"Origin": "http://portal.test"})
    assert response.status_code == 200


async def test_live_update_without_origin_is_accepted(user: User) -> None:  # R36
    response = await user.http_client.get(HANDSHAKE)
    assert response.status_code == 200


# -- the middleware alone, as a pure ASGI app ------------------------------------------------------


class Recorder:
    """An inner ASGI app that accepts every websocket and answers every request with 200."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def make_settings(**overrides: Any) -> Settings:
    return load_settings(**{"base_url": "https://portal.example", **overrides})


def websocket_scope(
    origin: str | None,
    *,
    host: str = "portal.internal:8080",
    client: str = "203.0.113.7",
    scheme: str = "ws",
    extra: dict[str, str] | None = None,
) -> Scope:
    headers = {"host": host, **({"origin": origin} if origin else {}), **(extra or {})}
    return {
        "type": "websocket",
        "scheme": scheme,
        "path": "/_nicegui_ws/socket.io/",
        "root_path": "",
        "query_string": b"EIO=4&transport=websocket",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": (client, 50000),
        "server": ("127.0.0.1", 8080),
        "subprotocols": [],
    }


async def open_websocket(middleware: Hardening, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


async def test_websocket_from_another_site_is_closed_before_accept() -> None:  # R36
    inner = Recorder()
    sent = await open_websocket(Hardening(inner, make_settings()), websocket_scope(EVIL))
    assert not inner.called
    assert [m["type"] for m in sent] == ["websocket.close"]
    assert sent[0]["code"] == 1008


async def test_websocket_from_the_configured_base_url_is_accepted() -> None:  # R36
    inner = Recorder()
    scope = websocket_scope("https://portal.example")
    sent = await open_websocket(Hardening(inner, make_settings()), scope)
    assert inner.called
    assert sent == [{"type": "websocket.accept"}]


async def test_websocket_from_its_own_host_is_accepted() -> None:  # R36
    inner = Recorder()
    scope = websocket_scope("http://portal.internal:8080")
    await open_websocket(Hardening(inner, make_settings()), scope)
    assert inner.called


async def test_websocket_without_origin_is_accepted() -> None:  # R36
    inner = Recorder()
    await open_websocket(Hardening(inner, make_settings()), websocket_scope(None))
    assert inner.called


async def test_websocket_origin_with_another_port_is_refused() -> None:  # R36
    inner = Recorder()
    scope = websocket_scope("https://portal.example:8443")
    await open_websocket(Hardening(inner, make_settings()), scope)
    assert not inner.called


async def test_forwarded_host_is_believed_from_a_trusted_proxy() -> None:  # R36
    inner = Recorder()
    settings = make_settings(base_url="", trusted_proxies="10.0.0.0/8")
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-host": "clients.firm.example"}
    scope = websocket_scope("https://clients.firm.example", client="10.0.0.2", extra=forwarded)
    await open_websocket(Hardening(inner, settings), scope)
    assert inner.called


async def test_forwarded_host_is_ignored_from_anyone_else() -> None:  # R36
    inner = Recorder()
    settings = make_settings(base_url="", trusted_proxies="10.0.0.0/8")
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-host": "evil.example"}
    scope = websocket_scope(EVIL, client="203.0.113.7", extra=forwarded)
    await open_websocket(Hardening(inner, settings), scope)
    assert not inner.called


async def test_polling_from_another_site_is_refused_by_the_middleware_alone() -> None:  # R36
    inner = Recorder()
    transport = httpx.ASGITransport(Hardening(inner, make_settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.internal") as client:
        response = await client.get(HANDSHAKE, headers={"Origin": EVIL})
    assert response.status_code == 403
    assert not inner.called
