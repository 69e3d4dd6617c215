"""Supplies: where stock runs out first, what to move and buy, the ledger, and its forms.

Every figure comes from queries.stock (balances, the week's issues) and analytics.stock
(cover, transfers, purchases). Administrators, leaders and grid workers (within their
grids' depots) record receipts, issues, transfers and counts, and make suggested transfers
in one click; the services refuse what the actor may not do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import streamlit as st

from gridcore.access import Actor, PermissionDenied
from gridcore.config import get_settings
from gridcore.i18n import fmt_int, fmt_num, has_key, t
from gridcore.models import AreaLevel
from gridcore.queries import areas
from gridcore.queries import stock as sq
from gridcore.services import stock as ss
from gridcore.services.base import ValidationFailed
from gridcore.ui import data, forms, session, views
from gridcore.ui import stock as sv

ALL = 0
SUGGESTIONS_SHOWN = 8
MAP_HEIGHT = 460
UNDO_SECONDS = 60
FLASH = "sp_flash"
KINDS = ("receipt", "issue", "transfer", "adjustment")


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(sv.SUPPLIES_CSS)
    st.title(t("page.supplies", lang))
    st.caption(t("stock.intro", lang))
    now = data.now().replace(second=0, microsecond=0)
    picture = data.cached(sq.supply_picture, now=now)
    depots = data.cached(sq.depot_list)
    items = data.cached(sq.item_list)
    names = sv.Names(depots, items, lang)
    _flash(lang, actor)
    if depots.empty:
        st.info(t("stock.no_depots", lang))
        return
    focus = _focus(lang, depots)
    _headline(lang, picture)
    _heat(lang, picture, names)
    _map_and_cover(lang, picture, depots, names, focus)
    _suggestions(lang, actor, picture, depots, names, focus)
    _history(lang, names, focus)
    if actor.can_write:
        _forms(lang, actor, depots, items, names)


# --------------------------------------------------------------------------- top


def _flash(lang: str, actor: Actor) -> None:
    """What the last write did (set before the rerun that shows it), and its undo."""
    flash = st.session_state.get(FLASH)
    if not flash:
        return
    kind, message, undo = flash
    sv.notice(kind, message)
    if undo is None:
        st.session_state.pop(FLASH, None)
        return
    made_at = undo["at"]
    if (datetime.now(UTC) - made_at).total_seconds() > UNDO_SECONDS:
        st.session_state.pop(FLASH, None)
        return
    st.button(
        t("stock.undo", lang),
        key="sp_undo",
        on_click=_undo,
        args=(lang, actor, undo),
    )


def _focus(lang: str, depots: Any) -> int | None:
    """The depot the page looks at (?depot=, kept in the URL), or None for every depot."""
    choices = {ALL: t("stock.all_depots", lang), **sv.depot_choices(depots, lang)}
    raw = st.query_params.get("depot")
    if raw is not None and raw != st.session_state.get("sp_depot_url"):
        st.session_state["sp_depot_url"] = raw
        depot_id = forms.url_id(raw)
        if depot_id is not None and depot_id in choices:
            st.session_state["sp_depot"] = depot_id
        else:
            st.warning(t("stock.unknown_depot", lang, depot=forms.markdown_text(raw)))
    chosen = int(
        st.selectbox(
            t("stock.focus", lang),
            list(choices),
            format_func=choices.__getitem__,
            key="sp_depot",
        )
    )
    if chosen == ALL:
        if "depot" in st.query_params:
            del st.query_params["depot"]
        st.session_state["sp_depot_url"] = None
        return None
    if raw != str(chosen):
        st.query_params["depot"] = str(chosen)
        st.session_state["sp_depot_url"] = str(chosen)
    return chosen


def _headline(lang: str, picture: sq.SupplyPicture) -> None:
    positions = picture.positions
    short = positions[positions["level"].isin(["out", "short"])]
    figures = (
        ("stock.m_short", fmt_int(len(short)), "stock.m_short_help"),
        ("stock.m_depots_short", fmt_int(short["depot_id"].nunique()), None),
        ("stock.m_transfers", fmt_int(len(picture.transfers)), "stock.m_transfers_help"),
        ("stock.m_purchases", fmt_int(len(picture.purchases)), "stock.m_purchases_help"),
    )
    box = st.container(key="sp_headline")
    for column, (label, value, help_key) in zip(box.columns(4), figures, strict=True):
        column.metric(
            t(label, lang), value, help=t(help_key, lang) if help_key else None, border=True
        )


def _heat(lang: str, picture: sq.SupplyPicture, names: sv.Names) -> None:
    st.subheader(t("stock.heat_title", lang))
    categories = sorted(set(names.categories.values()))
    options = ["", *categories]
    category = st.selectbox(
        t("stock.category", lang),
        options,
        format_func=lambda c: t("stock.all_categories", lang) if not c else _category(c, lang),
        key="sp_category",
    )
    positions = picture.positions
    if category:
        keep = [i for i, c in names.categories.items() if c == category]
        positions = positions[positions["item_id"].isin(keep)]
    if positions.empty:
        st.info(t("stock.no_stock", lang))
        return
    st.html(sv.heat_html(positions, names))
    st.html(views.legend_html(sv.legend_entries(lang)))
    st.caption(t("stock.heat_caption", lang))


def _category(category: str, lang: str) -> str:
    key = f"stock.category.{category}"
    return t(key, lang) if has_key(key) else category


def _map_and_cover(
    lang: str, picture: sq.SupplyPicture, depots: Any, names: sv.Names, focus: int | None
) -> None:
    left, right = st.columns([2, 3])
    with left:
        st.subheader(t("stock.map_title", lang))
        grids = data.cached(areas.area_shapes, level=AreaLevel.grid)
        gmap = sv.depot_map(picture.positions, depots, grids, names)
        views.show_map(gmap, key="sp_map", height=MAP_HEIGHT, selectable=False)
        st.caption(t("stock.map_caption", lang))
    with right:
        st.subheader(t("stock.cover_title", lang))
        positions = picture.positions
        if focus is not None:
            positions = positions[positions["depot_id"] == focus]
        table = sv.cover_table(positions, names)
        st.dataframe(table, hide_index=True, width="stretch", height=MAP_HEIGHT, key="sp_cover")
        st.caption(t("stock.cover_caption", lang))
        forms.download_buttons(table, name="days-of-cover", lang=lang, key="sp_cover_dl")


# --------------------------------------------------------------------------- suggestions


def _suggestions(
    lang: str,
    actor: Actor,
    picture: sq.SupplyPicture,
    depots: Any,
    names: sv.Names,
    focus: int | None,
) -> None:
    st.subheader(t("stock.suggest_title", lang))
    st.caption(t("stock.suggest_caption", lang))
    transfers = picture.transfers
    if focus is not None:
        transfers = transfers[
            (transfers["from_depot_id"] == focus) | (transfers["to_depot_id"] == focus)
        ]
    if transfers.empty:
        st.success(t("stock.no_suggestions", lang))
    else:
        areas_of = {int(r.depot_id): int(r.area_id) for r in depots.itertuples(index=False)}
        positions = picture.positions
        stock_of = {
            (int(d), int(i)): int(q)
            for d, i, q in zip(
                positions["depot_id"], positions["item_id"], positions["stock"], strict=True
            )
        }
        for n, row in enumerate(views.table_rows(transfers.head(SUGGESTIONS_SHOWN))):
            held = stock_of.get((int(row.to_depot_id), int(row.item_id)), 0)
            _suggestion(lang, actor, row, names, areas_of, n, held)
        if len(transfers) > SUGGESTIONS_SHOWN:
            st.caption(
                t("stock.more_suggestions", lang, n=fmt_int(len(transfers) - SUGGESTIONS_SHOWN))
            )
        with st.expander(t("stock.all_suggestions", lang)):
            table = sv.transfer_table(transfers, names)
            st.dataframe(table, hide_index=True, width="stretch", key="sp_transfers")
            forms.download_buttons(table, name="suggested-transfers", lang=lang, key="sp_tr_dl")
    st.subheader(t("stock.purchase_title", lang))
    st.caption(t("stock.purchase_caption", lang))
    if picture.purchases.empty:
        st.success(t("stock.no_purchases", lang))
        return
    table = sv.purchase_table(picture.purchases, names)
    st.dataframe(table, hide_index=True, width="stretch", key="sp_purchases")
    forms.download_buttons(table, name="purchase-orders", lang=lang, key="sp_po_dl")


def _suggestion(
    lang: str,
    actor: Actor,
    row: Any,
    names: sv.Names,
    areas_of: dict[int, int],
    n: int,
    held: int,
) -> None:
    item, source, target = int(row.item_id), int(row.from_depot_id), int(row.to_depot_id)
    quantity = int(row.quantity)
    distance = row.distance_km
    far = (
        t("stock.km", lang, km=fmt_num(float(distance), lang, 1))
        if distance is not None and distance == distance
        else ""
    )
    line = t(
        "stock.suggest_line",
        lang,
        qty=fmt_int(quantity),
        unit=names.unit(item),
        item=names.item(item),
        source=names.depot(source),
        target=names.depot(target),
    )
    text, button = st.columns([4, 1], vertical_alignment="center")
    text.html(
        f'<div class="gc-move">{forms.html_text(line)}'
        f' <span class="far">{forms.html_text(far)}</span></div>'
    )
    allowed = actor.may_write_grid(areas_of.get(source)) and actor.may_write_grid(
        areas_of.get(target)
    )
    if allowed:
        button.button(
            t("stock.make_transfer", lang),
            key=f"sp_move_{n}",
            on_click=_make_transfer,
            args=(lang, actor, item, source, target, quantity, held, names),
            width="stretch",
        )


def _make_transfer(
    lang: str,
    actor: Actor,
    item: int,
    source: int,
    target: int,
    quantity: int,
    held: int,
    names: sv.Names,
) -> None:
    """Make a suggested transfer through the service; say what it did, offer to undo it.

    The client token is the suggestion's own (what, where, how many, and what the receiver
    held): a double tap writes once, and a later shortage of the same size is a new move.
    """
    key = f"sp_move_{item}_{source}_{target}_{quantity}_{held}"
    try:
        with data.session() as s:
            out, _ = ss.transfer_stock(
                session=s,
                item_id=item,
                from_depot_id=source,
                to_depot_id=target,
                quantity=quantity,
                actor=actor,
                note=t("stock.suggested_note", "en"),
                client_token=forms.form_token(key),
            )
            left = ss.stock_level(session=s, depot_id=source, item_id=item)
            now_there = ss.stock_level(session=s, depot_id=target, item_id=item)
    except ValidationFailed as exc:
        st.session_state[FLASH] = ("error", _errors_text(exc, lang), None)
        return
    except PermissionDenied:
        st.session_state[FLASH] = ("error", t("stock.not_allowed", lang), None)
        return
    data.invalidate()
    message = t(
        "stock.transferred",
        lang,
        qty=fmt_int(quantity),
        unit=names.unit(item),
        item=names.item(item),
        source=names.depot(source),
        target=names.depot(target),
        number=out.id,
        left=fmt_int(left),
        now=fmt_int(now_there),
    )
    undo = {
        "at": datetime.now(UTC),
        "item": item,
        "source": target,
        "target": source,
        "quantity": quantity,
        "number": out.id,
        "names": names,
    }
    st.session_state[FLASH] = ("success", message, undo)


def _undo(lang: str, actor: Actor, undo: dict[str, Any]) -> None:
    """Undo a transfer just made: the same amount moved back (the ledger keeps both)."""
    names: sv.Names = undo["names"]
    try:
        with data.session() as s:
            ss.transfer_stock(
                session=s,
                item_id=undo["item"],
                from_depot_id=undo["source"],
                to_depot_id=undo["target"],
                quantity=undo["quantity"],
                actor=actor,
                note=t("stock.undo_note", "en", number=undo["number"]),
                client_token=forms.form_token(f"sp_undo_{undo['number']}"),
            )
    except ValidationFailed as exc:
        st.session_state[FLASH] = ("error", _errors_text(exc, lang), None)
        return
    except PermissionDenied:
        st.session_state[FLASH] = ("error", t("stock.not_allowed", lang), None)
        return
    data.invalidate()
    st.session_state[FLASH] = (
        "success",
        t(
            "stock.undone",
            lang,
            number=undo["number"],
            qty=fmt_int(undo["quantity"]),
            item=names.item(undo["item"]),
            target=names.depot(undo["target"]),
        ),
        None,
    )


def _errors_text(exc: ValidationFailed, lang: str) -> str:
    """A refusal in words; a shortage says what the depot holds."""
    if exc.errors.get("quantity") == "services.error.stock_below_zero" and "stock" in exc.values:
        return t("stock.short_refused", lang, stock=fmt_int(exc.values["stock"]))
    return " ".join(t(m, lang) for m in exc.errors.values())


# --------------------------------------------------------------------------- history


def _history(lang: str, names: sv.Names, focus: int | None) -> None:
    st.subheader(t("stock.history_title", lang))
    depot_options = {ALL: t("stock.all_depots", lang), **names.depots}
    item_options = {
        ALL: t("stock.all_items", lang),
        **dict(sorted(names.items.items(), key=lambda kv: kv[1])),
    }
    kind_options = {"": t("stock.all_kinds", lang), **{k: sv.kind_word(k, lang) for k in KINDS}}
    c1, c2, c3 = st.columns(3)
    depot_id = c1.selectbox(
        t("stock.col_depot", lang),
        list(depot_options),
        index=list(depot_options).index(focus) if focus in depot_options else 0,
        format_func=depot_options.__getitem__,
        key=f"sp_h_depot_{focus or ALL}",
    )
    item_id = c2.selectbox(
        t("stock.col_item", lang),
        list(item_options),
        format_func=item_options.__getitem__,
        key="sp_h_item",
    )
    kind = c3.selectbox(
        t("stock.col_kind", lang),
        list(kind_options),
        format_func=kind_options.__getitem__,
        key="sp_h_kind",
    )
    c4, c5, c6 = st.columns(3)
    since = c4.date_input(t("stock.since", lang), value=None, key="sp_h_since")
    until = c5.date_input(t("stock.until", lang), value=None, key="sp_h_until")
    page_no = int(
        c6.number_input(t("stock.page_no", lang), min_value=1, value=1, step=1, key="sp_h_page")
    )
    limit = sq.HISTORY_LIMIT
    found = data.cached(
        sq.movement_history,
        depot_id=depot_id or None,
        item_id=item_id or None,
        kind=kind or None,
        since=_day_start(since),
        until=_day_start(until, days=1),
        limit=limit,
        offset=(page_no - 1) * limit,
    )
    if found.rows.empty:
        st.info(t("stock.no_movements", lang))
        return
    first = (page_no - 1) * limit + 1
    st.caption(
        t(
            "stock.showing",
            lang,
            first=fmt_int(first),
            last=fmt_int(first + len(found.rows) - 1),
            total=fmt_int(found.total),
        )
    )
    table = sv.history_table(found.rows, names)
    st.dataframe(table, hide_index=True, width="stretch", key="sp_history")
    forms.download_buttons(table, name="stock-movements", lang=lang, key="sp_hist_dl")


def _day_start(day: date | None, days: int = 0) -> datetime | None:
    """Local midnight of `day` (plus `days`), in UTC; None when no day is chosen."""
    if day is None:
        return None
    moment = datetime.combine(day + timedelta(days=days), time(0), tzinfo=get_settings().tz)
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- forms


def _forms(lang: str, actor: Actor, depots: Any, items: Any, names: sv.Names) -> None:
    areas_of = {int(d): int(a) for d, a in zip(depots["depot_id"], depots["area_id"], strict=True)}
    mine = {d: names.depot(d) for d, area in areas_of.items() if actor.may_write_grid(area)}
    st.subheader(t("stock.record_title", lang))
    if not mine:
        st.info(t("stock.no_writable_depots", lang))
        return
    item_choices = dict(sorted(names.items.items(), key=lambda kv: kv[1]))
    receipt, issue, transfer, count = st.tabs(
        [
            t("stock.tab_receipt", lang),
            t("stock.tab_issue", lang),
            t("stock.tab_transfer", lang),
            t("stock.tab_count", lang),
        ]
    )
    with receipt:
        _movement_form(lang, actor, "receipt", mine, item_choices, names)
    with issue:
        _movement_form(lang, actor, "issue", mine, item_choices, names)
    with transfer:
        _transfer_form(lang, actor, mine, item_choices, names)
    with count:
        _count_form(lang, actor, mine, item_choices, names)


def _pick(label: str, options: dict[int, str], key: str, container: Any = st) -> int:
    return int(container.selectbox(label, list(options), format_func=options.__getitem__, key=key))


def _amount(label: str, key: str, container: Any = st) -> int | None:
    value = container.number_input(label, min_value=0, value=None, step=1, key=key)
    return None if value is None else int(value)


def _movement_form(
    lang: str,
    actor: Actor,
    kind: str,
    depots: dict[int, str],
    items: dict[int, str],
    names: sv.Names,
) -> None:
    key = f"sp_{kind}"
    token = forms.form_token(key)
    with st.form(f"{key}_form", clear_on_submit=False):
        top = st.empty()
        depot_id = _pick(t("stock.f_depot", lang), depots, f"{key}_depot")
        depot_error = st.empty()
        item_id = _pick(t("stock.f_item", lang), items, f"{key}_item")
        item_error = st.empty()
        quantity = _amount(t("stock.f_quantity", lang), f"{key}_qty")
        quantity_error = st.empty()
        household = request = None
        household_error = request_error = st.empty()
        if kind == "issue":
            c1, c2 = st.columns(2)
            household = _amount(t("stock.f_household", lang), f"{key}_household", c1)
            request = _amount(t("stock.f_request", lang), f"{key}_request", c2)
            st.caption(t("stock.f_recipient_help", lang))
            household_error, request_error = st.empty(), st.empty()
        note = st.text_input(t("stock.f_note", lang), max_chars=300, key=f"{key}_note")
        note_error = st.empty()
        submitted = st.form_submit_button(t(f"stock.f_save_{kind}", lang), type="primary")
    if not submitted:
        return
    payload: dict[str, Any] = {
        "depot_id": depot_id,
        "item_id": item_id,
        "kind": kind,
        "quantity": quantity,
        "note": note,
        "household_id": household or None,
        "request_id": request or None,
    }
    try:
        with data.session() as s:
            movement = ss.record_stock_movement(
                session=s, data=payload, actor=actor, client_token=token
            )
            after = ss.stock_level(session=s, depot_id=depot_id, item_id=item_id)
    except ValidationFailed as exc:
        top.error(t("stock.fix_below", lang))
        slots = {
            "depot_id": depot_error,
            "item_id": item_error,
            "quantity": quantity_error,
            "household_id": household_error,
            "request_id": request_error,
            "note": note_error,
        }
        _field_errors(exc, slots, top, lang)
        return
    except PermissionDenied:
        top.error(t("stock.not_allowed", lang))
        return
    forms.renew_token(key)
    data.invalidate()
    message = t(
        f"stock.saved_{kind}",
        lang,
        qty=fmt_int(abs(movement.quantity)),
        unit=names.unit(item_id),
        item=names.item(item_id),
        depot=names.depot(depot_id),
        number=movement.id,
        now=fmt_int(after),
    )
    st.session_state[FLASH] = ("success", message, None)
    st.rerun()


def _field_errors(exc: ValidationFailed, slots: dict[str, Any], top: Any, lang: str) -> None:
    """Each message next to its field; a shortage says what the depot holds."""
    errors = dict(exc.errors)
    if errors.get("quantity") == "services.error.stock_below_zero" and "stock" in exc.values:
        slot = slots.get("quantity") or slots.get("counted") or top
        slot.error(t("stock.short_refused", lang, stock=fmt_int(exc.values["stock"])))
        errors.pop("quantity")
    for field, slot in slots.items():
        forms.show_field_error(slot, errors, field, lang)
    rest = forms.other_errors(errors, tuple(slots))
    if rest:
        top.error(" ".join(t(m, lang) for m in rest.values()))


def _transfer_form(
    lang: str, actor: Actor, depots: dict[int, str], items: dict[int, str], names: sv.Names
) -> None:
    key = "sp_transfer"
    token = forms.form_token(key)
    with st.form(f"{key}_form", clear_on_submit=False):
        top = st.empty()
        c1, c2 = st.columns(2)
        source = _pick(t("stock.f_from", lang), depots, f"{key}_from", c1)
        target = _pick(t("stock.f_to", lang), depots, f"{key}_to", c2)
        depot_error = st.empty()
        item_id = _pick(t("stock.f_item", lang), items, f"{key}_item")
        item_error = st.empty()
        quantity = _amount(t("stock.f_quantity", lang), f"{key}_qty")
        quantity_error = st.empty()
        note = st.text_input(t("stock.f_note", lang), max_chars=300, key=f"{key}_note")
        note_error = st.empty()
        submitted = st.form_submit_button(t("stock.f_save_transfer", lang), type="primary")
    if not submitted:
        return
    try:
        with data.session() as s:
            out, _ = ss.transfer_stock(
                session=s,
                item_id=item_id,
                from_depot_id=source,
                to_depot_id=target,
                quantity=quantity if quantity is not None else 0,
                actor=actor,
                note=note,
                client_token=token,
            )
            left = ss.stock_level(session=s, depot_id=source, item_id=item_id)
            now_there = ss.stock_level(session=s, depot_id=target, item_id=item_id)
    except ValidationFailed as exc:
        top.error(t("stock.fix_below", lang))
        slots = {
            "from_depot_id": depot_error,
            "to_depot_id": depot_error,
            "item_id": item_error,
            "quantity": quantity_error,
            "note": note_error,
        }
        _field_errors(exc, slots, top, lang)
        return
    except PermissionDenied:
        top.error(t("stock.not_allowed", lang))
        return
    forms.renew_token(key)
    data.invalidate()
    st.session_state[FLASH] = (
        "success",
        t(
            "stock.transferred",
            lang,
            qty=fmt_int(-out.quantity),
            unit=names.unit(item_id),
            item=names.item(item_id),
            source=names.depot(source),
            target=names.depot(target),
            number=out.id,
            left=fmt_int(left),
            now=fmt_int(now_there),
        ),
        None,
    )
    st.rerun()


def _count_form(
    lang: str, actor: Actor, depots: dict[int, str], items: dict[int, str], names: sv.Names
) -> None:
    key = "sp_count"
    token = forms.form_token(key)
    with st.form(f"{key}_form", clear_on_submit=False):
        top = st.empty()
        depot_id = _pick(t("stock.f_depot", lang), depots, f"{key}_depot")
        depot_error = st.empty()
        item_id = _pick(t("stock.f_item", lang), items, f"{key}_item")
        item_error = st.empty()
        counted = _amount(t("stock.f_counted", lang), f"{key}_counted")
        counted_error = st.empty()
        reason = st.text_input(
            t("stock.f_reason", lang),
            max_chars=300,
            help=t("stock.f_reason_help", lang),
            key=f"{key}_reason",
        )
        reason_error = st.empty()
        submitted = st.form_submit_button(t("stock.f_save_count", lang), type="primary")
    if not submitted:
        return
    try:
        with data.session() as s:
            before = ss.stock_level(session=s, depot_id=depot_id, item_id=item_id)
            movement = ss.count_stock(
                session=s,
                depot_id=depot_id,
                item_id=item_id,
                counted=counted if counted is not None else -1,
                reason=reason,
                actor=actor,
                client_token=token,
            )
    except ValidationFailed as exc:
        top.error(t("stock.fix_below", lang))
        slots = {
            "depot_id": depot_error,
            "item_id": item_error,
            "counted": counted_error,
            "note": reason_error,
        }
        _field_errors(exc, slots, top, lang)
        return
    except PermissionDenied:
        top.error(t("stock.not_allowed", lang))
        return
    forms.renew_token(key)
    data.invalidate()
    params = {
        "item": names.item(item_id),
        "depot": names.depot(depot_id),
        "counted": fmt_int(counted),
        "unit": names.unit(item_id),
    }
    if movement is None:
        message = t("stock.count_matched", lang, **params)
    else:
        message = t(
            "stock.count_adjusted",
            lang,
            **params,
            before=fmt_int(before),
            change=f"{movement.quantity:+d}",
            number=movement.id,
        )
    st.session_state[FLASH] = ("success", message, None)
    st.rerun()


page()
