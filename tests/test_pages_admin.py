"""The Administration page, run headless with AppTest on a copy of the tiny world.

The tiny world has the four demo accounts (admin, leader, worker, viewer). To keep these
tests quick, the page is opened with a session made by the sign-in service instead of a
run of the sign-in form and the landing page (test_pages_apptest signs in through the form,
and runs this page in both languages for every role).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import pytest
from apptest_support import APP_SECRET, app, no_exception
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from gridcore.access import offers_page
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD
from gridcore.i18n import t
from gridcore.models import AuditEntry, KioskLink, PolicySetting, User, UserSession
from gridcore.policy import Policy
from gridcore.services.access import sign_in, verify_kiosk_token
from gridcore.ui.admin import qr_svg
from gridcore.ui.session import SESSION_KEY

PAGE = "pages/admin.py"


@dataclass(frozen=True)
class World:
    engine: Engine

    def count(self, model: type, *where: object) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(model).where(*where)).one())

    def session_of(self, username: str, password: str = DEMO_PASSWORD) -> int:
        with Session(self.engine) as s:
            return sign_in(s, username=username, password=password, client_address=None).session_id


@pytest.fixture
def world(tiny_app: str) -> Iterator[World]:
    engine = make_engine(tiny_app)
    yield World(engine)
    engine.dispose()


def _open(world: World, username: str = "admin", lang: str = "en") -> AppTest:
    """The page as `username` sees it, through the app's navigation."""
    at = app(lang)
    at.session_state[SESSION_KEY] = world.session_of(username)
    at.switch_page(PAGE).run()
    no_exception(at, f"{PAGE} as {username}")
    return at


def _table(at: AppTest, header_key: str):  # type: ignore[no-untyped-def]
    """The table whose columns include the header of `header_key` (English)."""
    header = t(header_key, "en")
    return next(d.value for d in at.dataframe if header in d.value.columns)


def _form_button(at: AppTest, label_key: str):  # type: ignore[no-untyped-def]
    label = t(label_key, "en")
    return next(b for b in [*at.button, *at.form_submit_button] if b.label == label)


# --------------------------------------------------------------------------- who may


def test_an_administrator_sees_every_tab(world: World) -> None:
    assert offers_page("admin", "admin")
    at = _open(world)
    assert at.title[0].value == t("page.admin", "en")
    labels = [tab.label for tab in at.tabs]
    for name in ("users", "policy", "kiosk", "audit"):
        assert t(f"admin.tab_{name}", "en") in labels
    users = _table(at, "admin.col_last_sign_in")
    assert list(users[t("admin.col_username", "en")]) == ["admin", "leader", "viewer", "worker"]
    assert list(users[t("admin.col_grids", "en")]) == ["all", "all", "all", "T-C1-G1"]
    # Only the admin has signed in (this test's session).
    assert (users[t("admin.col_last_sign_in", "en")] == "never").tolist() == [
        False, True, True, True,
    ]  # fmt: skip
    policy = _table(at, "admin.col_range")
    assert len(policy) == len(fields(Policy))  # every setting, with a label of its own
    assert not policy[t("admin.col_setting", "en")].str.startswith("admin.").any()
    hours = policy[policy[t("admin.col_setting", "en")] == t("admin.policy.round_max_hours")]
    assert hours[t("admin.col_range", "en")].tolist() == ["1–168 hours"]
    assert any(i.value == t("admin.no_links", "en") for i in at.info)
    audit = _table(at, "admin.col_changes")
    assert audit[t("admin.col_action", "en")].iloc[0] == "sign in"


def test_a_leader_is_refused_at_its_address(world: World) -> None:
    # Declared hidden for other roles (app.py, access.offers_page): not in their navigation,
    # and its address shows the page's own refusal, in the reader's language, and nothing else.
    at = _open(world, "leader", lang="zh")
    assert [e.value for e in at.error] == [t("admin.refused", "zh")]
    assert len(at.title) == 0 and len(at.dataframe) == 0 and len(at.get("form")) == 0
    assert len(at.tabs) == 0


# --------------------------------------------------------------------------- users


def test_an_account_is_added_and_deactivated_which_ends_its_sessions(world: World) -> None:
    at = _open(world)
    at.text_input(key="adm_u_0").input("nurse")
    at.selectbox(key="adm_role_0").set_value("grid_worker")
    at.multiselect(key="adm_grids_0").set_value(["T-C1-G2"])
    at.text_input(key="adm_pw_0").input("nurse-password")
    at.text_input(key="adm_pw2_0").input("nurse-password")
    _form_button(at, "admin.f_add_user").click().run()
    no_exception(at, "adding an account")
    assert world.count(User, User.username == "nurse", User.role == "grid_worker") == 1
    users = _table(at, "admin.col_last_sign_in")
    assert "nurse" in users[t("admin.col_username", "en")].tolist()
    nurse_session = world.session_of("nurse", "nurse-password")
    at.selectbox(key="adm_edit_user").set_value("nurse").run()
    _form_button(at, "admin.deactivate").click().run()
    no_exception(at, "deactivating")
    assert world.count(User, User.username == "nurse", col(User.active).is_(False)) == 1
    assert world.count(UserSession, UserSession.id == nurse_session,
                       UserSession.end_reason == "inactive") == 1  # fmt: skip
    assert any(t("admin.deactivated", "en", user="nurse") in s.value for s in at.success)


