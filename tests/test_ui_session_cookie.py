"""The session cookie's routes: a ticket is exchanged once for an HttpOnly cookie."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from gridcore.access import SYSTEM
from gridcore.config import get_settings
from gridcore.services.access import create_user, session_for_cookie, sign_in
from gridcore.ui import session_cookie

SECRET = "unit-test-cookie-secret"


class Client:
    """Posts to the routes' handlers as the server would call them."""

    def post(self, path: str, content: str = "", headers: dict[str, str] | None = None) -> Response:
        handlers: dict[str, Callable[[Request], Awaitable[Response]]] = {
            session_cookie.CLAIM_PATH: session_cookie.claim,
            session_cookie.CLEAR_PATH: session_cookie.clear,
        }
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        }

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": content.encode(), "more_body": False}

        # A fresh thread: asyncio.run needs a thread with no event loop running (a browser
        # test's Playwright may hold one in this process).
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, handlers[path](Request(scope, receive))).result()


@pytest.fixture
def client(engine: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("GRIDCORE_SECRET_KEY", SECRET)
    monkeypatch.setattr(session_cookie, "_engine", lambda url: engine)
    get_settings.cache_clear()
    yield Client()
    get_settings.cache_clear()


def _ticket(engine: object) -> tuple[int, str]:
    with Session(engine, expire_on_commit=False) as s:  # type: ignore[arg-type]
        create_user(
            s, data={"username": "alice", "role": "leader", "password": "pass-word"}, actor=SYSTEM
        )
        signed = sign_in(s, username="alice", password="pass-word", client_address=None)
    return signed.session_id, signed.ticket


def test_a_ticket_is_exchanged_once_for_an_http_only_cookie(client: Client, engine: object) -> None:
    session_id, ticket = _ticket(engine)
    answer = client.post(session_cookie.CLAIM_PATH, content=ticket)
    assert answer.status_code == 204
    header = answer.headers["set-cookie"]
    assert header.startswith(f"{session_cookie.COOKIE_NAME}=")
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/" in header
    cookie = header.split(";")[0].split("=", 1)[1]
    with Session(engine) as s:  # type: ignore[arg-type]
        assert session_for_cookie(s, cookie=cookie, secret=SECRET) == session_id
    assert client.post(session_cookie.CLAIM_PATH, content=ticket).status_code == 403
    assert client.post(session_cookie.CLAIM_PATH, content="x" * 500).status_code == 413


def test_another_site_cannot_make_the_browser_claim_a_ticket(
    client: Client, engine: object
) -> None:
    _, ticket = _ticket(engine)
    refused = client.post(
        session_cookie.CLAIM_PATH, content=ticket, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    # The ticket is still good for the app's own page.
    same = {"Sec-Fetch-Site": "same-origin"}
    assert client.post(session_cookie.CLAIM_PATH, content=ticket, headers=same).status_code == 204


def test_clearing_removes_the_cookie(client: Client) -> None:
    answer = client.post(session_cookie.CLEAR_PATH)
    assert answer.status_code == 204
    assert 'gridcore_session=""' in answer.headers["set-cookie"]
    assert "Max-Age=0" in answer.headers["set-cookie"]
