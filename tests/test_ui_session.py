"""The session as pages see it: re-checked at every run and at every refresh of a live part,
and residents' text kept out of Markdown.

A refresh of a `run_every` fragment never runs app.py; AppTest never ticks one either. So the
refresh is covered twice here: every fragment in pages/ and gridcore/ui goes through
`session.live` (checked on the source), and `live` re-checks and hands over the fresh actor
(checked by calling it); the check itself is tests/test_services_access_sessions.py's subject,
and tests/browser/test_sessions.py watches a real refresh sign a tab out.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from apptest_support import no_exception, signed_in
from sqlmodel import Session, col, delete, select

from gridcore.access import SYSTEM, Actor
from gridcore.db import make_engine
from gridcore.i18n import t
from gridcore.models import User, UserGrid, UserRole, UserSession
from gridcore.services.access import set_password
from gridcore.ui import forms, session

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- fragments


def _fragment_offenders(source: str, where: str) -> list[str]:
    """Functions decorated with st.fragment (directly) rather than session.live."""
    offenders = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if ast.unparse(target) in ("st.fragment", "fragment", "streamlit.fragment"):
                offenders.append(f"{where}: {node.name}")
    return offenders


def test_the_fragment_scan_finds_a_bare_fragment() -> None:
    bare = "@st.fragment(run_every=30)\ndef _live(lang):\n    pass\n"
    assert _fragment_offenders(bare, "x.py") == ["x.py: _live"]
    assert _fragment_offenders(bare.replace("st.fragment", "session.live"), "x.py") == []


def test_every_self_refreshing_part_re_checks_the_session() -> None:
    """Use `@session.live()` (gridcore/ui/session.py), never `@st.fragment` directly."""
    files = sorted((ROOT / "pages").glob("*.py")) + sorted((ROOT / "gridcore/ui").glob("*.py"))
    offenders = [
        found
        for path in files
        if path.name != "session.py"
        for found in _fragment_offenders(path.read_text(encoding="utf-8"), path.name)
    ]
    assert offenders == []
    uses = sum(p.read_text(encoding="utf-8").count("@session.live(") for p in files)
    assert uses >= 6  # overview, map, grid detail, testing, roll call, kiosk


def test_a_live_part_re_checks_and_gets_the_actor_just_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stale = Actor(username="wang", role=UserRole.grid_worker, grid_ids=frozenset({1, 2}))
    fresh = Actor(username="wang", role=UserRole.grid_worker, grid_ids=frozenset({1}))
    checks: list[int] = []

    def require_actor() -> Actor:
        checks.append(1)
        return fresh

    monkeypatch.setattr(session, "require_actor", require_actor)
    monkeypatch.setattr(session.st, "fragment", lambda **_: lambda fn: fn)
    seen: list[Any] = []

    @session.live(run_every=5)
    def part(lang: str, actor: Actor, *, other: Actor) -> None:
        seen.extend([lang, actor, other])

    part("en", stale, other=stale)
    part("en", stale, other=stale)
    assert checks == [1, 1]
    assert seen == ["en", fresh, fresh, "en", fresh, fresh]


# --------------------------------------------------------------------------- the next run


def _signed_out_with_notice(at: Any) -> None:
    no_exception(at, "the next run")
    at.text_input(key="signin_username")  # the sign-in form (KeyError otherwise)
    assert t("security.session_ended", "en") in [i.value for i in at.info]
    assert "actor" not in at.session_state


def test_a_new_password_signs_an_open_page_out_at_its_next_run(tiny_app: str) -> None:
    at = signed_in("worker", "en")
    at.switch_page("pages/roll_call.py").run()
    no_exception(at, "roll call")
    engine = make_engine(tiny_app)
    with Session(engine) as s:
        set_password(s, username="worker", password="a-new-password", actor=SYSTEM)
    engine.dispose()
    at.run()
    _signed_out_with_notice(at)


def test_a_deactivated_account_is_signed_out_and_a_removed_grid_applies_at_the_next_run(
    tiny_app: str,
) -> None:
    at = signed_in("worker", "en")
    before = at.session_state["actor"].grid_ids
    assert before
    engine = make_engine(tiny_app)
    with Session(engine) as s:
        s.exec(delete(UserGrid).where(col(UserGrid.grid_id) == min(before)))  # type: ignore[call-overload]
        s.commit()
    at.run()
    assert at.session_state["actor"].grid_ids == before - {min(before)}
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == "worker")).one()
        user.active = False
        s.add(user)
        s.commit()
    engine.dispose()
    at.run()
    _signed_out_with_notice(at)


def test_signing_out_shows_the_form_and_ends_the_session(tiny_app: str) -> None:
    at = signed_in("leader", "en")
    session_id = at.session_state[session.SESSION_KEY]
    at.button(key="sign_out").click().run()
    no_exception(at, "sign-out")
    at.text_input(key="signin_username")
    engine = make_engine(tiny_app)
    with Session(engine) as s:
        row = s.get(UserSession, session_id)
        assert row is not None and row.end_reason == "sign_out"
    engine.dispose()


# --------------------------------------------------------------------------- text and tables


HOSTILE = ("![t](http://127.0.0.1:9/x.png)", "**bold**", "[link](javascript:alert(1))", ":red[x]")


@pytest.mark.parametrize("name", HOSTILE)
def test_markdown_in_user_text_is_escaped_character_by_character(name: str) -> None:
    escaped = forms.markdown_text(name)
    # Removing the escapes gives the text back; no special character is left unescaped.
    assert re.sub(r"\\(.)", r"\1", escaped) == name
    bare = re.sub(r"\\.", "", escaped)
    assert not set(bare) & set("![]()*_`:<>#~|$")


def test_markdown_text_keeps_plain_words_and_flattens_lines() -> None:
    assert forms.markdown_text("沈秀英") == "沈秀英"
    assert forms.markdown_text(None) == ""
    assert forms.markdown_text("a\n# b") == "a \\# b"


def test_the_built_in_table_download_is_off_for_the_whole_app() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True


class _State(dict):
    def to_dict(self) -> dict[str, Any]:
        return dict(self)


def test_a_tap_inside_a_live_part_is_activity_a_timer_tick_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = _State(lang="en", rc_building="B1", rc_s_7=False, _private=1)
    monkeypatch.setattr(session.st, "session_state", state)
    assert not session._widgets_changed()  # the first check only takes the fingerprint
    assert not session._widgets_changed()  # a refresh: nothing changed
    state["rc_s_7"] = True  # the "Sampled" button of resident 7, tapped
    assert session._widgets_changed()
    state["_private"] = 2  # the app's own bookkeeping is not the user
    assert not session._widgets_changed()
    state["rc_building"] = "B2"
    assert session._widgets_changed()
