"""Reading single cells: times, whole numbers, and choices written in English or Chinese.

The parse_* functions return None for what they cannot read; the column parsers at the
end (what an importer's columns declare) raise Invalid with the problem's i18n key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from gridcore.models import (
    WHOLE_MAX,
    WHOLE_MIN,
    HealthStatus,
    SamplingMethod,
    Sex,
    TestResult,
    Vulnerability,
)

# Words accepted for each stored value (the stored value itself is always accepted).
RESULT_WORDS: dict[str, TestResult] = {
    "阴性": TestResult.negative,
    "阳性": TestResult.positive,
    "待出结果": TestResult.pending,
    "无效": TestResult.invalid,
}
METHOD_WORDS: dict[str, SamplingMethod] = {
    "采样点": SamplingMethod.site,
    "上门": SamplingMethod.door_to_door,
    "上门采样": SamplingMethod.door_to_door,
}
SEX_WORDS: dict[str, Sex] = {"女": Sex.female, "男": Sex.male}
HEALTH_WORDS: dict[str, HealthStatus] = {
    "在家": HealthStatus.at_home,
    "住院": HealthStatus.in_hospital,
    "集中隔离": HealthStatus.central_isolation,
    "外出": HealthStatus.away,
}
VULNERABILITY_WORDS: dict[str, Vulnerability] = {
    "独居老人": Vulnerability.elderly_alone,
    "残疾": Vulnerability.disabled,
    "慢性病": Vulnerability.chronic_illness,
    "孕妇": Vulnerability.pregnant,
    "婴幼儿": Vulnerability.infant,
    "卧床": Vulnerability.bedridden,
}
# The years a time in a file may fall in (any other is a mistake, and out of range for
# arithmetic near the ends of the calendar).
MOMENT_YEARS = (1900, 2999)
_TAG_SPLIT = re.compile(r"[,;，；、\s]+")
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})")


def parse_moment(text: str, tz: tzinfo) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (a naive time is local time in `tz`).

    A date alone is not a moment: None, as for anything else that cannot be read.
    """
    value = text.strip()
    if len(value) <= 10:
        return None
    match = _SLASH_DATE.match(value)
    if match:  # 2026/11/16 08:00, as spreadsheets often write it
        year, month, day = match.groups()
        value = f"{year}-{int(month):02d}-{int(day):02d}" + value[match.end() :]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # Years 1 and 9999 overflow when moved to UTC or local time: not a time of this work.
    if not MOMENT_YEARS[0] <= moment.year <= MOMENT_YEARS[1]:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def to_second(moment: datetime) -> datetime:
    """`moment` without its fraction of a second (files keep whole seconds)."""
    return moment.replace(microsecond=0)


def local_text(moment: datetime, tz: tzinfo) -> str:
    """ISO 8601 in local time with its offset, to the second: '2026-11-16T08:00:19+08:00'."""
    return moment.astimezone(tz).isoformat(timespec="seconds")


def parse_whole(text: str) -> int | None:
    """A whole number ('12', ' 12 ', '12.0') a database can store, or None."""
    value = text.strip()
    if value.endswith(".0"):
        value = value[:-2]
    if value.startswith(("+", "-")):
        sign, digits = value[0], value[1:]
    else:
        sign, digits = "", value
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        return None
    number = int(sign + digits)
    # Past 64 bits no column stores it (an id of 9223372036854775808 must not reach the driver).
    return number if WHOLE_MIN <= number <= WHOLE_MAX else None


def parse_result(text: str) -> TestResult | None:
    """A test result from its value or Chinese word; blank is pending; None if unknown."""
    value = text.strip()
    if value == "":
        return TestResult.pending
    if value in RESULT_WORDS:
        return RESULT_WORDS[value]
    try:
        return TestResult(value.lower())
    except ValueError:
        return None


def parse_method(text: str) -> SamplingMethod | None:
    """A sampling method (site / door_to_door, or 采样点 / 上门); blank is site."""
    value = text.strip()
    if value == "":
        return SamplingMethod.site
    if value in METHOD_WORDS:
        return METHOD_WORDS[value]
    try:
        return SamplingMethod(value.lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        return None


def parse_sex(text: str) -> tuple[bool, Sex | None]:
    """(readable, sex): blank is (True, None); an unknown word is (False, None)."""
    value = text.strip()
    if value == "":
        return True, None
    if value in SEX_WORDS:
        return True, SEX_WORDS[value]
    try:
        return True, Sex(value.lower())
    except ValueError:
        return False, None


def parse_health(text: str) -> HealthStatus | None:
    """A health status from its value or Chinese word; blank is at home; None if unknown."""
    value = text.strip()
    if value == "":
        return HealthStatus.at_home
    if value in HEALTH_WORDS:
        return HEALTH_WORDS[value]
    try:
        return HealthStatus(value.lower())
    except ValueError:
        return None


def parse_tags(text: str) -> tuple[list[str], list[str]]:
    """(known tags in the order given, without repeats; unknown words)."""
    known: list[str] = []
    unknown: list[str] = []
    for word in _TAG_SPLIT.split(text.strip()):
        if not word:
            continue
        tag: str | None = None
        if word in VULNERABILITY_WORDS:
            tag = VULNERABILITY_WORDS[word].value
        else:
            try:
                tag = Vulnerability(word.lower()).value
            except ValueError:
                unknown.append(word)
        if tag is not None and tag not in known:
            known.append(tag)
    return known, unknown


# --------------------------------------------------------------------------- column parsers

# A column's parser: the cell's text → its value, or Invalid. Blank cells reach it too
# (unless the column must be filled): it decides what blank means.
Parser = Callable[[str], Any]


class Invalid(Exception):
    """A cell that cannot be read; `key` and `params` say why (i18n)."""

    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key = key
        self.params = params


def text(*, max_length: int | None = None, strip: bool = True, blank: Any = "") -> Parser:
    """A parser of free text: trimmed unless `strip` is False, `blank` when empty."""
    if strip and max_length is None and blank == "":
        return str.strip  # the common case, at C speed: codes and names of things

    def parse(value: str) -> Any:
        if strip:
            value = value.strip()
            if not value:
                return blank
        elif not value.strip():
            return blank
        if max_length is not None and len(value) > max_length:
            raise Invalid("io.problem.too_long", max=max_length)
        return value

    return parse


def ignored(value: str) -> None:
    """The parser of a column written for people and not read back (a resident's name)."""
    return None


def resident_number(value: str) -> int | None:
    """A resident's number in GridCore ('12', '12.0'); None when blank."""
    if not value.strip():
        return None
    number = parse_whole(value)
    if number is None or number <= 0:
        # Not a number at all: no resident has it (the same words as a number not found).
        raise Invalid("io.problem.unknown_resident")
    return number
