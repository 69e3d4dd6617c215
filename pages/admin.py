"""Administration: accounts, policy settings, kiosk links and the audit log.

Administrators only: other roles are not offered the page, and are refused should they
open its address. Every write goes through the services (audited there).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from gridcore.access import Actor, PermissionDenied, offers_page
from gridcore.config import get_settings
from gridcore.i18n import enum_label, fmt_int, t
from gridcore.models import KIOSK_INTERVAL_RANGE, KIOSK_PANELS, UserRole
from gridcore.queries import access as access_queries
from gridcore.queries import areas
from gridcore.queries import audit as audit_queries
from gridcore.queries import policy as policy_queries
from gridcore.queries.access import KioskLinkState
from gridcore.services.access import (
    create_kiosk_link,
    create_user,
    revoke_kiosk_link,
    set_password,
    set_user_active,
    update_user,
)
from gridcore.services.base import ValidationFailed
from gridcore.services.policy import set_policy_values
from gridcore.ui import admin as av
from gridcore.ui import data, forms, session, views

URL_PATH = "admin"  # as app.py declares the page
FLASH = "adm_flash"
KIOSK_NEW = "adm_kiosk_new"
AUDIT_PAGE_SIZES = (50, 200, 1000)


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    if not offers_page(actor.role, URL_PATH):
        st.error(t("admin.refused", lang))
        st.stop()
    st.html(av.ADMIN_CSS)
    st.title(t("page.admin", lang))
    st.caption(t("admin.subtitle", lang))
    users, policy, kiosk, audit = st.tabs(
        [t(f"admin.tab_{name}", lang) for name in ("users", "policy", "kiosk", "audit")]
    )
    with users:
        _users_list(lang, actor)
        _users_forms(lang, actor)
    with policy:
        _policy_list(lang, actor)
        _policy_form(lang, actor)
    with kiosk:
        _kiosk_form(lang, actor)
        _kiosk_list(lang, actor)
    with audit:
        _audit(lang, actor)


def _still_admin(actor: Actor, lang: str) -> bool:
    """A part of the page re-checked its session: the role may have changed since."""
    if offers_page(actor.role, URL_PATH):
        return True
    st.error(t("admin.refused", lang))
    return False


def _flash(tab: str) -> None:
    message = st.session_state.pop(f"{FLASH}_{tab}", None)
    if message:
        st.success(message)  # its user text was escaped when it was made (see _done)


def _done(tab: str, message: str) -> None:
    """After a write: say what it did at the next run, and show it everywhere at once.

    `message` is Markdown: any user text in it must have gone through forms.markdown_text.
    """
    data.invalidate()
    st.session_state[f"{FLASH}_{tab}"] = message
    st.rerun()


def _show_errors(
    lang: str, top: Any, slots: dict[str, Any], exc: ValidationFailed, extra: dict[str, str]
) -> None:
    top.error(t("admin.fix_below", lang))
    for name, slot in slots.items():
        message = forms.error_text(exc.errors, name, lang)
        if message:
            gap = "" if lang == "zh" else " "
            slot.error(gap.join(filter(None, (message, extra.get(name)))))
    rest = forms.other_errors(exc.errors, tuple(slots))
    if rest:
        top.error(" ".join(t(m, lang) for m in rest.values()))


# --------------------------------------------------------------------------- users


@session.live()
def _users_list(lang: str, actor: Actor) -> None:
    if not _still_admin(actor, lang):
        return
    users = data.cached(access_queries.users_table)
    st.subheader(t("admin.users_title", lang))
    forms.data_table(
        av.users_table(users, lang), name=f"users-{data.today()}", lang=lang, key="adm_users"
    )


def _grid_codes(lang: str) -> dict[str, str]:
    grids = data.cached(areas.grids)
    return {
        str(code): f"{code} · {name_zh if lang == 'zh' and name_zh else name}"
        for code, name, name_zh in zip(grids["code"], grids["name"], grids["name_zh"], strict=True)
    }


@session.live(refresh=False)
def _users_forms(lang: str, actor: Actor) -> None:
    if not _still_admin(actor, lang):
        return
    _flash("users")
    grids = _grid_codes(lang)
    add, edit = st.tabs([t("admin.add_user", lang), t("admin.edit_user", lang)])
    with add:
        _add_user(lang, actor, grids)
    with edit:
        _edit_user(lang, actor, grids)


def _role_choice(lang: str, key: str, current: str | None = None) -> str:
    roles = [r.value for r in UserRole]
    return str(
        st.selectbox(
            t("admin.f_role", lang),
            roles,
            index=roles.index(current) if current in roles else roles.index(UserRole.viewer),
            format_func=lambda v: enum_label("role", v, lang),
            key=key,
        )
    )


_ADD_FIELDS = ("username", "full_name", "role", "grid_codes", "password")


def _add_user(lang: str, actor: Actor, grids: dict[str, str]) -> None:
    gen = int(st.session_state.get("adm_add_gen", 0))
    with st.form(f"adm_add_form_{gen}"):
        top = st.empty()
        left, right = st.columns(2)
        username = left.text_input(t("admin.f_username", lang), max_chars=40, key=f"adm_u_{gen}")
        full_name = right.text_input(
            t("admin.f_full_name", lang), max_chars=80, key=f"adm_fn_{gen}"
        )
        slots = {"username": left.empty(), "full_name": right.empty()}
        role = _role_choice(lang, f"adm_role_{gen}")
        slots["role"] = st.empty()
        codes = st.multiselect(
            t("admin.f_grids", lang), list(grids), format_func=grids.__getitem__,
            help=t("admin.f_grids_help", lang), key=f"adm_grids_{gen}",
            placeholder=t("widget.choose_options", lang),
        )  # fmt: skip
        slots["grid_codes"] = st.empty()
        left, right = st.columns(2)
        password = left.text_input(
            t("admin.f_password", lang), type="password", key=f"adm_pw_{gen}"
        )
        again = right.text_input(
            t("admin.f_password_again", lang), type="password", key=f"adm_pw2_{gen}"
        )
        slots["password"] = st.empty()
        submitted = st.form_submit_button(t("admin.f_add_user", lang), type="primary")
    if not submitted:
        return
    if password != again:
        top.error(t("admin.fix_below", lang))
        slots["password"].error(t("admin.passwords_differ", lang))
        return
    payload = {
        "username": username,
        "full_name": full_name.strip() or None,
        "role": role,
        "grid_codes": list(codes) if role == UserRole.grid_worker else [],
        "password": password,
    }
    try:
        with data.session() as s:
            user = create_user(s, data=payload, actor=actor)
    except ValidationFailed as exc:
        _show_errors(lang, top, slots, exc, {})
        return
    except PermissionDenied:
        top.error(t("admin.refused", lang))
        return
    st.session_state["adm_add_gen"] = gen + 1
    _done(
        "users",
        t(
            "admin.user_added",
            lang,
            user=forms.markdown_text(user.username),
            role=enum_label("role", user.role, lang),
        ),
    )


def _edit_user(lang: str, actor: Actor, grids: dict[str, str]) -> None:
    users = data.cached(access_queries.users_table)
    if users.empty:
        return
    names = list(users["username"])
    name = str(st.selectbox(t("admin.f_account", lang), names, key="adm_edit_user"))
    row = users[users["username"] == name].iloc[0]
    gen = int(st.session_state.get("adm_edit_gen", 0))
    role_tab, password_tab, active_tab = st.tabs(
        [t("admin.role_grids", lang), t("admin.new_password", lang), t("admin.activity", lang)]
    )
    with role_tab:
        with st.form("adm_role_form"):
            top = st.empty()
            role = _role_choice(lang, f"adm_edit_role_{name}_{gen}", str(row["role"]))
            slots = {"role": st.empty()}
            codes = st.multiselect(
                t("admin.f_grids", lang), list(grids),
                default=[c for c in row["grid_codes"] if c in grids],
                format_func=grids.__getitem__, help=t("admin.f_grids_help", lang),
                placeholder=t("widget.choose_options", lang),
                key=f"adm_edit_grids_{name}_{gen}",
            )  # fmt: skip
            slots["grid_codes"] = st.empty()
            submitted = st.form_submit_button(t("admin.f_save", lang), type="primary")
        if submitted:
            _save_role(lang, actor, name, role, list(codes), top, slots, gen)
    with password_tab:
        with st.form("adm_password_form", clear_on_submit=True):
            top = st.empty()
            password = st.text_input(t("admin.f_password", lang), type="password",
                                     key="adm_new_pw")  # fmt: skip
            again = st.text_input(t("admin.f_password_again", lang), type="password",
                                  key="adm_new_pw2")  # fmt: skip
            slots = {"password": st.empty()}
            st.caption(t("admin.password_ends_sessions", lang))
            submitted = st.form_submit_button(t("admin.f_set_password", lang), type="primary")
        if submitted:
            _save_password(lang, actor, name, password, again, top, slots)
    with active_tab:
        active = bool(row["active"])
        st.text(t("admin.is_active" if active else "admin.is_inactive", lang, user=name))
        st.caption(t("admin.deactivate_ends_sessions", lang))
        label = "admin.deactivate" if active else "admin.reactivate"
        if st.button(t(label, lang), key=f"adm_active_{name}_{gen}"):
            _save_active(lang, actor, name, not active)


def _save_role(
    lang: str, actor: Actor, name: str, role: str, codes: list[str], top: Any,
    slots: dict[str, Any], gen: int,
) -> None:  # fmt: skip
    try:
        with data.session() as s:
            user = update_user(
                s, username=name, role=role,
                grid_codes=codes if role == UserRole.grid_worker else [], actor=actor,
            )  # fmt: skip
    except ValidationFailed as exc:
        _show_errors(lang, top, slots, exc, {})
        return
    except PermissionDenied:
        top.error(t("admin.refused", lang))
        return
    st.session_state["adm_edit_gen"] = gen + 1
    _done(
        "users",
        t(
            "admin.user_saved",
            lang,
            user=forms.markdown_text(user.username),
            role=enum_label("role", user.role, lang),
        ),
    )


def _save_password(
    lang: str, actor: Actor, name: str, password: str, again: str, top: Any,
    slots: dict[str, Any],
) -> None:  # fmt: skip
    if password != again:
        top.error(t("admin.fix_below", lang))
        slots["password"].error(t("admin.passwords_differ", lang))
        return
    try:
        with data.session() as s:
            set_password(s, username=name, password=password, actor=actor)
    except ValidationFailed as exc:
        _show_errors(lang, top, slots, exc, {})
        return
    except PermissionDenied:
        top.error(t("admin.refused", lang))
        return
    _done("users", t("admin.password_set", lang, user=forms.markdown_text(name)))


def _save_active(lang: str, actor: Actor, name: str, active: bool) -> None:
    try:
        with data.session() as s:
            set_user_active(s, username=name, active=active, actor=actor)
    except ValidationFailed as exc:
        st.error(" ".join(t(m, lang) for m in exc.errors.values()))
        return
    except PermissionDenied:
        st.error(t("admin.refused", lang))
        return
    st.session_state["adm_edit_gen"] = int(st.session_state.get("adm_edit_gen", 0)) + 1
    _done(
        "users",
        t("admin.reactivated" if active else "admin.deactivated", lang,
          user=forms.markdown_text(name)),
    )  # fmt: skip


# --------------------------------------------------------------------------- policy


@session.live()
def _policy_list(lang: str, actor: Actor) -> None:
    if not _still_admin(actor, lang):
        return
    rows = data.cached(policy_queries.policy_settings)
    st.subheader(t("admin.policy_title", lang))
    st.caption(t("admin.policy_caption", lang))
    forms.data_table(
        av.policy_table(rows, lang), name=f"policy-{data.today()}", lang=lang, key="adm_policy",
        height=38 + 35 * len(rows),
    )  # fmt: skip


@session.live(refresh=False)
def _policy_form(lang: str, actor: Actor) -> None:
    if not _still_admin(actor, lang):
        return
    _flash("policy")
    rows = data.cached(policy_queries.policy_settings)
    gen = int(st.session_state.get("adm_policy_gen", 0))
    values: dict[str, Any] = {}
    slots: dict[str, Any] = {}
    with st.form("adm_policy_form"):
        top = st.empty()
        columns = st.columns(2)
        for index, row in enumerate(rows):
            column = columns[index % 2]
            label = t(
                "admin.f_policy", lang, setting=av.policy_label(row.key, lang),
                range=av.policy_range_text(row.key, lang),
            )  # fmt: skip
            hint = t("admin.default_is", lang, value=av.policy_value_text(row.default))
            key = f"adm_pol_{row.key}_{gen}"
            if isinstance(row.value, tuple):
                values[row.key] = column.text_input(
                    label, value=av.policy_value_text(row.value), help=hint, key=key
                )
            else:
                values[row.key] = column.number_input(
                    label, value=int(row.value), step=1, help=hint, key=key
                )
            slots[row.key] = column.empty()
        submitted = st.form_submit_button(t("admin.f_save_policy", lang), type="primary")
    if not submitted:
        return
    before = {row.key: row.value for row in rows}
    # Only what was changed: a value stored before its range was set is left as it is.
    edited = {
        key: value
        for key, value in values.items()
        if str(value).strip() != av.policy_value_text(before[key])
    }
    if not edited:
        top.info(t("admin.policy_unchanged", lang))
        return
    try:
        with data.session() as s:
            policy = set_policy_values(session=s, values=edited, actor=actor)
    except ValidationFailed as exc:
        ranges = {
            key: t("admin.allowed", lang, range=av.policy_range_text(key, lang))
            for key, message in exc.errors.items()
            if message == "services.error.policy_out_of_range"
        }
        _show_errors(lang, top, slots, exc, ranges)
        return
    except PermissionDenied:
        top.error(t("admin.refused", lang))
        return
    changed = [key for key in before if getattr(policy, key) != before[key]]
    if not changed:
        top.info(t("admin.policy_unchanged", lang))
        return
    st.session_state["adm_policy_gen"] = gen + 1
    names = "、".join if lang == "zh" else ", ".join
    _done("policy", t("admin.policy_saved", lang, settings=names(
        av.policy_label(key, lang) for key in changed)))  # fmt: skip


# --------------------------------------------------------------------------- kiosk links


def _page_url() -> str | None:
    try:
        url = st.context.url
    except Exception:  # not served (a test run): no address to read
        return None
    return url if isinstance(url, str) else None


@session.live(refresh=False)
def _kiosk_form(lang: str, actor: Actor) -> None:
    if not _still_admin(actor, lang):
        return
    _flash("kiosk")
    st.subheader(t("admin.kiosk_new_title", lang))
    token = forms.form_token("adm_kiosk")
    with st.form("adm_kiosk_form"):
        top = st.empty()
        left, right = st.columns([1, 2])
        hours = left.number_input(
            t("admin.f_hours", lang), value=12.0, step=1.0, format="%.1f",
            help=t("admin.f_hours_help", lang), key="adm_k_hours",
        )  # fmt: skip
        label = right.text_input(t("admin.f_label", lang), max_chars=80, key="adm_k_label")
        slots = {"hours": left.empty(), "label": right.empty()}
        rotate = get_settings().kiosk_rotate_seconds
        low, high = KIOSK_INTERVAL_RANGE
        interval = left.number_input(
            t("admin.f_interval", lang), min_value=low, max_value=high,
            value=min(max(rotate, low), high), step=1,
            help=t("admin.f_interval_help", lang, seconds=rotate), key="adm_k_interval",
        )  # fmt: skip
        panels = right.multiselect(
            t("admin.f_panels", lang), list(KIOSK_PANELS), default=list(KIOSK_PANELS),
            format_func=lambda p: t(f"kiosk.panel.{p}", lang),
            help=t("admin.f_panels_help", lang), key="adm_k_panels",
        )  # fmt: skip
        slots["interval_seconds"], slots["panels"] = left.empty(), right.empty()
        base = st.text_input(
            t("admin.f_base_url", lang), value=av.base_url(_page_url()),
            help=t("admin.f_base_url_help", lang), key="adm_k_base",
        )  # fmt: skip
        slots["base_url"] = st.empty()
        submitted = st.form_submit_button(t("admin.f_create_link", lang), type="primary")
    if submitted:
        if av.base_url(base.strip()) != base.strip().rstrip("/"):
            top.error(t("admin.fix_below", lang))
            slots["base_url"].error(t("admin.bad_base_url", lang))
            return
        try:
            with data.session() as s:
                link, signed = create_kiosk_link(
                    s, hours=float(hours), secret=get_settings().secret_key, actor=actor,
                    label=label, interval_seconds=int(interval), panels=panels,
                    client_token=token,
                )  # fmt: skip
        except ValidationFailed as exc:
            _show_errors(lang, top, slots, exc, {})
            return
        except PermissionDenied:
            top.error(t("admin.refused", lang))
            return
        forms.renew_token("adm_kiosk")
        # Shown in this tab only, until hidden: no token is stored, so it cannot be shown again.
        st.session_state[KIOSK_NEW] = (int(link.id or 0), av.kiosk_url(base.strip(), signed))
        _done("kiosk", t("admin.link_created", lang, id=link.id))
    new = st.session_state.get(KIOSK_NEW)
    if new:
        link_id, url = new
        with st.container(border=True, key="adm_new_link"):
            st.warning(t("admin.link_once", lang, id=link_id))
            st.code(url, language=None, wrap_lines=True)
            st.image(av.qr_svg(url), width=av.QR_WIDTH)
            st.caption(t("admin.qr_caption", lang))
            if st.button(t("admin.hide_link", lang), key="adm_hide_link"):
                st.session_state.pop(KIOSK_NEW, None)
                st.rerun()


@session.live()
def _kiosk_list(lang: str, actor: Actor) -> None:
    if not _still_admin(actor, lang):
        return
    st.subheader(t("admin.kiosk_list_title", lang))
    links = data.cached(access_queries.kiosk_links)
    if not links:
        st.info(t("admin.no_links", lang))
        return
    forms.data_table(
        av.kiosk_table(links, lang), name=f"kiosk-links-{data.today()}", lang=lang,
        key="adm_links",
    )  # fmt: skip
    active = {link.id: link for link in links if link.state == KioskLinkState.active}
    if not active:
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    link_id = left.selectbox(
        t("admin.f_revoke_link", lang), list(active),
        format_func=lambda i: f"{i} · {active[i].label or '—'}", key="adm_revoke_id",
    )  # fmt: skip
    if right.button(t("admin.revoke", lang), key="adm_revoke", width="stretch"):
        try:
            with data.session() as s:
                revoke_kiosk_link(s, link_id=int(link_id), actor=actor)
        except (ValidationFailed, PermissionDenied):
            st.error(t("admin.revoke_failed", lang))
            return
        if (st.session_state.get(KIOSK_NEW) or (None,))[0] == link_id:
            st.session_state.pop(KIOSK_NEW, None)
        _done("kiosk", t("admin.link_revoked", lang, id=link_id))


# --------------------------------------------------------------------------- audit log


@session.live()
def _audit(lang: str, actor: Actor) -> None:
    if not _still_admin(actor, lang):
        return
    st.subheader(t("admin.audit_title", lang))
    choices = data.cached(audit_queries.audit_choices)
    anyone = t("admin.any", lang)
    c1, c2, c3 = st.columns(3)
    who = c1.selectbox(
        t("admin.f_who", lang), [None, *choices.usernames],
        format_func=lambda v: anyone if v is None else v, key="adm_a_who",
    )  # fmt: skip
    action = c2.selectbox(
        t("admin.f_action", lang), [None, *choices.actions],
        format_func=lambda v: anyone if v is None else av.code_label("audit_action", v, lang),
        key="adm_a_action",
    )  # fmt: skip
    entity = c3.selectbox(
        t("admin.f_subject", lang), [None, *choices.entities],
        format_func=lambda v: anyone if v is None else av.code_label("audit_entity", v, lang),
        key="adm_a_entity",
    )  # fmt: skip
    places = {int(r.area_id): r for r in views.table_rows(data.cached(audit_queries.area_choices))}
    area_id = st.selectbox(
        t("admin.f_area", lang), [None, *places],
        format_func=lambda v: anyone if v is None else av.audit_area_label(places[v], lang),
        key="adm_a_area",
    )  # fmt: skip
    c4, c5, c6, c7 = st.columns(4)
    start = c4.date_input(t("admin.f_from", lang), value=None, key="adm_a_from")
    end = c5.date_input(t("admin.f_to", lang), value=None, key="adm_a_to")
    size = int(c6.selectbox(t("admin.f_page_size", lang), AUDIT_PAGE_SIZES, key="adm_a_size"))
    number = int(c7.number_input(t("admin.f_page", lang), min_value=1, value=1, step=1,
                                 key="adm_a_page"))  # fmt: skip
    low, high = av.day_range_utc(start, end)
    found = data.cached(
        audit_queries.audit_page, actor=actor, username=who, action=action, entity=entity,
        area_id=area_id, start=low, end=high, limit=size, offset=(number - 1) * size,
    )  # fmt: skip
    pages = max(1, -(-found.total // size))
    first = (number - 1) * size + 1
    shown = len(found.entries)
    st.caption(
        t(
            "admin.audit_count", lang, total=fmt_int(found.total, lang), page=fmt_int(number, lang),
            pages=fmt_int(pages, lang), first=fmt_int(first if shown else 0, lang),
            last=fmt_int(first + shown - 1 if shown else 0, lang),
        )
    )  # fmt: skip
    if not shown:
        st.info(t("admin.audit_none", lang))
        return
    forms.data_table(
        av.audit_table(found.entries, lang), name=f"audit-{data.today()}-p{number}", lang=lang,
        key="adm_audit",
    )  # fmt: skip
    st.caption(t("admin.audit_export_note", lang))


page()
