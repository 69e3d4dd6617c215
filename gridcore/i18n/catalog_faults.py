"""Settings that cannot be used, and a database that cannot be reached or written (en, zh)."""

from __future__ import annotations

EN: dict[str, str] = {
    "config.database_scheme": (
        "DATABASE_URL must start with sqlite:/// or postgresql+psycopg:// (got {scheme})"
    ),
    "config.database_folder": (
        "DATABASE_URL names the folder {folder}, which does not exist "
        "(check the path, or create the folder first)"
    ),
    "config.database_malformed": (
        "DATABASE_URL is not a database address GridCore can read ({detail}); for example "
        "postgresql+psycopg://user:password@host:5432/gridcore or sqlite:////srv/gridcore.db"
    ),
    "config.whole_number": "{name} must be a whole number of {unit}, not {raw}",
    "config.at_least": "{name} must be at least {minimum}, not {value}",
    "config.on_or_off": "{name} must be on or off, not {raw}",
    "config.timezone": "GRIDCORE_TIMEZONE {name} is not a known time zone",
    "config.datum": "GRIDCORE_BASEMAP_DATUM must be wgs84 or gcj02",
    "config.map_renderer": "GRIDCORE_MAP_RENDERER must be auto, webgl or light",
    "config.unit.seconds": "seconds",
    "config.unit.minutes": "minutes",
    "config.unit.attempts": "attempts",
    "frame.config_error": "GridCore cannot start: one of its settings is wrong.",
    "frame.config_fix": "Correct the setting and restart GridCore.",
    "frame.db_unreachable": (
        "GridCore cannot reach its database right now. Check that the database server is "
        "running and that DATABASE_URL points at it, then try again. Nothing was saved."
    ),
    "frame.db_read_only": (
        "GridCore cannot save: its database is read-only (the database file or its folder "
        "is not writable). Nothing was saved. Ask the administrator to make it writable, "
        "then try again."
    ),
    "frame.db_retry": "Try again",
}

ZH: dict[str, str] = {
    "config.database_scheme": (
        "DATABASE_URL 必须以 sqlite:/// 或 postgresql+psycopg:// 开头（实际为 {scheme}）"
    ),
    "config.database_folder": (
        "DATABASE_URL 指向的文件夹 {folder} 不存在（请检查路径，或先创建该文件夹）"
    ),
    "config.database_malformed": (
        "DATABASE_URL 不是 GridCore 能识别的数据库地址（{detail}）；示例："
        "postgresql+psycopg://用户名:密码@主机:5432/gridcore 或 sqlite:////srv/gridcore.db"
    ),
    "config.whole_number": "{name} 必须是整数（单位：{unit}），而不是 {raw}",
    "config.at_least": "{name} 至少为 {minimum}，而不是 {value}",
    "config.on_or_off": "{name} 必须为 on 或 off，而不是 {raw}",
    "config.timezone": "GRIDCORE_TIMEZONE {name} 不是已知的时区",
    "config.datum": "GRIDCORE_BASEMAP_DATUM 必须为 wgs84 或 gcj02",
    "config.map_renderer": "GRIDCORE_MAP_RENDERER 必须为 auto、webgl 或 light",
    "config.unit.seconds": "秒",
    "config.unit.minutes": "分钟",
    "config.unit.attempts": "次",
    "frame.config_error": "GridCore 无法启动：有一项设置不正确。",
    "frame.config_fix": "请更正该设置后重新启动 GridCore。",
    "frame.db_unreachable": (
        "GridCore 暂时无法连接数据库。请确认数据库服务器正在运行、DATABASE_URL 指向正确，"
        "然后重试。未保存任何内容。"
    ),
    "frame.db_read_only": (
        "GridCore 无法保存：数据库为只读（数据库文件或其所在文件夹不可写）。未保存任何内容。"
        "请联系管理员将其改为可写，然后重试。"
    ),
    "frame.db_retry": "重试",
}