# --------------------------------------------------------------------------- policy


def test_a_policy_value_out_of_range_is_refused_and_nothing_is_written(world: World) -> None:
    at = _open(world)
    before, stored = world.count(AuditEntry), world.count(PolicySetting)
    policy_audits = world.count(AuditEntry, AuditEntry.entity == "policy")
    at.number_input(key="adm_pol_round_max_hours_0").set_value(500)
    at.number_input(key="adm_pol_sealed_stepdown_days_0").set_value(10)
    _form_button(at, "admin.f_save_policy").click().run()
    no_exception(at, "an out-of-range policy value")
    errors = [e.value for e in at.error]
    assert t("admin.fix_below", "en") in errors
    assert f"{t('services.error.policy_out_of_range', 'en')} Allowed: 1–168 hours." in errors, (
        errors
    )
    assert world.count(PolicySetting) == stored
    assert world.count(AuditEntry) == before
    # Corrected: saved, audited, and in force at once on the page's own table.
    at.number_input(key="adm_pol_round_max_hours_0").set_value(36)
    _form_button(at, "admin.f_save_policy").click().run()
    no_exception(at, "a policy change")
    assert world.count(AuditEntry) == before + 2
    assert world.count(AuditEntry, AuditEntry.entity == "policy") == policy_audits + 2
    policy = _table(at, "admin.col_range")
    row = policy[policy[t("admin.col_setting", "en")] == t("admin.policy.round_max_hours")]
    assert row[t("admin.col_value", "en")].tolist() == ["36"]
    assert row[t("admin.col_changed_by", "en")].tolist() == ["admin"]


# --------------------------------------------------------------------------- kiosk links


def test_a_kiosk_link_is_made_shown_once_with_its_code_and_revoked(world: World) -> None:
    at = _open(world)
    at.number_input(key="adm_k_hours").set_value(6.0)
    at.text_input(key="adm_k_label").input("Command room")
    at.number_input(key="adm_k_interval").set_value(8)
    at.multiselect(key="adm_k_panels").set_value(["supplies", "cases"])
    _form_button(at, "admin.f_create_link").click().run()
    no_exception(at, "creating a kiosk link")
    assert world.count(KioskLink) == 1
    url = at.code[0].value
    assert url.startswith("http://localhost:8501/?kiosk=1&token=")
    token = url.split("token=")[1]
    with Session(world.engine) as s:
        assert verify_kiosk_token(s, token=token, secret=APP_SECRET)
        link = s.exec(select(KioskLink)).one()
    assert (link.label, link.interval_seconds, link.panels) == ("Command room", 8, "cases,supplies")
    # The QR code: GridCore's own SVG, shown as an image, encoding exactly that address.
    images = at.get("image")
    assert len(images) == 1
    svg = base64.b64decode(images[0].proto.imgs[0].url.split(",", 1)[1]).decode()
    assert svg == qr_svg(url)
    links = _table(at, "admin.col_expires")
    assert links[t("admin.col_state", "en")].tolist() == ["active"]
    assert links[t("admin.col_interval", "en")].tolist() == [8]
    assert links[t("admin.col_panels", "en")].tolist() == ["Cases & zones, Supplies"]
    assert token not in links.to_string()
    _form_button(at, "admin.revoke").click().run()
    no_exception(at, "revoking")
    with Session(world.engine) as s:
        assert not verify_kiosk_token(s, token=token, secret=APP_SECRET)
    assert _table(at, "admin.col_expires")[t("admin.col_state", "en")].tolist() == ["revoked"]
    assert len(at.code) == 0  # the revoked link's address is no longer shown
    assert world.count(AuditEntry, AuditEntry.entity == "kiosk_link") == 2


# --------------------------------------------------------------------------- audit log


def test_the_audit_log_filters_by_who_what_subject_and_day(world: World) -> None:
    shanghai_noon = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
    with Session(world.engine) as s:
        for user, action, entity, day in (
            ("ann", "create", "case", 10),
            ("ann", "update", "case", 10),
            ("ann", "create", "task", 11),
            ("ben", "create", "case", 10),
            ("ann", "create", "case", 12),
        ):
            s.add(AuditEntry(username=user, action=action, entity=entity, entity_id="7",
                             at=shanghai_noon.replace(day=day),
                             changes=json.dumps({"note": f"{user}-{day}"})))  # fmt: skip
        s.commit()
    at = _open(world)
    at.selectbox(key="adm_a_who").set_value("ann")
    at.selectbox(key="adm_a_action").set_value("create")
    at.selectbox(key="adm_a_entity").set_value("case")
    at.date_input(key="adm_a_from").set_value(datetime(2026, 3, 10).date())
    at.date_input(key="adm_a_to").set_value(datetime(2026, 3, 11).date())
    at.run()
    no_exception(at, "filtering the audit log")
    audit = _table(at, "admin.col_changes")
    assert audit[t("admin.col_changes", "en")].tolist() == ['{"note": "ann-10"}']
    count = t("admin.audit_count", "en", total=1, page=1, pages=1, first=1, last=1)
    assert count in [c.value for c in at.caption]
