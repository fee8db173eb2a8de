"""HEAD answered like GET (RFC 9110, 9.3.2): link checkers and mail scanners send HEAD to the
links in an email; NiceGUI's pages answer GET only. The GET it becomes changes nothing (R15:
opening a link never consumes it); the body is dropped, the headers kept."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """A pure ASGI middleware: a HEAD request goes through as GET, its answer without body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
