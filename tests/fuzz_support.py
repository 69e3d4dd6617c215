"""What the property-based tests (tests/test_fuzz_*.py) share: the nasty values and a
digest of the whole database.

How many examples Hypothesis tries is set by the profile chosen in tests/conftest.py
(GRIDCORE_HYPOTHESIS_PROFILE, see README: Tests).
"""

from __future__ import annotations

import hashlib
from datetime import date

from hypothesis import strategies as st
from sqlmodel import Session, SQLModel

from gridcore.models import AuditEntry

# Texts that broke, or could break, a reader, a parser, a page or a spreadsheet.
NASTY_TEXTS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "a\x00b",
    '=HYPERLINK("http://evil.example/x","click")',
    "=1+1",
    "+86 139 0000 1234",
    "-5",
    "@SUM(A1)",
    "'=cmd|' /C calc'!A0",
    "![x](http://evil.example/p.png)",
    "**bold** <script>alert(1)</script>",
    "[link](javascript:alert(1))",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31 23:59:59",
    "0000-00-00",
    "2026-02-30",
    "1/1/1",
    "31/12/9999",
    "2026年3月21日",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-0",
    "99999999999999999999999",
    "-99999999999999999999999",
    "0x10",
    "١٢٣",  # Arabic-Indic digits: int() accepts them
    "１２３",  # full-width digits
    "121.47,31.23",
    "31.23",
    "121.47",
    "-181",
    "91",
    "4486000.5",  # a projected (metre) coordinate among degrees
    "POINT(121.47 31.23)",
    '{"type": "Point"}',
    "[]",
    "null",
    "None",
    "TRUE",
    "未知地区",
    "Nowhere Street 99",
    "\ufeffname",
    "\u202eevil",
    "x" * 2001,
    "长" * 4001,
    "\r\n",
    "a\nb",
    '"',
    ";",
    "\t",
)
# Years from 1 to 9999 in the forms a spreadsheet or a person writes them.
DAY_TEXTS = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).flatmap(
    lambda d: st.sampled_from(
        [
            d.isoformat(),
            f"{d.isoformat()} 23:59",
            f"{d.isoformat()}T00:00:00+14:00",
            f"{d.year}/{d.month}/{d.day}",
            f"{d.day}/{d.month}/{d.year}",
            f"{d.year}年{d.month}月{d.day}日",
        ]
    )
)
NUMBER_TEXTS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
NASTY = st.one_of(
    st.sampled_from(NASTY_TEXTS),
    DAY_TEXTS,
    NUMBER_TEXTS,
    st.text(max_size=12),
)


def digest(session: Session) -> str:
    """Every row of every table, hashed: equal before and after means nothing was written.

    A refused write's own audit entry (action "refused", written by design) is left out.
    Read through the driver, in storage order (no type conversions: fast enough per example).
    """
    session.rollback()
    connection = session.connection().connection.driver_connection
    assert connection is not None
    hashed = hashlib.sha256()
    for table in SQLModel.metadata.sorted_tables:
        where = " WHERE action != 'refused'" if table.name == AuditEntry.__tablename__ else ""
        rows = connection.execute(f'SELECT * FROM "{table.name}"{where}').fetchall()
        hashed.update(f"{table.name}:{len(rows)}:{rows!r}".encode())
    session.rollback()
    return hashed.hexdigest()
