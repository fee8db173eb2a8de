"""Staff and client sessions on the web side (R34-R36): the session cookie, sign-in and
sign-out, the page decorators that require a session, and the reader's language.

The session itself is a database record (portal_ui.sessions); SessionGate, a middleware,
checks it when a page is opened, and every service the page calls later checks it again
(web.runtime.Guard). NiceGUI's own per-browser storage keeps
nothing that decides who may do what: only the language and the last account viewed.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from babel.core import negotiate_locale
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from nicegui import app, context, ui
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.routing import compile_path

from portal_ui import sessions as server_sessions
from portal_ui.db import session_scope
from portal_ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, set_language_resolver
from web import runtime

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


def visitor_language(request: Request) -> str:
    """R31a, for a page that knows nobody yet (sign-in, reset, a broken link): the language
    this browser chose before, else the best of the browser's own (Accept-Language, q-values
    and all), else the firm's."""
    stored = stored_language()
    if stored:
        return stored
    preferred = _accepted_languages(request.headers.get("accept-language", ""))
    found = negotiate_locale(preferred, list(LANGUAGES), sep="-")
    return found or _firm_language()


def _accepted_languages(header: str) -> list[str]:
    """An Accept-Language header's tags, most wanted first (RFC 9110: q=0 means not wanted)."""
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        if tag.strip() and weight > 0:
            ranked.append((-weight, position, tag.strip()))
    return [tag for _weight, _position, tag in sorted(ranked)]


COOKIE = "portal_session"
BEGIN_PATH = "/session/begin"
STAFF_HOME, STAFF_SIGN_IN = "/clients/accounts", "/login"
CLIENT_HOME, CLIENT_SIGN_IN = "/portal", "/portal/login"


def _firm_language() -> str:
    return runtime.settings().firm_language


def _idle() -> timedelta:
    return timedelta(hours=runtime.settings().session_idle_hours)


async def signed_in(request: Request) -> server_sessions.Principal | None:
    """Who this browser's session cookie signs in, checked in the database (R34)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return await runtime.call(server_sessions.current, token, _idle())


def _principal() -> server_sessions.Principal | None:
    """The person of the page in context, as SessionGate found it when the page was opened."""
    request = runtime.page_request()
    return getattr(request.state, "principal", None) if request is not None else None


def staff_member_id() -> int | None:
    """The team member of the page in context (set when the page was opened)."""
    principal = _principal()
    return principal.member_id if principal else None


def portal_user_id() -> int | None:
    """The portal user of the page in context (set when the page was opened)."""
    principal = _principal()
    return principal.portal_user_id if principal else None


async def sign_in(
    next_path: str, *, member_id: int | None = None, portal_user_id: int | None = None
) -> None:
    """Start a new session for this person (R34) and take the browser to `next_path` (R35)
    through /session/begin, which gives it the session's new cookie."""
    grant = await runtime.call(
        server_sessions.grant, member_id=member_id, portal_user_id=portal_user_id
    )
    home = STAFF_HOME if member_id is not None else CLIENT_HOME
    target = quote(safe_next(next_path, home), safe="")
    ui.navigate.to(f"{BEGIN_PATH}?grant={grant}&next={target}")


async def sign_out(then: str) -> None:
    """End every session of the signed-in person (R34), everywhere, and go to `then`."""
    principal = _principal()
    if principal is not None:
        await runtime.call(
            server_sessions.end_person,
            member_id=principal.member_id,
            portal_user_id=principal.portal_user_id,
        )
    with contextlib.suppress(RuntimeError, AssertionError):
        app.storage.user.pop("portal_account", None)
    ui.navigate.to(then)


