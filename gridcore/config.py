"""One typed settings object, read from the environment, with a safe embedded default."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from gridcore.i18n import t

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'gridcore.db'}"
# GRIDCORE_MAP_RENDERER: how maps are drawn (Settings.map_renderer).
MAP_RENDERERS = ("auto", "webgl", "light")


class ConfigError(ValueError):
    """A setting in the environment cannot be used; the message says which and why.

    `key` and `params` give the message in any language (`text`); str() is the English one.
    """

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        """The message in `lang`."""
        params = dict(self.params)
        if "unit" in params:
            params["unit"] = t(f"config.unit.{params['unit']}", lang)
        return t(self.key, lang, **params)


def _stored_secret_key() -> str:
    """The key kept in data/.secret_key, made on first use (one server, no key configured)."""
    path = DATA_DIR / ".secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    if not write_private(path, key.encode(), replace=False):
        # Another process made the key first: every process uses that one.
        return path.read_text().strip()
    return key


def write_private(path: Path, content: bytes, *, replace: bool = True) -> bool:
    """Write `path` readable by this account only (0600 from the moment it exists).

    The file is made under a temporary name with mode 0600 and moved into place, so no
    other account can open it at any moment, nor anyone read a half-written copy. With
    `replace=False` an existing `path` is kept and False returned.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


def private_umask() -> int:
    """Make every file this process creates from now on 0600 (directories 0700).

    The database, its write-ahead log, exports and backups hold residents' personal data.
    Returns the previous mask.
    """
    return os.umask(0o077)


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
    # How maps are drawn: "auto" (deck.gl WebGL, or the light SVG map where the browser's WebGL
    # is software-rendered), "webgl" always, or "light" always.
    map_renderer: str = "auto"
    # GRIDCORE_SECRET_KEY; empty means the key kept in data/, read or made on first use.
    configured_secret_key: str = field(default="", repr=False)
    # Sign-in sessions: ended after this long without a page run, and this long after sign-in.
    session_idle_minutes: int = 12 * 60
    session_max_minutes: int = 24 * 60
    # Failed sign-ins (per account and per client address) before a growing wait is imposed,
    # before a lockout, and how long a lockout lasts (also the window failures are counted in).
    signin_free_failures: int = 5
    signin_lockout_failures: int = 10
    signin_lockout_minutes: int = 15
    # GRIDCORE_DEMO_ACCOUNTS=off: the demo accounts (public password) cannot sign in.
    demo_accounts: bool = True
    # GRIDCORE_SECURE_COOKIE=on behind HTTPS: the session cookie is sent over HTTPS only.
    secure_cookie: bool = False

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


def _int(name: str, default: int, minimum: int, unit: str = "seconds") -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError("config.whole_number", name=name, unit=unit, raw=repr(raw)) from None
    if value < minimum:
        raise ConfigError("config.at_least", name=name, minimum=minimum, value=value)
    return value


def _switch(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "on", "yes", "true"):
        return True
    if raw in ("0", "off", "no", "false"):
        return False
    raise ConfigError("config.on_or_off", name=name, raw=repr(raw))


def _check_sqlite_folder(url: str) -> None:
    """A SQLite file outside data/ must be in a folder that exists (a typo is not a new one)."""
    database = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    database = database.removeprefix("file:")  # an SQLite URI ("file:/srv/x.db?mode=ro")
    if not database or database == ":memory:":
        return
    folder = Path(database).parent
    if folder != DATA_DIR and not folder.is_dir():
        raise ConfigError("config.database_folder", folder=repr(str(folder)))


def _check_url_form(url: str) -> None:
    """A URL that names a known driver and, if any, a port from 1 to 65535 (a typo such as
    ':54321x' or a missing '@' is said here, not as a traceback at the first page)."""
    try:
        parsed = make_url(url)
        parsed.get_dialect()
        port = parsed.port
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError("config.database_malformed", detail=detail) from None
    if port is not None and not 0 < port < 65536:
        raise ConfigError("config.database_malformed", detail=f"port {port}")


def load_settings() -> Settings:
    """Read the settings from the environment; raise ConfigError with a plain message."""
    url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError("config.database_scheme", scheme=repr(url.split(":", 1)[0]))
    if url.startswith("sqlite"):
        _check_sqlite_folder(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    _check_url_form(url)
    tz_name = os.environ.get("GRIDCORE_TIMEZONE", "Asia/Shanghai")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("config.timezone", name=repr(tz_name)) from None
    datum = os.environ.get("GRIDCORE_BASEMAP_DATUM", "wgs84").lower()
    if datum not in ("wgs84", "gcj02"):
        raise ConfigError("config.datum")
    renderer = os.environ.get("GRIDCORE_MAP_RENDERER", "auto").strip().lower()
    if renderer not in MAP_RENDERERS:
        raise ConfigError("config.map_renderer")
    return Settings(
        database_url=url,
        timezone_name=tz_name,
        refresh_seconds=_int("GRIDCORE_REFRESH_SECONDS", 30, 2),
        kiosk_rotate_seconds=_int("GRIDCORE_KIOSK_ROTATE_SECONDS", 20, 5),
        basemap_url=os.environ.get("GRIDCORE_BASEMAP_URL", "").strip(),
        basemap_datum=datum,
        map_renderer=renderer,
        configured_secret_key=os.environ.get("GRIDCORE_SECRET_KEY", "").strip(),
        session_idle_minutes=_int("GRIDCORE_SESSION_IDLE_MINUTES", 12 * 60, 1, "minutes"),
        session_max_minutes=_int("GRIDCORE_SESSION_MAX_MINUTES", 24 * 60, 1, "minutes"),
        signin_free_failures=_int("GRIDCORE_SIGNIN_FREE_FAILURES", 5, 1, "attempts"),
        signin_lockout_failures=_int("GRIDCORE_SIGNIN_LOCKOUT_FAILURES", 10, 2, "attempts"),
        signin_lockout_minutes=_int("GRIDCORE_SIGNIN_LOCKOUT_MINUTES", 15, 1, "minutes"),
        demo_accounts=_switch("GRIDCORE_DEMO_ACCOUNTS", True),
        secure_cookie=_switch("GRIDCORE_SECURE_COOKIE", False),
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
