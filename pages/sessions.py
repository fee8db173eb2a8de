"""Staff and client sessions in `app.storage.user`, and the page decorators that require them.

NiceGUI keeps the browser id across sign-in, so signing in or out clears everything the
session held and writes it anew; each session also carries its own expiry.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, context, ui

from portal_ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, set_language_resolver

SESSION_SECONDS = 8 * 3600
# Quasar's names for our languages (the html lang attribute and Quasar's own texts).
QUASAR_LANGUAGES = {"en": "en-US", "fr": "fr", "es": "es", "it": "it"}


def _storage() -> dict | None:
    try:
        return app.storage.user
    except (RuntimeError, AssertionError):
        return None


def stored_language() -> str | None:
    storage = _storage()
    return storage.get("language") if storage is not None else None


set_language_resolver(stored_language)


def set_language(language: str) -> None:
    """The reader's language for this browser, and the page's `lang` attribute."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    storage = _storage()
    if storage is not None:
        storage["language"] = language
    _set_page_language(language)


def _set_page_language(language: str) -> None:
    # A page object is shared by every browser; give this client its own copy with its language.
    client = context.client
    page = object.__new__(type(client.page))
    page.__dict__.update(client.page.__dict__)
    page.language = QUASAR_LANGUAGES[language]
    client.page = page


def language_from_request(request: Request) -> str:
    """The best of our languages for a visitor without a session (Accept-Language)."""
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def start_session(**values: Any) -> None:
    """Sign in: forget whatever the browser's session held, then hold these values."""
    storage = app.storage.user
    language = storage.get("language")
    storage.clear()
    storage.update(values, expires_at=time.time() + SESSION_SECONDS)
    if language and "language" not in values:
        storage["language"] = language


def end_session() -> None:
    language = app.storage.user.get("language")
    app.storage.user.clear()
    if language:
        app.storage.user["language"] = language


def _alive(key: str) -> Any:
    storage = _storage()
    if storage is None or key not in storage:
        return None
    if storage.get("expires_at", 0) < time.time():
        storage.clear()
        return None
    storage["expires_at"] = time.time() + SESSION_SECONDS  # idle expiry slides with use
    return storage[key]


def staff_member_id() -> int | None:
    return _alive("member_id")


def portal_user_id() -> int | None:
    return _alive("portal_user_id")


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site (never //host or a scheme) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _requested(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _guarded(path: str, who: Callable[[], Any], sign_in: str, **page_kwargs: Any) -> Callable:
    def decorator(build: Callable) -> Callable:
        signature = inspect.signature(build)
        wants_request = "request" in signature.parameters

        async def page(request: Request, **kwargs: Any) -> Any:
            if who() is None:
                return RedirectResponse(f"{sign_in}?next={quote(_requested(request), safe='')}")
            _set_page_language(stored_language() or DEFAULT_LANGUAGE)
            if wants_request:
                kwargs["request"] = request
            result = build(**kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        # NiceGUI reads the path parameters from the signature: the builder's, plus the request.
        parameters = [p for p in signature.parameters.values() if p.name != "request"]
        request_parameter = inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
        )
        page.__signature__ = signature.replace(parameters=[request_parameter, *parameters])
        page.__name__ = build.__name__
        # NiceGUI's test reset forgets the modules of registered pages, so that the next build
        # imports them again and re-registers their routes: name the builder's module, not ours.
        page.__module__ = build.__module__
        return ui.page(path, **page_kwargs)(page)

    return decorator


def staff_page(path: str, **page_kwargs: Any) -> Callable:
    """A team page: without a staff session it redirects to /login, then back here."""
    return _guarded(path, staff_member_id, "/login", **page_kwargs)


def client_page(path: str, **page_kwargs: Any) -> Callable:
    """A portal page: without a client session it redirects to /portal/login, then back here."""
    return _guarded(path, portal_user_id, "/portal/login", **page_kwargs)