def begin_session(grant: str = "", next: str = "") -> RedirectResponse:
    """Exchange a sign-in's single-use grant for the session cookie (HttpOnly, SameSite=Lax,
    Secure over https: R36), then go on to the page first asked for (R35). A plain (sync)
    route: Starlette runs it in a worker thread. Registered at BEGIN_PATH by portal_ui.app."""
    target = safe_next(next, STAFF_HOME)
    settings = runtime.settings()
    with session_scope(runtime.current().engine) as session:
        token = server_sessions.begin(session, grant)
    if token is None:
        sign_in_page = CLIENT_SIGN_IN if target.startswith("/portal") else STAFF_SIGN_IN
        return RedirectResponse(f"{sign_in_page}?next={quote(target, safe='')}", 303)
    response = RedirectResponse(target, 303)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )
    return response


# What a browser ignores in a URL wherever it stands (the WHATWG URL standard): tab, LF, CR.
_IGNORED = str.maketrans("", "", "\t\n\r")
# ... and what it strips from both ends: C0 controls and space.
_C0_OR_SPACE = "".join(chr(code) for code in range(0x21))


def safe_next(target: str | None, default: str) -> str:
    """R35: `target` when it is a path of this site read the way a browser reads it, else
    `default`. Tabs and line breaks are dropped first (a tab between two slashes makes `//evil`
    to a browser);
    then no scheme, no host, no `//` and no backslash (which browsers read as `/`)."""
    if not target:
        return default
    cleaned = target.translate(_IGNORED).strip(_C0_OR_SPACE)
    if not cleaned.startswith("/") or cleaned.startswith("//") or "\\" in cleaned:
        return default
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in cleaned):
        return default
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return default
    return cleaned


def _requested(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


# The pages that need a session, as (path pattern, whose session, sign-in page): each page
# declares itself with staff_page or client_page; SessionGate enforces it on every request.
_GATED: dict[str, tuple[re.Pattern[str], str, str]] = {}


class SessionGate(BaseHTTPMiddleware):
    """R34: a team page without a live staff session, or a portal page without a live client
    session, redirects to its sign-in page (then back, R35). For the pages it lets through it
    leaves the session's person and a runtime.Guard on the request, where the page and every
    service call it makes later find them (web.runtime)."""

    async def dispatch(self, request: Request, call_next: Callable) -> Response:
        gate = next((g for g in _GATED.values() if g[0].match(request.url.path)), None)
        if gate is None:
            return await call_next(request)
        _pattern, person, sign_in_page = gate
        principal = await signed_in(request)
        if principal is None or getattr(principal, person) is None:
            back = f"next={quote(_requested(request), safe='')}"
            if principal is None and COOKIE in request.cookies:
                return RedirectResponse(f"{sign_in_page}?reason=signed-out&{back}")
            return RedirectResponse(f"{sign_in_page}?{back}")
        request.state.principal = principal
        request.state.guard = runtime.Guard(
            token=request.cookies[COOKIE], sign_in=f"{sign_in_page}?reason=signed-out"
        )
        return await call_next(request)


def _gated(path: str, person: str, sign_in_page: str, **page_kwargs: Any) -> Callable:
    pattern, _format, _converters = compile_path(path)
    _GATED[path] = (pattern, person, sign_in_page)

    def decorator(build: Callable) -> Callable:
        @functools.wraps(build)  # NiceGUI reads the path parameters from build's signature
        async def page(*args: Any, **kwargs: Any) -> Any:
            principal = _principal()
            # R31a: a person's pages speak the person's language, a client's by default the firm's.
            set_language((principal.language if principal else None) or _firm_language())
            result = build(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return ui.page(path, **page_kwargs)(page)

    return decorator


def staff_page(path: str, **page_kwargs: Any) -> Callable:
    """A team page: without a staff session it redirects to /login, then back here."""
    return _gated(path, "member_id", STAFF_SIGN_IN, **page_kwargs)


def client_page(path: str, **page_kwargs: Any) -> Callable:
    """A portal page: without a client session it redirects to /portal/login, then back here."""
    return _gated(path, "portal_user_id", CLIENT_SIGN_IN, **page_kwargs)
