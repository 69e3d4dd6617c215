"""Settings from the environment: safe defaults, and plain messages for bad values."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridcore import config
from gridcore.config import (
    DEFAULT_DATABASE_URL,
    ConfigError,
    day_bounds_utc,
    get_settings,
    load_settings,
)

VARIABLES = (
    "DATABASE_URL",
    "GRIDCORE_TIMEZONE",
    "GRIDCORE_REFRESH_SECONDS",
    "GRIDCORE_KIOSK_ROTATE_SECONDS",
    "GRIDCORE_BASEMAP_URL",
    "GRIDCORE_BASEMAP_DATUM",
    "GRIDCORE_SECRET_KEY",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No GridCore variable set, and data/ moved to a temporary folder."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL.startswith("sqlite:///")
    assert DEFAULT_DATABASE_URL.endswith("/data/gridcore.db")
    assert settings.is_sqlite
    assert settings.timezone_name == "Asia/Shanghai"
    assert settings.tz == ZoneInfo("Asia/Shanghai")
    assert settings.refresh_seconds == 30
    assert settings.kiosk_rotate_seconds == 20
    assert settings.basemap_url == ""
    assert settings.basemap_datum == "wgs84"


def test_the_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = load_settings().secret_key
    key_file = tmp_path / "data" / ".secret_key"
    assert len(first) >= 32
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings().secret_key == first
    assert first not in repr(load_settings())


def test_the_secret_key_from_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GRIDCORE_SECRET_KEY", "shared-by-every-replica")
    assert load_settings().secret_key == "shared-by-every-replica"
    assert not (tmp_path / "data" / ".secret_key").exists()


def test_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"  sqlite:///{tmp_path}/live.db ")
    assert load_settings().database_url == f"sqlite:///{tmp_path}/live.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://grid@db.local/gridcore")
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://grid@db.local/gridcore"
    assert not settings.is_sqlite


def test_a_plain_postgresql_url_uses_psycopg_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://grid@db.local/gridcore")
    assert load_settings().database_url == "postgresql+psycopg://grid@db.local/gridcore"


@pytest.mark.parametrize(
    "url, scheme",
    [("mysql://root@localhost/grid", "'mysql'"), ("data/gridcore.db", "'data/gridcore.db'")],
)
def test_a_bad_database_url_is_refused_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, url: str, scheme: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "DATABASE_URL" in message
    assert "sqlite:///" in message and "postgresql+psycopg://" in message
    assert scheme in message


def test_a_mistyped_sqlite_folder_is_named_and_nothing_is_made(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gridcore.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_settings()
    assert f"{tmp_path}/no/such/dir" in str(info.value)
    monkeypatch.setenv("GRIDCORE_LANGUAGE", "en")
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    assert "no/such/dir" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no folder, no empty database


def test_a_bad_url_reaches_get_settings_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "oracle://x")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        get_settings()


@pytest.mark.parametrize(
    "value, words",
    [
        ("soon", ["GRIDCORE_REFRESH_SECONDS", "whole number", "'soon'"]),
        ("2.5", ["GRIDCORE_REFRESH_SECONDS", "whole number"]),
        ("1", ["GRIDCORE_REFRESH_SECONDS", "at least 2"]),
        ("-30", ["GRIDCORE_REFRESH_SECONDS", "at least 2"]),
    ],
)
def test_a_bad_refresh_interval_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, words: list[str]
) -> None:
    monkeypatch.setenv("GRIDCORE_REFRESH_SECONDS", value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    for word in words:
        assert word in str(info.value)


def test_refresh_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDCORE_REFRESH_SECONDS", "5")
    monkeypatch.setenv("GRIDCORE_KIOSK_ROTATE_SECONDS", "")
    settings = load_settings()
    assert settings.refresh_seconds == 5
    assert settings.kiosk_rotate_seconds == 20


def test_a_bad_kiosk_rotation_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDCORE_KIOSK_ROTATE_SECONDS", "1")
    with pytest.raises(ConfigError, match="GRIDCORE_KIOSK_ROTATE_SECONDS must be at least 5"):
        load_settings()


def test_a_bad_time_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDCORE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="GRIDCORE_TIMEZONE 'Mars/Olympus'"):
        load_settings()


def test_basemap_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDCORE_BASEMAP_URL", " http://tiles.local/{z}/{x}/{y}.png ")
    monkeypatch.setenv("GRIDCORE_BASEMAP_DATUM", "GCJ02")
    settings = load_settings()
    assert settings.basemap_url == "http://tiles.local/{z}/{x}/{y}.png"
    assert settings.basemap_datum == "gcj02"
    monkeypatch.setenv("GRIDCORE_BASEMAP_DATUM", "bd09")
    with pytest.raises(ConfigError, match="GRIDCORE_BASEMAP_DATUM"):
        load_settings()


def test_the_map_renderer_is_auto_webgl_or_light(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().map_renderer == "auto"
    monkeypatch.setenv("GRIDCORE_MAP_RENDERER", " Light ")
    assert load_settings().map_renderer == "light"
    monkeypatch.setenv("GRIDCORE_MAP_RENDERER", "canvas")
    with pytest.raises(ConfigError, match="GRIDCORE_MAP_RENDERER"):
        load_settings()


def test_get_settings_is_read_once_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDCORE_REFRESH_SECONDS", "10")
    assert get_settings().refresh_seconds == 10
    monkeypatch.setenv("GRIDCORE_REFRESH_SECONDS", "20")
    assert get_settings().refresh_seconds == 10
    get_settings.cache_clear()
    assert get_settings().refresh_seconds == 20


def test_a_shanghai_day_in_utc() -> None:
    start, end = day_bounds_utc(date(2026, 3, 21), ZoneInfo("Asia/Shanghai"))
    assert start == datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 21, 16, 0, tzinfo=UTC)


def test_local_today_follows_the_configured_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDCORE_TIMEZONE", "Pacific/Kiritimati")  # UTC+14
    ahead = load_settings()
    monkeypatch.setenv("GRIDCORE_TIMEZONE", "Pacific/Pago_Pago")  # UTC-11
    behind = load_settings()
    assert (config.local_today(ahead) - config.local_today(behind)).days in (1, 2)
    assert config.local_now(ahead).utcoffset().total_seconds() == 14 * 3600


# --------------------------------------------------------------------------- nothing at import


def test_importing_every_module_reads_no_setting_and_writes_nothing(tmp_path: Path) -> None:
    """A bad setting must reach the app's own message, not fail while modules are imported."""
    import os
    import subprocess
    import sys

    script = """
import importlib, pathlib, sys
import gridcore
from gridcore import config
root = pathlib.Path(gridcore.__file__).parent
for path in sorted(root.rglob("*.py")):
    if "migrations" in path.parts or path.name == "__main__.py":
        continue
    importlib.import_module(".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"))
assert config.get_settings.cache_info().currsize == 0, "settings were read on import"
import gridcore.services.access as access
assert access.password_hasher.cache_info().currsize == 0, "a password was hashed on import"
print("ok")
"""
    env = {**os.environ, "GRIDCORE_REFRESH_SECONDS": "often"}
    env.pop("GRIDCORE_SECRET_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_bad_setting_is_named_by_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gridcore.cli import main

    monkeypatch.setenv("GRIDCORE_REFRESH_SECONDS", "often")
    monkeypatch.setenv("GRIDCORE_LANGUAGE", "en")
    assert main(["users", "list"]) == 2
    err = capsys.readouterr().err
    assert "GRIDCORE_REFRESH_SECONDS" in err
    assert "'often'" in err
    assert "Traceback" not in err


def test_a_bad_setting_is_named_by_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GRIDCORE_REFRESH_SECONDS", "often")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"))
    at.run(timeout=60)
    assert not at.exception
    assert [e.value for e in at.error] == ["GridCore cannot start: one of its settings is wrong."]
    assert [x.value for x in at.text] == [
        "GRIDCORE_REFRESH_SECONDS must be a whole number of seconds, not 'often'"
    ]
