"""The product's own pages for a URL that names nothing (404) and for a failure (500): the
firm's frame, a sentence in the reader's language and a way on, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import Request, Response
from fastapi.exception_handlers import http_exception_handler
from nicegui import Client, app, ui
from nicegui.page import page
from starlette.exceptions import HTTPException

from components.frame import heading
from components.public_card import public_card
from portal_ui.i18n import N_, _
from web import runtime, sessions

log = logging.getLogger("portal_ui")

NOT_FOUND = (
    N_("Page not found"),
    N_("This page does not exist. The link may be mistyped, or what it showed was deleted."),
)
FAILED = (
    N_("Something went wrong"),
    N_("The page could not be shown. Try again in a moment; nothing you did was lost."),
)


def install() -> None:
    """Answer 404 and unexpected errors of pages with our pages (NiceGUI's documented
    exception handlers; the last one registered for a status wins)."""
    app.exception_handler(404)(_not_found)
    app.exception_handler(Exception)(_failed)


async def _not_found(request: Request, exception: Exception) -> Response:
    if request.url.path.startswith("/_nicegui") or (
        isinstance(exception, HTTPException) and request.scope.get("endpoint") is not None
    ):
        # A framework file or an API answer: a plain 404, not a page.
        return await http_exception_handler(request, exception)  # type: ignore[arg-type]
    return _page(request, NOT_FOUND, 404)


async def _failed(request: Request, exception: Exception) -> Response:
    log.exception("error while answering %s", request.url.path, exc_info=exception)
    return _page(request, FAILED, 500)


def _page(request: Request, texts: tuple[str, str], status: int) -> Response:
    title, explanation = texts
    with Client(page(""), request=request) as client:
        sessions.set_language(sessions.visitor_language(request))
        ui.page_title(_(title))
        with public_card(runtime.settings().firm_name):
            heading(_(title))
            ui.label(_(explanation)).classes("text-gray-800").mark("error-page")
            ui.link(_("Go to the home page"), "/").classes("text-blue-800 font-medium")
    return client.build_response(request, status)
