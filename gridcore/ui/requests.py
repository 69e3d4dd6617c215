"""The Requests page: the board by status, overdue requests, the map, time to resolve, forms."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from gridcore.access import Actor, PermissionDenied
from gridcore.i18n import display_name, display_names, enum_label, fmt_int, fmt_num, t
from gridcore.models import (
    OPEN_REQUEST_STATUSES,
    RequestCategory,
    RequestStatus,
    Urgency,
    UserRole,
)
from gridcore.queries import areas, stock, workforce
from gridcore.queries import requests as rq
from gridcore.services import requests as rs
from gridcore.services import tasks as task_services
from gridcore.services.base import ValidationFailed
from gridcore.ui import data, forms, views
from gridcore.ui.testing import local_time, minute_now

# How many cards a board column shows before "and N more".
CARDS_PER_COLUMN = 15
BOARD_STATUSES: tuple[str, ...] = ("new", "assigned", "in_progress", "closed")
NONE = -1

REQUESTS_CSS = """
<style>
.gc-card {border: 1px solid #CFD8DC; border-radius: .5rem; padding: .45rem .6rem;
  margin-bottom: .45rem; background: #FFFFFF; line-height: 1.4; font-size: .95rem;}
.gc-card.late {border-left: .4rem solid #C62828; background: #FFEBEE;}
.gc-card .head {font-weight: 700;}
.gc-card .late-tag {color: #FFFFFF; background: #C62828; border-radius: .3rem;
  padding: 0 .35rem; font-weight: 700; font-size: .85rem; margin-left: .3rem;}
.gc-card .dup-tag {color: #5D4037; background: #FFE0B2; border-radius: .3rem;
  padding: 0 .35rem; font-size: .85rem; margin-left: .3rem;}
.gc-card .sub {color: #455A64; font-size: .88rem;}
</style>
"""


def scope(actor: Actor) -> tuple[int, ...] | None:
    """The grids a reader's lists are about: a grid worker's own, else every grid."""
    if actor.role == UserRole.grid_worker:
        return tuple(sorted(actor.grid_ids or ()))
    return None


def board(actor: Actor) -> pd.DataFrame:
    """The board's requests for `actor` (cached)."""
    return data.cached(rq.request_board, now=minute_now(), actor=actor, grid_ids=scope(actor))


def item_label(row: Any, lang: str) -> str:
    return display_name(row, lang, "item")


def _card_html(row: Any, lang: str) -> str:
    """One request on the board (every user value escaped)."""
    head = (
        f"#{int(row.request_id)} · {enum_label('request_category', row.category, lang)}"
        f" · {enum_label('urgency', row.urgency, lang)}"
    )
    tags = ""
    if row.overdue:
        tags += f'<span class="late-tag">{t("req.overdue", lang)}</span>'
    if not pd.isna(row.duplicate_of):
        tags += (
            f'<span class="dup-tag">{t("req.duplicate_of", lang, id=int(row.duplicate_of))}</span>'
        )
    lines = [f'<div class="head">{forms.html_text(head)}{tags}</div>']
    place = f"{row.grid_code} {display_name(row, lang, 'household')}".strip()
    lines.append(f'<div class="sub">{forms.html_text(place)}</div>')
    if row.item:
        need = f"{item_label(row, lang)} × {fmt_int(row.quantity)}"
        lines.append(f"<div>{forms.html_text(need)}</div>")
    if row.description:
        lines.append(f"<div>{forms.html_text(row.description)}</div>")
    timing = t(
        "req.age_target",
        lang,
        age=fmt_num(max(0.0, row.age_hours), lang),
        target=fmt_int(row.target_hours),
    )
    who = row.assigned_worker if isinstance(row.assigned_worker, str) else t("req.nobody", lang)
    lines.append(f'<div class="sub">{forms.html_text(timing)} · {forms.html_text(who)}</div>')
    late = " late" if row.overdue else ""
    return f'<div class="gc-card{late}">{"".join(lines)}</div>'


def show_board(frame: pd.DataFrame, lang: str) -> None:
    """Four columns: new, assigned, in progress, and done or cancelled in the last day."""
    columns = st.columns(len(BOARD_STATUSES))
    for column, status in zip(columns, BOARD_STATUSES, strict=True):
        if status == "closed":
            part = frame[~frame["status"].isin(OPEN_REQUEST_STATUSES)]
            title = t("req.board_closed", lang)
        else:
            part = frame[frame["status"] == status]
            title = enum_label("request_status", status, lang)
        late = int(part["overdue"].sum()) if not part.empty else 0
        column.markdown(f"**{title}** · {fmt_int(len(part))}")
        if late:
            column.caption(t("req.n_overdue", lang, n=fmt_int(late)))
        if part.empty:
            column.caption(t("req.board_empty", lang))
            continue
        ordered = part.sort_values(["overdue", "created_at"], ascending=[False, True])
        cards = "".join(
            _card_html(row, lang) for row in views.table_rows(ordered.head(CARDS_PER_COLUMN))
        )
        column.html(cards)
        if len(part) > CARDS_PER_COLUMN:
            column.caption(t("req.more", lang, n=fmt_int(len(part) - CARDS_PER_COLUMN)))


def export_frame(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The board's rows as a download: localised headers and labels."""
    out = pd.DataFrame(
        {
            t("req.col_id", lang): frame["request_id"],
            t("req.col_grid", lang): frame["grid_code"],
            t("req.col_household", lang): display_names(frame, lang, "household"),
            t("req.col_created", lang): [local_time(v, lang) for v in frame["created_at"]],
            t("req.col_category", lang): [
                enum_label("request_category", v, lang) for v in frame["category"]
            ],
            t("req.col_urgency", lang): [enum_label("urgency", v, lang) for v in frame["urgency"]],
            t("req.col_status", lang): [
                enum_label("request_status", v, lang) for v in frame["status"]
            ],
            t("req.col_item", lang): [
                item_label(r, lang) if r.item else "" for r in views.table_rows(frame)
            ],
            t("req.col_quantity", lang): frame["quantity"],
            t("req.col_description", lang): frame["description"],
            t("req.col_worker", lang): frame["assigned_worker"],
            t("req.col_age", lang): frame["age_hours"].round(1),
            t("req.col_target", lang): frame["target_hours"],
            t("req.col_overdue", lang): [t("req.yes", lang) if v else "" for v in frame["overdue"]],
            t("req.col_duplicate", lang): [
                "" if pd.isna(v) else f"#{int(v)}" for v in frame["duplicate_of"]
            ],
        }
    )
    return out


def show_overdue(frame: pd.DataFrame, lang: str) -> None:
    """Overdue requests, longest waiting first, with downloads."""
    late = frame[frame["overdue"]].sort_values("age_hours", ascending=False)
    if late.empty:
        st.success(t("req.none_overdue", lang))
        return
    st.error(t("req.n_overdue", lang, n=fmt_int(len(late))))
    table = export_frame(late, lang)
    st.dataframe(table, hide_index=True, width="stretch", key="req_overdue_table")
    forms.download_buttons(table, name="overdue-requests", lang=lang, key="req_overdue_dl")


def show_map(lang: str) -> None:
    """Open requests per grid on the grid map."""
    st.caption(t("req.map_caption", lang))
    frame = views.map_frame(lang)
    gmap = views.grid_map(frame=frame, measure="open_requests", lang=lang, height=420)
    code = views.show_map(gmap, key="req_map", height=420, selectable=True)
    if code:
        views.open_grid(code)


def show_resolution(lang: str, actor: Actor) -> None:
    """Time to resolve per category over the last 30 days, against the target."""
    since = (minute_now() - timedelta(days=30)).astimezone(UTC)
    frame = data.cached(rq.resolution_times, since=since, grid_ids=scope(actor))
    st.caption(t("req.resolution_caption", lang))
    if frame.empty:
        st.info(t("req.resolution_none", lang))
        return
    table = pd.DataFrame(
        {
            t("req.col_category", lang): [
                enum_label("request_category", v, lang) for v in frame["category"]
            ],
            t("req.col_done", lang): frame["done"],
            t("req.col_median", lang): frame["median_hours"].round(1),
            t("req.col_max", lang): frame["max_hours"].round(1),
            t("req.col_target", lang): frame["target_hours"],
            t("req.col_within", lang): [
                f"{int(w)}/{int(d)}"
                for w, d in zip(frame["within_target"], frame["done"], strict=True)
            ],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", key="req_resolution_table")
    forms.download_buttons(table, name="request-resolution", lang=lang, key="req_resolution_dl")


# --------------------------------------------------------------------------- forms


def writable_grids(actor: Actor, lang: str) -> dict[int, str]:
    """The grids `actor` may write in, labelled."""
    rows = data.cached(areas.grids)
    return {
        int(r.grid_id): f"{views.area_label(r, lang)} · {r.code}"
        for r in views.table_rows(rows)
        if actor.may_write_grid(int(r.grid_id))
    }


def grid_worker_options(grid_id: int, actor: Actor) -> dict[int, str]:
    frame = data.cached(workforce.grid_workers, grid_id=grid_id, actor=actor)
    return {int(r.worker_id): str(r.name) for r in views.table_rows(frame)}


def _errors_text(errors: dict[str, str], lang: str) -> str:
    return " ".join(dict.fromkeys(t(m, lang) for m in errors.values()))


_TAKE_FIELDS = ("household_id", "category", "item_id", "quantity", "description")


def take_form(lang: str, actor: Actor) -> None:
    """Take a request: grid (outside the form: it decides the households), then the need."""
    grids = writable_grids(actor, lang)
    if not grids:
        st.caption(t("req.read_only", lang))
        return
    grid_id = int(
        st.selectbox(
            t("req.f_grid", lang), list(grids), format_func=grids.__getitem__, key="req_take_grid"
        )
    )
    households = data.cached(rq.grid_households, grid_id=grid_id)
    house_options = {
        int(r.household_id): f"{display_name(r, lang, 'building')} {r.unit}"
        for r in views.table_rows(households)
    }
    items = data.cached(rq.supply_items)
    item_options = {NONE: t("req.no_item", lang)} | {
        int(r.item_id): f"{views.area_label(r, lang)} ({r.unit})" for r in views.table_rows(items)
    }
    workers = {NONE: t("req.nobody_yet", lang)} | grid_worker_options(grid_id, actor)
    token = forms.form_token("req_take")
    with st.form("req_take_form"):
        top = st.empty()
        household = st.selectbox(
            t("req.f_household", lang),
            list(house_options),
            format_func=house_options.__getitem__,
            key="req_take_household",
        )
        household_error = st.empty()
        left, right = st.columns(2)
        category = left.selectbox(
            t("req.f_category", lang),
            [c.value for c in RequestCategory],
            format_func=lambda c: enum_label("request_category", c, lang),
            key="req_take_category",
        )
        urgency = right.selectbox(
            t("req.f_urgency", lang),
            [u.value for u in Urgency],
            index=1,
            format_func=lambda u: enum_label("urgency", u, lang),
            key="req_take_urgency",
        )
        category_error = st.empty()
        left, right = st.columns(2)
        item = left.selectbox(
            t("req.f_item", lang),
            list(item_options),
            format_func=item_options.__getitem__,
            key="req_take_item",
        )
        quantity = right.number_input(
            t("req.f_quantity", lang), min_value=0, step=1, value=0, key="req_take_quantity"
        )
        item_error = st.empty()
        description = st.text_area(t("req.f_description", lang), max_chars=500, height=80)
        description_error = st.empty()
        worker = st.selectbox(
            t("req.f_assign", lang), list(workers), format_func=workers.__getitem__
        )
        submitted = st.form_submit_button(
            t("req.f_take", lang), type="primary", key="req_take_submit"
        )
    if not submitted:
        return
    payload = {
        "grid_id": grid_id,
        "household_id": household,
        "category": category,
        "urgency": urgency,
        "item_id": None if item == NONE else int(item),
        "quantity": int(quantity) if quantity else None,
        "description": description.strip(),
    }
    try:
        with data.session() as s:
            created = rs.create_request(session=s, data=payload, actor=actor, client_token=token)
            if worker != NONE and created.assigned_worker_id is None:
                rs.assign_request(
                    session=s, request_id=int(created.id or 0), worker_id=int(worker), actor=actor
                )
    except ValidationFailed as exc:
        top.error(t("req.fix_below", lang))
        forms.show_field_error(household_error, exc.errors, "household_id", lang)
        forms.show_field_error(category_error, exc.errors, "category", lang)
        forms.show_field_error(item_error, exc.errors, "item_id", lang)
        forms.show_field_error(item_error, exc.errors, "quantity", lang)
        forms.show_field_error(description_error, exc.errors, "description", lang)
        rest = forms.other_errors(exc.errors, _TAKE_FIELDS)
        if rest:
            top.error(_errors_text(rest, lang))
        return
    except PermissionDenied:
        top.error(t("req.not_allowed", lang))
        return
    data.invalidate()
    forms.renew_token("req_take")
    st.session_state["req_flash"] = ("success", t("req.taken", lang, id=created.id))
    st.rerun()


ACTIONS: tuple[str, ...] = ("assign", "start", "deliver", "task", "cancel")


def act_form(lang: str, actor: Actor, frame: pd.DataFrame) -> None:
    """Assign, start, deliver (from a depot when it is a supply), make a task, or cancel."""
    open_rows = frame[frame["status"].isin(OPEN_REQUEST_STATUSES)]
    open_rows = open_rows[[actor.may_write_grid(int(g)) for g in open_rows["grid_id"]]]
    if open_rows.empty:
        st.caption(t("req.nothing_to_act_on", lang))
        return
    labels = {
        int(r.request_id): (
            f"#{int(r.request_id)} · {r.grid_code} · "
            f"{enum_label('request_category', r.category, lang)} · "
            f"{enum_label('request_status', r.status, lang)}"
            + (f" · {t('req.overdue', lang)}" if r.overdue else "")
        )
        for r in views.table_rows(open_rows)
    }
    request_id = int(
        st.selectbox(
            t("req.f_request", lang),
            list(labels),
            format_func=labels.__getitem__,
            key="req_act_request",
        )
    )
    row = open_rows[open_rows["request_id"] == request_id].iloc[0]
    grid_id = int(row["grid_id"])
    workers = grid_worker_options(grid_id, actor)
    depots = _depot_options(row, lang)
    token = forms.form_token(f"req_act_{request_id}")
    with st.form("req_act_form"):
        top = st.empty()
        action = st.radio(
            t("req.f_action", lang),
            ACTIONS,
            format_func=lambda a: t(f"req.action_{a}", lang),
            horizontal=True,
            key="req_act_action",
        )
        worker = st.selectbox(
            t("req.f_worker", lang),
            list(workers) or [NONE],
            format_func=lambda w: workers.get(w, t("req.no_workers", lang)),
            key=f"req_act_worker_{request_id}",
        )
        worker_error = st.empty()
        depot = st.selectbox(
            t("req.f_depot", lang),
            list(depots) or [NONE],
            format_func=lambda d: depots.get(d, t("req.no_depot_needed", lang)),
            help=t("req.f_depot_help", lang),
            key=f"req_act_depot_{request_id}",
        )
        depot_error = st.empty()
        submitted = st.form_submit_button(
            t("req.f_apply", lang), type="primary", key="req_act_submit"
        )
    if not submitted:
        return
    try:
        with data.session() as s:
            message = _apply(s, action, request_id, worker, depot, actor, token, lang)
    except ValidationFailed as exc:
        forms.show_field_error(worker_error, exc.errors, "worker_id", lang)
        forms.show_field_error(depot_error, exc.errors, "depot_id", lang)
        forms.show_field_error(depot_error, exc.errors, "quantity", lang)
        rest = forms.other_errors(exc.errors, ("worker_id", "depot_id", "quantity"))
        top.error(_errors_text(rest, lang) if rest else t("req.fix_below", lang))
        return
    except PermissionDenied:
        top.error(t("req.not_allowed", lang))
        return
    data.invalidate()
    forms.renew_token(f"req_act_{request_id}")
    st.session_state["req_flash"] = ("success", message)
    st.rerun()


def _depot_options(row: Any, lang: str) -> dict[int, str]:
    """Depots with the request's item and how much each holds (empty when not a supply)."""
    if pd.isna(row["quantity"]) or not row["item"]:
        return {}
    depots = data.cached(stock.depots)
    levels = data.cached(stock.stock_levels)
    item_levels = levels[levels["item_id"].isin(_item_ids(row))]
    held = {int(r.depot_id): int(r.stock) for r in views.table_rows(item_levels)}
    return {
        int(d.depot_id): t(
            "req.depot_holds",
            lang,
            depot=display_name(d, lang),
            n=fmt_int(held.get(int(d.depot_id), 0)),
        )
        for d in views.table_rows(depots)
    }


def _item_ids(row: Any) -> list[int]:
    items = data.cached(rq.supply_items)
    return [
        int(i)
        for i, name in zip(items["item_id"], items["name"], strict=True)
        if name == row["item"]
    ]


def _apply(
    s: Any,
    action: str,
    request_id: int,
    worker: int,
    depot: int,
    actor: Actor,
    token: str,
    lang: str,
) -> str:
    if action == "assign":
        if worker == NONE:
            raise ValidationFailed({"worker_id": "req.error.choose_worker"})
        rs.assign_request(session=s, request_id=request_id, worker_id=worker, actor=actor)
        return t("req.assigned", lang, id=request_id)
    if action == "start":
        rs.set_request_status(
            session=s, request_id=request_id, status=RequestStatus.in_progress, actor=actor
        )
        return t("req.started", lang, id=request_id)
    if action == "deliver":
        done = rs.deliver_request(
            session=s,
            request_id=request_id,
            depot_id=None if depot == NONE else depot,
            actor=actor,
            client_token=token,
        )
        if done.stock_movement_id is not None:
            return t("req.delivered_stock", lang, id=request_id, movement=done.stock_movement_id)
        return t("req.delivered", lang, id=request_id)
    if action == "task":
        task = task_services.task_from_request(
            session=s, request_id=request_id, actor=actor, client_token=token
        )
        return t("req.task_made", lang, id=request_id, task=task.id)
    rs.set_request_status(
        session=s, request_id=request_id, status=RequestStatus.cancelled, actor=actor
    )
    return t("req.cancelled", lang, id=request_id)


def flash() -> None:
    found = st.session_state.pop("req_flash", None)
    if found:
        getattr(st, found[0])(found[1])
