"""The session cookie's two web routes, served beside Streamlit by server.py.

A page script cannot make an HttpOnly cookie and Streamlit's `st.context.cookies` is
read-only, so the cookie is set by a response of this server: after a sign-in the page posts
its one-time ticket to CLAIM_PATH, whose response carries the signed session token in an
HttpOnly, SameSite=Strict cookie; CLEAR_PATH's response removes it after a sign-out.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.services.access import cookie_for_ticket

COOKIE_NAME = "gridcore_session"
CLAIM_PATH = "/api/session/claim"
CLEAR_PATH = "/api/session/clear"
# A ticket is a few dozen characters: anything longer is refused unread.
_MAX_BODY = 200


@cache
def _engine(url: str) -> Engine:
    return make_engine(url)


def _cookie_for(ticket: str) -> str | None:
    settings = get_settings()
    with Session(_engine(settings.database_url), expire_on_commit=False) as session:
        return cookie_for_ticket(session, ticket=ticket, secret=settings.secret_key)


async def claim(request: Request) -> Response:
    """Exchange a one-time ticket for the session cookie (403 for a used or unknown ticket).

    Only the app's own pages may ask: a request another site makes the browser send (to sign
    the victim in as the attacker) carries Sec-Fetch-Site other than same-origin.
    """
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return Response(status_code=403)
    body = await request.body()
    if len(body) > _MAX_BODY:
        return Response(status_code=413)
    cookie = await run_in_threadpool(_cookie_for, body.decode("utf-8", "replace").strip())
    if cookie is None:
        return Response(status_code=403)
    settings = get_settings()
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=settings.session_max_minutes * 60,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookie,
    )
    return response


async def clear(request: Request) -> Response:
    """Remove the session cookie (the session itself was ended on the server already)."""
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=get_settings().secure_cookie
    )
    return response


def routes() -> list[Route]:
    """The routes server.py adds to Streamlit's own."""
    return [
        Route(CLAIM_PATH, claim, methods=["POST"]),
        Route(CLEAR_PATH, clear, methods=["POST"]),
    ]
