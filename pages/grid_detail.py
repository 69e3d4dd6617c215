"""Grid detail: one grid's people, workers, cases, quarantine, testing, requests, tasks, stock."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridcore.access import Actor
from gridcore.config import get_settings
from gridcore.i18n import (
    display_name,
    display_names,
    enum_label,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_pct,
    pick_name,
    t,
)
from gridcore.queries import (
    areas,
    cases,
    requests,
    residents,
    stock,
    tasks,
    testing,
    workforce,
    zones,
)
from gridcore.ui import charts, data, forms, session, views
from gridcore.ui.maps import MapLayers


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    grids = data.cached(areas.grids)
    if grids.empty:
        st.title(t("page.grid_detail", lang))
        st.info(t("map.no_grids", lang))
        return
    codes = list(grids["code"])
    labels = {r.code: views.area_label(r, lang) for r in grids.itertuples(index=False)}
    requested = st.query_params.get("grid")
    if requested is not None and requested not in labels:
        st.title(t("page.grid_detail", lang))
        st.warning(t("grid.unknown_code", lang, code=forms.markdown_text(requested)))
        requested = None
    default = requested or st.session_state.get("grid_code") or _own_grid(actor, grids) or codes[0]
    code = st.selectbox(
        t("grid.choose", lang),
        codes,
        index=codes.index(default) if default in codes else 0,
        format_func=lambda c: f"{labels[c]} · {c}",
        key="grid_pick",
    )
    st.session_state["grid_code"] = code
    if st.query_params.get("grid") != code:
        st.query_params["grid"] = code
    _grid(lang, actor, code)


def _own_grid(actor: Actor, grids: pd.DataFrame) -> str | None:
    if not actor.grid_ids:
        return None
    own = grids[grids["grid_id"].isin(actor.grid_ids)]
    return str(own["code"].iloc[0]) if not own.empty else None


@session.live()
def _grid(lang: str, actor: Actor, code: str) -> None:
    frame = views.map_frame(lang)
    row = frame[frame["code"] == code]
    info = data.cached(areas.grid_by_code, code=code)
    if row.empty or info is None:
        st.warning(t("grid.unknown_code", lang, code=forms.markdown_text(code)))
        return
    metrics = row.iloc[0]
    grid_id = int(metrics["grid_id"])
    community = pick_name(info.community_name, info.community_name_zh, lang)
    st.title(forms.markdown_text(views.area_label(info, lang)))
    st.html(
        f"<div>{views.risk_badge(str(metrics['risk_level']), lang)} &nbsp; "
        f"{t('level.community', lang)}: <b>{forms.html_text(community)}</b> · "
        f"{forms.html_text(code)}"
        + (f" · {t('zone.' + metrics['zone_level'], lang)}" if metrics["zone_level"] else "")
        + "</div>"
    )
    if len(metrics["risk_reasons"]):
        st.caption(
            t("grid.why", lang) + " " + views.reasons_text(list(metrics["risk_reasons"]), lang)
        )
    views.updated_caption(lang)
    cols = st.columns(7)
    figures = [
        ("grid.residents", fmt_int(metrics["residents"])),
        ("grid.households", fmt_int(metrics["households"])),
        ("headline.active_cases", fmt_int(metrics["active_cases"])),
        ("headline.in_quarantine", fmt_int(metrics["in_quarantine"])),
        ("grid.coverage", fmt_pct(metrics["coverage"], lang)),
        ("headline.open_requests", fmt_int(metrics["open_requests"])),
        ("grid.fulltime_workers", fmt_int(metrics["full_time_workers"])),
    ]
    for col, (key, value) in zip(cols, figures, strict=True):
        col.metric(t(key, lang), value, border=True)

    tabs = st.tabs(
        [
            t("grid.tab_map", lang),
            t("grid.tab_people", lang),
            t("grid.tab_cases", lang),
            t("grid.tab_testing", lang),
            t("grid.tab_requests", lang),
            t("grid.tab_stock", lang),
        ]
    )
    with tabs[0]:
        _map(lang, frame, code, grid_id)
    with tabs[1]:
        _people(lang, actor, grid_id)
    with tabs[2]:
        _cases(lang, actor, grid_id)
    with tabs[3]:
        _testing(lang, grid_id)
    with tabs[4]:
        _requests(lang, actor, grid_id)
    with tabs[5]:
        _stock(lang, grid_id)


def _map(lang: str, frame: pd.DataFrame, code: str, grid_id: int) -> None:
    one = frame[frame["code"] == code]
    layers = MapLayers(
        zones=data.cached(zones.zone_orders, today=data.today(), grid_id=grid_id),
        buildings=data.cached(areas.buildings, grid_id=grid_id),
    )
    gmap = views.grid_map(frame=one, measure="risk_level", lang=lang, layers=layers, height=420)
    views.show_map(gmap, key=None, height=420, selectable=False)


def _table(frame: pd.DataFrame, columns: dict[str, str], lang: str, *, empty_key: str) -> None:
    """Show `frame` with translated headers, or a plain sentence when empty."""
    if frame.empty:
        st.info(t(empty_key, lang))
        return
    shown = frame[list(columns)].rename(columns={c: t(k, lang) for c, k in columns.items()})
    name = empty_key.removeprefix("grid.no_")
    forms.data_table(forms.shown_table(shown), name=f"grid-{name}", lang=lang, key=f"gd_{name}")


def _labels(series: pd.Series, prefix: str, lang: str) -> pd.Series:
    return series.map(lambda v: enum_label(prefix, v, lang) if isinstance(v, str) and v else "—")


def _people(lang: str, actor: Actor, grid_id: int) -> None:
    people = data.cached(residents.grid_people, grid_id=grid_id)
    c1, c2, c3 = st.columns(3)
    c1.metric(t("grid.buildings", lang), fmt_int(people.get("buildings")))
    c2.metric(t("grid.households", lang), fmt_int(people.get("households")))
    c3.metric(t("grid.residents", lang), fmt_int(people.get("residents")))
    vulnerable = {tag: n for tag, n in people.get("vulnerable_by_tag", {}).items() if n}
    if vulnerable:
        st.markdown(
            t("grid.vulnerable", lang)
            + " "
            + " · ".join(
                f"{enum_label('vulnerability', k, lang)} {fmt_int(v)}"
                for k, v in vulnerable.items()
            )
        )
    st.subheader(t("grid.workers", lang))
    workers = data.cached(workforce.grid_workers, grid_id=grid_id, actor=actor)
    workers = workers.assign(
        role=_labels(workers["role"], "worker_role", lang),
        employment=_labels(workers["employment"], "employment", lang),
        service_group=_labels(workers["service_group"], "service_group", lang),
    )
    _table(
        workers,
        {
            "name": "table.name",
            "phone": "table.phone",
            "role": "table.role",
            "employment": "table.employment",
            "service_group": "table.service_group",
            "open_tasks": "table.open_tasks",
            "overdue_tasks": "table.overdue_tasks",
        },
        lang,
        empty_key="grid.no_workers",
    )


def _cases(lang: str, actor: Actor, grid_id: int) -> None:
    case_rows = data.cached(cases.grid_cases, grid_id=grid_id, actor=actor)
    case_rows = case_rows.assign(
        reported_date=case_rows["reported_date"].map(lambda d: fmt_date(d, lang)),
        kind=_labels(case_rows["kind"], "case_kind", lang),
        status=_labels(case_rows["status"], "case_status", lang),
        found_via=_labels(case_rows["found_via"], "found_via", lang),
    )
    st.subheader(t("grid.cases", lang))
    _table(
        case_rows,
        {
            "reported_date": "table.reported",
            "kind": "table.kind",
            "status": "table.status",
            "found_via": "table.found_via",
            "resident_name": "table.name",
            "address": "table.address",
        },
        lang,
        empty_key="grid.no_cases",
    )
    st.subheader(t("grid.quarantine", lang))
    contacts = data.cached(cases.grid_contacts, grid_id=grid_id, today=data.today(), actor=actor)
    contacts = contacts.assign(
        contact_type=_labels(contacts["contact_type"], "contact_type", lang),
        quarantine_place=_labels(contacts["quarantine_place"], "quarantine_place", lang),
        status=_labels(contacts["status"], "contact_status", lang),
        planned_end_date=contacts["planned_end_date"].map(lambda d: fmt_date(d, lang)),
    )
    _table(
        contacts,
        {
            "person_name": "table.name",
            "phone": "table.phone",
            "contact_type": "table.contact_type",
            "quarantine_place": "table.quarantine_place",
            "planned_end_date": "table.planned_end",
            "days_left": "table.days_left",
            "status": "table.status",
        },
        lang,
        empty_key="grid.no_contacts",
    )


def _testing(lang: str, grid_id: int) -> None:
    rounds = data.cached(testing.grid_testing, grid_id=grid_id)
    if rounds.empty:
        st.info(t("grid.no_rounds", lang))
        return
    views.show_chart(charts.testing_by_round(rounds, lang=lang), key=f"testing_{grid_id}")
    shown = rounds.assign(
        round_name=display_names(rounds, lang, "round_name"),
        coverage=[fmt_pct(v, lang) for v in rounds["coverage"]],
        start_at=[fmt_datetime(v.astimezone(get_settings().tz), lang) for v in rounds["start_at"]],
    )
    _table(
        shown,
        {
            "round_name": "table.round",
            "start_at": "table.start",
            "expected": "table.expected",
            "sampled": "table.sampled",
            "coverage": "table.coverage",
            "positives": "table.positives",
            "pending": "table.pending",
        },
        lang,
        empty_key="grid.no_rounds",
    )


def _requests(lang: str, actor: Actor, grid_id: int) -> None:
    now = data.now().replace(second=0, microsecond=0)
    request_rows = data.cached(requests.grid_requests, grid_id=grid_id, now=now, actor=actor)
    st.subheader(t("grid.requests", lang))
    open_only = st.toggle(t("grid.open_only", lang), value=True, key="req_open_only")
    if open_only and not request_rows.empty:
        request_rows = request_rows[request_rows["status"].isin(["new", "assigned", "in_progress"])]
    late = int(request_rows["overdue"].sum()) if not request_rows.empty else 0
    if late:
        st.error(t("req.n_overdue_grid", lang, n=late))
    st.page_link("pages/requests.py", label=t("req.to_requests_page", lang))
    request_rows = request_rows.assign(
        created_at=[
            fmt_datetime(v.astimezone(get_settings().tz), lang) for v in request_rows["created_at"]
        ],
        category=_labels(request_rows["category"], "request_category", lang),
        urgency=_labels(request_rows["urgency"], "urgency", lang),
        status=_labels(request_rows["status"], "request_status", lang),
        overdue=request_rows["overdue"].map(lambda v: t("common.yes", lang) if v else ""),
        age_hours=request_rows["age_hours"].round(1),
    )
    _table(
        request_rows,
        {
            "created_at": "table.created",
            "category": "table.category",
            "urgency": "table.urgency",
            "status": "table.status",
            "description": "table.description",
            "assigned_worker": "table.assigned_to",
            "age_hours": "table.age_hours",
            "overdue": "table.overdue",
        },
        lang,
        empty_key="grid.no_requests",
    )
    st.subheader(t("grid.tasks", lang))
    task_rows = data.cached(tasks.grid_tasks, grid_id=grid_id, now=now, actor=actor)
    task_rows = task_rows.assign(
        title=display_names(task_rows, lang, "title"),
        kind=_labels(task_rows["kind"], "task_kind", lang),
        status=_labels(task_rows["status"], "task_status", lang),
        due_at=[
            fmt_datetime(v.astimezone(get_settings().tz), lang) if v is not None and v == v else "—"
            for v in task_rows["due_at"]
        ],
        overdue=task_rows["overdue"].map(lambda v: t("common.yes", lang) if v else ""),
    )
    _table(
        task_rows,
        {
            "kind": "table.kind",
            "title": "table.title",
            "status": "table.status",
            "assigned_worker": "table.assigned_to",
            "due_at": "table.due",
            "overdue": "table.overdue",
        },
        lang,
        empty_key="grid.no_tasks",
    )


def _stock(lang: str, grid_id: int) -> None:
    stock_rows = data.cached(stock.grid_stock, grid_id=grid_id)
    stock_rows = stock_rows.assign(
        depot=display_names(stock_rows, lang, "depot"),
        item=display_names(stock_rows, lang, "item"),
        below_min=stock_rows["below_min"].map(lambda v: t("common.yes", lang) if v else ""),
    )
    _table(
        stock_rows,
        {
            "depot": "table.depot",
            "item": "table.item",
            "unit": "table.unit",
            "stock": "table.stock",
            "min_stock": "table.min_stock",
            "below_min": "table.below_min",
        },
        lang,
        empty_key="grid.no_stock",
    )
    # Each depot that serves the grid opens on the Supplies page (its own, else its community's).
    # (A link's label is Markdown: the depot's name goes beside it as plain text.)
    for row in views.table_rows(data.cached(stock.serving_depots, grid_id=grid_id)):
        name, link = st.columns([2, 3], vertical_alignment="center")
        depot = display_name(row, lang)
        name.text(depot if row.own else t("grid.community_depot", lang, depot=depot))
        link.page_link(
            "pages/supplies.py",
            label=t("grid.open_supplies", lang),
            query_params={"depot": str(int(row.depot_id))},
        )


page()
