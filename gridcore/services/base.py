"""The one write path: authorise → validate → replay check → write → audit, in one transaction.

A service is a few lines of rules inside `write(...)`:

    with write(session, actor=actor, entity="case", action="create", client_token=token) as op:
        if (earlier := op.replayed(Case)) is not None:
            return earlier                      # the same form sent twice: written once
        case_in = validated(CaseCreate, data)   # ValidationFailed: nothing written
        require_grid(actor, case_in.grid_id)    # PermissionDenied: nothing written
        case = Case(**case_in.model_dump())
        session.add(case)
        op.record(case, {"kind": case.kind})    # one audit entry per record, after the flush

The block commits when it ends and rolls back on any error. Validation messages are
catalogue keys (see gridcore/i18n/catalog_services.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import CursorResult, Table, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, SQLModel

from gridcore.access import WRITER_ROLES, Actor, PermissionDenied, require_role
from gridcore.models import (
    WHOLE_MAX,
    WHOLE_MIN,
    AuditEntry,
    DataVersion,
    ReplayKey,
    UserRole,
    utcnow,
)
from gridcore.services.audit import area_of


class ValidationFailed(Exception):
    """Input was rejected; `errors` maps each field to a plain-words message."""

    def __init__(self, errors: dict[str, str], values: Mapping[str, Any] | None = None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        # The rejected values, for a message that names them (the command line shows them).
        self.values = dict(values or {})


def audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any = None,
    changes: dict[str, Any] | None = None,
    area_id: int | None = None,
) -> None:
    """Write an audit entry in the session's transaction (committed with the write it
    describes)."""
    text = json.dumps({k: plain(v) for k, v in (changes or {}).items()}, ensure_ascii=False)
    entry = {
        "at": utcnow(),
        "username": actor.username,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "area_id": area_id,
        "changes": text,
    }
    session.connection().execute(_ADD_AUDIT, entry)


_AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]
_ADD_AUDIT = insert(_AUDIT)  # built once, as the write path's other statements


# The audit action of a write refused for want of a role or a grid.
REFUSED = "refused"

M = TypeVar("M", bound=SQLModel)
E = TypeVar("E", bound=StrEnum)

_PYDANTIC_KEYS: dict[str, str] = {
    "missing": "services.error.required",
    "string_too_short": "services.error.required",
    "string_too_long": "services.error.too_long",
    "string_type": "services.error.invalid_value",
    "int_parsing": "services.error.not_a_whole_number",
    "int_type": "services.error.not_a_whole_number",
    "int_from_float": "services.error.not_a_whole_number",
    "float_parsing": "services.error.not_a_number",
    "float_type": "services.error.not_a_number",
    "greater_than": "services.error.too_small",
    "greater_than_equal": "services.error.too_small",
    "less_than": "services.error.too_large",
    "less_than_equal": "services.error.too_large",
    "enum": "services.error.invalid_choice",
    "bool_parsing": "services.error.not_true_or_false",
    "bool_type": "services.error.not_true_or_false",
    "list_type": "services.error.not_a_list",
    "date_parsing": "services.error.not_a_date",
    "date_type": "services.error.not_a_date",
    "date_from_datetime_parsing": "services.error.not_a_date",
    "date_from_datetime_inexact": "services.error.not_a_date",
    "datetime_parsing": "services.error.not_a_datetime",
    "datetime_type": "services.error.not_a_datetime",
    "datetime_from_date_parsing": "services.error.not_a_datetime",
}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def validated(model: type[M], data: SQLModel | Mapping[str, Any]) -> M:
    """`data` checked by `model` (table models do not validate); else ValidationFailed."""
    raw = data.model_dump() if isinstance(data, SQLModel) else dict(data)
    try:
        checked = model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed({**error_keys(exc), **_nul_errors(raw)}) from None
    if nul := _nul_errors(raw):
        raise ValidationFailed(nul)
    if too_large := _range_errors(checked):
        raise ValidationFailed(too_large)
    return checked


def _out_of_range(value: Any) -> str | None:
    """The message key for a whole number past 64 bits (in a list or a part too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value > WHOLE_MAX:
            return "services.error.too_large"
        return "services.error.too_small" if value < WHOLE_MIN else None
    if isinstance(value, SQLModel):
        value = [getattr(value, name, None) for name in type(value).model_fields]
    elif isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return next((found for v in value if (found := _out_of_range(v))), None)
    return None


def _range_errors(checked: SQLModel) -> dict[str, str]:
    """Fields holding a whole number no database column can store (an id typed as 10**20
    would otherwise reach the driver and fail there, not as a message)."""
    found = {
        name: _out_of_range(getattr(checked, name, None)) for name in type(checked).model_fields
    }
    return {name: key for name, key in found.items() if key}


def _nul_errors(raw: Mapping[str, Any]) -> dict[str, str]:
    """Fields whose text holds a NUL byte (PostgreSQL refuses it; no form means it)."""
    return {
        name: "services.error.nul_byte"
        for name, value in raw.items()
        if isinstance(value, str) and "\x00" in value
    }


def error_keys(exc: ValidationError) -> dict[str, str]:
    """Field → catalogue key for each pydantic error (the first error of a field wins)."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = err.get("loc") or ("form",)
        name = str(loc[0])
        key = _PYDANTIC_KEYS.get(err["type"])
        if name == "vulnerability" and err["type"] in ("value_error", "enum"):
            key = "services.error.vulnerability_unknown"
        errors.setdefault(name, key or "services.error.invalid_value")
    return errors


def choice(enum: type[E], value: Any, name: str) -> E:
    """`value` as a member of `enum`; else ValidationFailed on the field `name`."""
    try:
        return enum(value)
    except ValueError:
        raise ValidationFailed({name: "services.error.invalid_choice"}) from None


def check_client_token(client_token: str | None) -> None:
    """Reject a malformed client token (letters, digits, '-' and '_', 8 to 64 characters)."""
    if client_token is not None and not _TOKEN.match(client_token):
        raise ValidationFailed({"client_token": "services.error.client_token_invalid"})


@dataclass
class _Entry:
    action: str
    entity: str
    row: Any
    changes: dict[str, Any]
    area_id: int | None = None


_REPLAY_KEYS: Table = ReplayKey.__table__  # type: ignore[attr-defined]
# The statements of every write, built once (a write only binds its values).
_STORED_KEY = select(_REPLAY_KEYS.c.id, _REPLAY_KEYS.c.entity_id).where(
    _REPLAY_KEYS.c.username == bindparam("username"),
    _REPLAY_KEYS.c.client_token == bindparam("client_token"),
)
_TAKE_KEY = insert(_REPLAY_KEYS)
_POINT_KEY = (
    update(_REPLAY_KEYS)
    .where(_REPLAY_KEYS.c.id == bindparam("key_id"))
    .values(entity_id=bindparam("entity_id"))
)


@dataclass
class Write:
    """One write in progress: the earlier result of a replayed form, and what to audit."""

    session: Session
    actor: Actor
    entity: str
    action: str
    client_token: str | None = None
    replayed_id: str | None = None
    _key: int | None = None  # the id of the replay key this write holds
    _key_points_at: str | None = None  # the row the key names already
    _held: bool = False  # another submission holds the client token (see _look_up)
    _claim_late: bool = False
    _entries: list[_Entry] = field(default_factory=list)

    def replayed(self, model: type[M]) -> M | None:
        """The row an earlier submission of the same form wrote, or None."""
        if self.replayed_id is None:
            return None
        return self.session.get(model, int(self.replayed_id))

    def record(
        self,
        row: Any,
        changes: Mapping[str, Any] | None = None,
        *,
        entity: str | None = None,
        action: str | None = None,
        area_id: int | None = None,
    ) -> None:
        """Audit a change of `row` (a table row, or its id) once the block has written it.

        The entry's area is the row's (its grid, its depot's area, …: services.audit), or
        `area_id` for an entry that stands for several rows or none.
        """
        if self.replayed_id is not None:
            raise RuntimeError("a replayed write must return the earlier result, not write")
        self._entries.append(
            _Entry(action or self.action, entity or self.entity, row, dict(changes or {}), area_id)
        )

    def claim(self, first_id: Any = None) -> None:
        """Take the client token now, in a write opened with `claim_late`: after the checks,
        as it writes, pointing at the write's first row when that is written (`first_id`).
        When another submission of the same form took it since the write began, the write
        is rolled back and `replayed` gives that submission's row."""
        if not self._claim_late:
            raise RuntimeError("the client token was taken when the write began")
        if self.client_token is not None and not self._held and self._key is None:
            self._take(first_id)
            if self._held and self.replayed_id is None:
                # Taken meanwhile by a write that named no row: nothing to give back, and
                # this write's rows are rolled back.
                raise RuntimeError("the client token was taken meanwhile by another write")

    def conflicted(self) -> None:
        """After a unique key refused a row of this write: roll back, and learn whether the
        same form, sent twice at once, wrote it first (`replayed` then gives its row)."""
        self.session.rollback()
        if self.client_token is not None:
            self._look_up()

    def _claim(self) -> None:
        """Take the client token; when a submission already holds it, remember what it wrote."""
        if not self._look_up():
            self._take(None)

    def _take(self, first_id: Any) -> None:
        """Store the client token (nobody held it a moment ago)."""
        self._key_points_at = None if first_id is None else str(first_id)
        values = {
            "username": self.actor.username,
            "client_token": self.client_token or "",
            "entity": self.entity,
            "entity_id": self._key_points_at,
            "at": utcnow(),
        }
        try:
            taken = self.session.connection().execute(_TAKE_KEY, values)
        except IntegrityError:
            # The same form, sent twice at once: the other submission has committed it.
            self.session.rollback()
            if not self._look_up():
                raise
            return
        self._key = inserted_id(taken)

    def _look_up(self) -> bool:
        """Whether a submission already holds the client token (then `replayed_id` is its row)."""
        found = (
            self.session.connection()
            .execute(
                _STORED_KEY,
                {"username": self.actor.username, "client_token": self.client_token},
            )
            .first()
        )
        if found is None:
            return False
        self._held = True
        self.replayed_id = found.entity_id
        return True

    def _finish(self) -> None:
        """Flush the rows, then add one audit entry each and point the token at the first."""
        if self.replayed_id is not None:
            return
        if self._claim_late and self.client_token is not None and not self._held and not self._key:
            raise RuntimeError("a write opened with claim_late must claim its token to write")
        self.session.flush()
        ids = [_id_of(entry.row) for entry in self._entries]
        for entry, entity_id in zip(self._entries, ids, strict=True):
            audit(
                self.session,
                actor=self.actor,
                action=entry.action,
                entity=entry.entity,
                entity_id=entity_id,
                changes=entry.changes,
                area_id=(
                    entry.area_id
                    if entry.area_id is not None
                    else area_of(
                        self.session, entry.entity, entry.row, entry.changes, action=entry.action
                    )
                ),
            )
        first = None if not ids or ids[0] is None else str(ids[0])
        if self._key is not None and first != self._key_points_at:
            self.session.connection().execute(_POINT_KEY, {"key_id": self._key, "entity_id": first})


_DEPTH = "gridcore.write_depth"  # session.info: how many writes are open on the session


def _id_of(row: Any) -> Any:
    """The id of a written row, or `row` itself when it is already an id (or None)."""
    return getattr(row, "id", row) if not isinstance(row, (int, str)) else row


@contextmanager
def write(
    session: Session,
    *,
    actor: Actor,
    entity: str,
    action: str = "update",
    roles: tuple[UserRole, ...] = WRITER_ROLES,
    client_token: str | None = None,
    claim_late: bool = False,
) -> Iterator[Write]:
    """The one write path (see the module's docstring): one transaction, committed at the end.

    The role is checked before any input is looked at; a client token (from a form) makes a
    second submission of the same form return the first one's row (`Write.replayed`).
    The token is taken as the write begins; with `claim_late` it is only looked up then,
    and the block takes it with `Write.claim()` once its checks are done, as it writes (on
    SQLite a transaction's first write takes the database's write lock: the lock is then
    held for the writing only). A block that writes its row before it claims the token
    calls `Write.conflicted()` when a unique key refuses the row: the same form, sent
    twice at once, is then told from another form that wrote the same thing.
    A refusal (PermissionDenied) writes nothing of the write, and is itself audited: one
    entry with action "refused", committed on its own.
    """
    # A write made inside another (a delivery issuing stock) is part of the outer transaction:
    # it audits its rows, and the outer write commits or rolls back (and audits a refusal).
    outer = session.info.get(_DEPTH, 0)
    try:
        require_role(actor, *roles)
    except PermissionDenied as exc:
        if not outer:
            session.rollback()
            _audit_refusal(session, actor=actor, entity=entity, action=action, reason=exc)
        raise
    check_client_token(client_token)
    op = Write(
        session=session,
        actor=actor,
        entity=entity,
        action=action,
        client_token=client_token,
        _claim_late=claim_late,
    )
    session.info[_DEPTH] = outer + 1
    try:
        if client_token is not None:
            if claim_late:
                op._look_up()
            else:
                op._claim()
        yield op
        op._finish()
        if not outer:
            if op.replayed_id is None:
                bump_data_version(session)
            session.commit()
    except PermissionDenied as exc:
        if not outer:
            session.rollback()
            _audit_refusal(session, actor=actor, entity=entity, action=action, reason=exc)
        raise
    except BaseException:
        if not outer:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = outer


def _audit_refusal(
    session: Session, *, actor: Actor, entity: str, action: str, reason: PermissionDenied
) -> None:
    """Record that `actor` was refused (in a transaction of its own, after the rollback)."""
    audit(
        session,
        actor=actor,
        action=REFUSED,
        entity=entity,
        changes={"attempted": action, "reason": str(reason)},
    )
    session.commit()


def bump_data_version(session: Session) -> None:
    """Raise the data version in the transaction about to commit (see models.DataVersion).

    The last statement before the commit, so that the row's lock is held for the shortest
    time: concurrent writes queue on it only for their commit. The rows still pending in
    the session are written first, for the same reason.
    """
    session.flush()
    session.connection().execute(_BUMP)


_VERSIONS: Table = DataVersion.__table__  # type: ignore[attr-defined]
_BUMP = update(_VERSIONS).where(_VERSIONS.c.id == 1).values(version=_VERSIONS.c.version + 1)


# --------------------------------------------------------------------------- a busy database


class WriteBusy(Exception):
    """The database stayed busy (locked) through every attempt: nothing was written, and the
    same call may simply be tried again. `key` is the message to show (i18n)."""

    key = "services.error.busy"

    def __init__(self, attempts: int):
        super().__init__(f"the database stayed busy through {attempts} attempts; nothing written")
        self.attempts = attempts


# SQLite: another connection holds the write lock past the busy timeout. PostgreSQL: a
# serialization failure, a deadlock, or a lock not available at once — all retryable.
_BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")
WRITE_ATTEMPTS = 3
RETRY_PAUSE = 0.25  # seconds before the second attempt, doubled before each later one

R = TypeVar("R")


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` says the database was busy, so that the same write may succeed later."""
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    if state in _BUSY_SQLSTATES:
        return True
    return any(words in str(exc.orig).lower() for words in _BUSY_WORDS)


def retrying(
    call: Callable[[], R],
    *,
    session: Session | None = None,
    attempts: int = WRITE_ATTEMPTS,
    pause: float = RETRY_PAUSE,
    on_retry: Callable[[int], None] | None = None,
) -> R:
    """`call()` (one service write), tried again while the database is busy; then WriteBusy.

    Each attempt is a whole transaction (`write` rolls back a failed one), so a retried
    write is written once or not at all; a form's client token makes it safe even when the
    first attempt's commit did reach the database. `on_retry(n)` is told of each retry.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except DBAPIError as exc:
            if not is_busy(exc):
                raise
            if session is not None:
                session.rollback()
            if attempt == attempts:
                raise WriteBusy(attempts) from exc
            if on_retry is not None:
                on_retry(attempt)
            time.sleep(pause * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row that an INSERT statement (run on the connection) wrote."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("the insert gave no primary key")
    return int(key[0])


def plain(value: Any) -> Any:
    """`value` as JSON can hold it: an enumeration's value, a date's ISO text, a list."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value
