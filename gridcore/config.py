"""One typed settings object, read from the environment, with a safe embedded default."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cached_property, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'gridcore.db'}"


class ConfigError(ValueError):
    """A setting in the environment cannot be used; the message says which and why."""


def _stored_secret_key() -> str:
    """The key kept in data/.secret_key, made on first use (one server, no key configured)."""
    path = DATA_DIR / ".secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    """Deployment settings (policy rules live in the database, not here)."""

    database_url: str = DEFAULT_DATABASE_URL
    timezone_name: str = "Asia/Shanghai"
    refresh_seconds: int = 30
    kiosk_rotate_seconds: int = 20
    # XYZ tile URL template for a base map; empty means no base map (works offline).
    basemap_url: str = ""
    # "wgs84" or "gcj02": the datum of the tiles at basemap_url.
    basemap_datum: str = "wgs84"
    # GRIDCORE_SECRET_KEY; empty means the key kept in data/, read or made on first use.
    configured_secret_key: str = field(default="", repr=False)

    @property
    def tz(self) -> tzinfo:
        """The deployment's time zone (the calendar day that dashboards count by)."""
        return ZoneInfo(self.timezone_name)

    @cached_property
    def secret_key(self) -> str:
        """The key that signs kiosk links: GRIDCORE_SECRET_KEY, else one kept in data/."""
        return self.configured_secret_key or _stored_secret_key()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _check_sqlite_folder(url: str) -> None:
    """A SQLite file outside data/ must be in a folder that exists (a typo is not a new one)."""
    database = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    if not database or database == ":memory:":
        return
    folder = Path(database).parent
    if folder != DATA_DIR and not folder.is_dir():
        raise ConfigError(
            f"DATABASE_URL names the folder {str(folder)!r}, which does not exist "
            "(check the path, or create the folder first)"
        )


def load_settings() -> Settings:
    """Read the settings from the environment; raise ConfigError with a plain message."""
    url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(
            "DATABASE_URL must start with sqlite:/// or postgresql+psycopg:// "
            f"(got {url.split(':', 1)[0]!r})"
        )
    if url.startswith("sqlite"):
        _check_sqlite_folder(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    tz_name = os.environ.get("GRIDCORE_TIMEZONE", "Asia/Shanghai")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"GRIDCORE_TIMEZONE {tz_name!r} is not a known time zone") from None
    datum = os.environ.get("GRIDCORE_BASEMAP_DATUM", "wgs84").lower()
    if datum not in ("wgs84", "gcj02"):
        raise ConfigError("GRIDCORE_BASEMAP_DATUM must be wgs84 or gcj02")
    return Settings(
        database_url=url,
        timezone_name=tz_name,
        refresh_seconds=_int("GRIDCORE_REFRESH_SECONDS", 30, 2),
        kiosk_rotate_seconds=_int("GRIDCORE_KIOSK_ROTATE_SECONDS", 20, 5),
        basemap_url=os.environ.get("GRIDCORE_BASEMAP_URL", "").strip(),
        basemap_datum=datum,
        configured_secret_key=os.environ.get("GRIDCORE_SECRET_KEY", "").strip(),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()


def local_now(settings: Settings | None = None) -> datetime:
    """Now, in the deployment's time zone."""
    tz = (settings or get_settings()).tz
    return datetime.now(UTC).astimezone(tz)


def local_today(settings: Settings | None = None) -> date:
    """Today's calendar day in the deployment's time zone."""
    return local_now(settings).date()


def day_bounds_utc(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
