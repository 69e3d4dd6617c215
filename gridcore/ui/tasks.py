"""Tasks on screen: My tasks (phone-first, one tap to start, finish or undo) and task forms."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from gridcore.access import Actor, PermissionDenied
from gridcore.analytics.tasks import UNDO_WINDOW
from gridcore.config import get_settings
from gridcore.i18n import display_names, enum_label, fmt_int, t
from gridcore.models import TaskKind, TaskStatus
from gridcore.queries import tasks as tq
from gridcore.services import tasks as ts
from gridcore.services.base import ValidationFailed
from gridcore.ui import data, forms, views
from gridcore.ui.requests import NONE, grid_worker_options, scope, writable_grids
from gridcore.ui.testing import local_time

ALL = 0

TASKS_CSS = """
<style>
.gc-task {border: 1px solid #CFD8DC; border-radius: .6rem; padding: .55rem .7rem;
  margin: .2rem 0 .3rem; background: #FFFFFF; line-height: 1.45; font-size: 1.02rem;}
.gc-task.late {border-left: .45rem solid #C62828; background: #FFEBEE;}
.gc-task.done {background: #F1F8E9; color: #33691E;}
.gc-task .title {font-weight: 700; font-size: 1.08rem;}
.gc-task .sub {color: #455A64; font-size: .92rem;}
.gc-task .late-tag {color: #FFFFFF; background: #C62828; border-radius: .3rem;
  padding: 0 .35rem; font-weight: 700; font-size: .85rem; margin-left: .3rem;}
[class*="st-key-mt_go_"] button, [class*="st-key-mt_undo_"] button {min-height: 3rem;
  font-size: 1.05rem;}
</style>
"""


def end_of_today() -> datetime:
    """The end of today, local time, in UTC."""
    tz = get_settings().tz
    today = data.today()
    return datetime.combine(today + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)


def start_of_today() -> datetime:
    tz = get_settings().tz
    return datetime.combine(data.today(), time(0, 0), tzinfo=tz).astimezone(UTC)


def pick_worker(lang: str, actor: Actor) -> int | None:
    """Whose tasks: the account's own worker by default, else everyone in the reader's grids."""
    grids = scope(actor)
    options: dict[int, str] = {ALL: t("mt.everyone", lang)}
    for grid_id in grids if grids is not None else ():
        options |= grid_worker_options(grid_id, actor)
    if grids is None:
        frame = data.cached(tq.task_list, now=_minute(), actor=actor, due_before=end_of_today())
        for worker_id, name in zip(
            frame["assigned_worker_id"], frame["assigned_worker"], strict=True
        ):
            if worker_id is not None and not pd.isna(worker_id):
                options.setdefault(int(worker_id), str(name))
    own = data.cached(tq.account_worker, user_id=actor.user_id)
    if "mt_worker" not in st.session_state:
        st.session_state["mt_worker"] = own if own in options else ALL
    if st.session_state["mt_worker"] not in options:
        st.session_state["mt_worker"] = ALL
    chosen = st.selectbox(
        t("mt.whose", lang), list(options), format_func=options.__getitem__, key="mt_worker"
    )
    return None if chosen == ALL else int(chosen)


def _minute() -> datetime:
    return data.now().replace(second=0, microsecond=0)


# Task cards drawn per list (to do, done today): a grid worker has a few dozen tasks a day,
# while "everyone" across a district is thousands, which no one scrolls through on a phone.
# The most urgent come first; the download holds every task of the list.
CARDS = 50


def my_tasks(lang: str, actor: Actor, worker_id: int | None) -> None:
    """Today's and overdue open tasks, then those finished today; one tap each."""
    frame = data.cached(
        tq.task_list,
        now=_minute(),
        actor=actor,
        grid_ids=scope(actor),
        worker_id=worker_id,
        due_before=end_of_today(),
        done_since=start_of_today(),
    )
    frame = frame.assign(title=display_names(frame, lang, "title"))
    found = st.session_state.pop("mt_flash", None)
    if found:
        getattr(st, found[0])(found[1])
    open_rows = frame[frame["status"].isin(("open", "in_progress"))]
    done_rows = frame[~frame["status"].isin(("open", "in_progress"))]
    late = int(open_rows["overdue"].sum()) if not open_rows.empty else 0
    st.markdown(
        t("mt.summary", lang, open=fmt_int(len(open_rows)), late=fmt_int(late),
          done=fmt_int(len(done_rows)))
    )  # fmt: skip
    if open_rows.empty:
        st.success(t("mt.all_done", lang))
    now = datetime.now(UTC)
    for row in views.table_rows(open_rows.head(CARDS)):
        _task_card(lang, actor, row, now)
    forms.more_caption("mt.not_shown", len(open_rows) - CARDS, lang)
    if not done_rows.empty:
        st.subheader(t("mt.done_today", lang))
        for row in views.table_rows(done_rows.head(CARDS)):
            _task_card(lang, actor, row, now)
        forms.more_caption("mt.not_shown", len(done_rows) - CARDS, lang)
    st.divider()
    forms.download_buttons(
        lambda: export_frame(frame, lang), name="my-tasks", lang=lang, key="mt_dl"
    )


def _can_undo(row: Any, now: datetime) -> bool:
    changed = row.status_changed_at
    if row.previous_status is None or pd.isna(changed) or not isinstance(row.previous_status, str):
        return False
    return timedelta(0) <= now - changed.to_pydatetime() <= UNDO_WINDOW


def _task_card(lang: str, actor: Actor, row: Any, now: datetime) -> None:
    task_id = int(row.task_id)
    status = str(row.status)
    css = "late" if row.overdue else ("done" if status == TaskStatus.done else "")
    due = local_time(row.due_at if not pd.isna(row.due_at) else None, lang)
    late = f'<span class="late-tag">{t("mt.overdue", lang)}</span>' if row.overdue else ""
    who = row.assigned_worker if isinstance(row.assigned_worker, str) else t("mt.unassigned", lang)
    sub = (
        f"{enum_label('task_kind', row.kind, lang)} · {row.grid_code} · "
        f"{t('mt.due', lang, due=due)} · {enum_label('task_status', status, lang)} · {who}"
    )
    st.html(
        f'<div class="gc-task {css}"><div class="title">{forms.html_text(row.title)}{late}</div>'
        f'<div class="sub">{forms.html_text(sub)}</div></div>'
    )
    writable = actor.may_write_grid(int(row.grid_id))
    if not writable:
        return
    step = {"open": "in_progress", "in_progress": "done"}.get(status)
    undo = _can_undo(row, now)
    if step is None and not undo:
        return
    left, right = st.columns(2) if step and undo else (st.container(), None)
    if step is not None:
        left.button(
            t("mt.start" if step == "in_progress" else "mt.finish", lang),
            key=f"mt_go_{task_id}",
            on_click=_step,
            args=(lang, actor, task_id, step, str(row.title)),
            type="primary",
            width="stretch",
        )
    if undo:
        (right or left).button(
            t("mt.undo", lang),
            key=f"mt_undo_{task_id}",
            on_click=_undo,
            args=(lang, actor, task_id, str(row.title)),
            width="stretch",
        )


def _step(lang: str, actor: Actor, task_id: int, status: str, title: str) -> None:
    try:
        with data.session() as s:
            ts.set_task_status(session=s, task_id=task_id, status=status, actor=actor)
    except ValidationFailed as exc:
        st.session_state["mt_flash"] = ("error", " ".join(t(m, lang) for m in exc.errors.values()))
        data.invalidate()
        return
    except PermissionDenied:
        st.session_state["mt_flash"] = ("error", t("req.not_allowed", lang))
        return
    data.invalidate()
    key = "mt.started" if status == "in_progress" else "mt.finished"
    st.session_state["mt_flash"] = ("success", t(key, lang, title=title))


def _undo(lang: str, actor: Actor, task_id: int, title: str) -> None:
    try:
        with data.session() as s:
            task = ts.undo_task_step(session=s, task_id=task_id, actor=actor)
    except (ValidationFailed, PermissionDenied):
        st.session_state["mt_flash"] = ("error", t("req.not_allowed", lang))
        return
    data.invalidate()
    if task.previous_status is not None:  # the minute had passed: nothing was undone
        st.session_state["mt_flash"] = ("warning", t("mt.undo_too_late", lang, title=title))
        return
    st.session_state["mt_flash"] = ("info", t("mt.undone", lang, title=title))


def export_frame(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A task list as a download: localised headers and labels."""
    return pd.DataFrame(
        {
            t("mt.col_id", lang): frame["task_id"],
            t("mt.col_grid", lang): frame["grid_code"],
            t("mt.col_kind", lang): [enum_label("task_kind", v, lang) for v in frame["kind"]],
            t("mt.col_title", lang): display_names(frame, lang, "title"),
            t("mt.col_status", lang): [enum_label("task_status", v, lang) for v in frame["status"]],
            t("mt.col_worker", lang): frame["assigned_worker"],
            t("mt.col_due", lang): [
                local_time(v if not pd.isna(v) else None, lang) for v in frame["due_at"]
            ],
            t("mt.col_overdue", lang): [t("req.yes", lang) if v else "" for v in frame["overdue"]],
            t("mt.col_request", lang): [
                "" if v is None or pd.isna(v) else f"#{int(v)}" for v in frame["request_id"]
            ],
        }
    )


# --------------------------------------------------------------------------- on the requests page


def task_table(lang: str, actor: Actor) -> None:
    """Open tasks in the reader's grids, with downloads."""
    frame = data.cached(tq.task_list, now=_minute(), actor=actor, grid_ids=scope(actor))
    late = int(frame["overdue"].sum()) if not frame.empty else 0
    st.caption(t("mt.open_caption", lang, n=fmt_int(len(frame)), late=fmt_int(late)))
    table = export_frame(frame, lang)
    st.dataframe(table, hide_index=True, width="stretch", key="rt_tasks_table")
    forms.download_buttons(table, name="tasks", lang=lang, key="rt_tasks_dl")


_TASK_FIELDS = ("kind", "title", "assigned_worker_id", "due_at")


def task_form(lang: str, actor: Actor) -> None:
    """Create a task by hand: grid (outside the form: it decides the workers), then the task."""
    grids = writable_grids(actor, lang)
    if not grids:
        return
    st.subheader(t("mt.new_task", lang))
    grid_id = int(
        st.selectbox(
            t("req.f_grid", lang), list(grids), format_func=grids.__getitem__, key="rt_grid"
        )
    )
    workers = {NONE: t("req.nobody_yet", lang)} | grid_worker_options(grid_id, actor)
    token = forms.form_token("rt_task")
    tomorrow = data.now() + timedelta(days=1)
    with st.form("rt_task_form"):
        top = st.empty()
        kind = st.selectbox(
            t("mt.f_kind", lang), [k.value for k in TaskKind],
            format_func=lambda k: enum_label("task_kind", k, lang),
        )  # fmt: skip
        title = st.text_input(t("mt.f_title", lang), max_chars=200)
        title_error = st.empty()
        worker = st.selectbox(
            t("req.f_assign", lang), list(workers), format_func=workers.__getitem__
        )
        worker_error = st.empty()
        left, right = st.columns(2)
        due_day = left.date_input(t("mt.f_due_day", lang), value=tomorrow.date())
        due_time = right.time_input(t("mt.f_due_time", lang), value=time(18, 0), step=900)
        due_error = st.empty()
        submitted = st.form_submit_button(t("mt.f_create", lang), type="primary")
    if not submitted:
        return
    if not title.strip():
        title_error.error(t("mt.title_required", lang))
        return
    due = datetime.combine(due_day, due_time, tzinfo=get_settings().tz).astimezone(UTC)
    payload = {
        "grid_id": grid_id,
        "kind": kind,
        "title": title.strip(),
        "assigned_worker_id": None if worker == NONE else int(worker),
        "due_at": due,
    }
    try:
        with data.session() as s:
            task = ts.create_task(session=s, data=payload, actor=actor, client_token=token)
    except ValidationFailed as exc:
        top.error(t("req.fix_below", lang))
        forms.show_field_error(title_error, exc.errors, "title", lang)
        forms.show_field_error(worker_error, exc.errors, "assigned_worker_id", lang)
        forms.show_field_error(due_error, exc.errors, "due_at", lang)
        rest = forms.other_errors(exc.errors, _TASK_FIELDS)
        if rest:
            top.error(" ".join(t(m, lang) for m in rest.values()))
        return
    except PermissionDenied:
        top.error(t("req.not_allowed", lang))
        return
    data.invalidate()
    forms.renew_token("rt_task")
    st.session_state["req_flash"] = ("success", t("mt.task_created", lang, id=task.id))
    st.rerun()


def visits_button(lang: str, actor: Actor) -> None:
    """Make the visit tasks that are due (idempotent: a second tap makes none)."""
    if not actor.can_write:
        return
    st.subheader(t("mt.visits_title", lang))
    st.caption(t("mt.visits_caption", lang))
    if st.button(t("mt.visits_make", lang), key="rt_visits"):
        try:
            with data.session() as s:
                made = ts.create_due_visits(session=s, actor=actor)
        except PermissionDenied:
            st.error(t("req.not_allowed", lang))
            return
        data.invalidate()
        st.success(t("mt.visits_made", lang, n=fmt_int(made)))
