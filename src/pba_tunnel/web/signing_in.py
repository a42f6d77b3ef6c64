"""Signing in off loopback: the server's token once in a form, then an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .context import page, read_form, web
from .security import SESSION_COOKIE, WebGuard
from .viewers import SESSION_SECONDS

FAILED_SIGN_IN_DELAY = 0.5  # seconds; slows down guessing


def _guard(request: Request) -> WebGuard:
    guard: WebGuard = request.scope["state"]["guard"]
    return guard


async def login_view(request: Request) -> Response:
    """``GET /login``: the sign-in form (or the library when no token is needed)."""
    if not await _guard(request).access.required():
        return RedirectResponse("/", status_code=303)
    return page(request, "login.html", loopback=web(request).loopback)


async def login(request: Request) -> Response:
    """``POST /login``: a correct token starts a session; a wrong one shows the form again."""
    guard = _guard(request)
    form = await read_form(request)
    if not await guard.access.required():
        return RedirectResponse("/", status_code=303)
    sent = str(form.get("token", "")).strip()
    if not sent or await guard.access.verify(sent) is None:
        await anyio.sleep(FAILED_SIGN_IN_DELAY)
        why = await guard.access.refusal(sent) if sent else None
        return page(request, "login.html", status=401, failed=True, refusal=why, loopback=web(request).loopback)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sent,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


async def logout(request: Request) -> Response:
    """``POST /logout``: end this browser's session."""
    await read_form(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
