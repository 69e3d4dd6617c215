"""Sign-in, sessions and personal-data texts (English and Chinese, the same keys)."""

from __future__ import annotations

EN: dict[str, str] = {
    "security.signin_wait": "Too many failed attempts. Try again in {seconds} s.",
    "security.signin_locked": (
        "Too many failed attempts: sign-in is locked for this account or this device. "
        "Try again in {minutes} min, or ask an administrator."
    ),
    "security.session_ended": (
        "Your session has ended (signed out, expired, or the account was changed). Sign in again."
    ),
    "security.viewer_no_personal": (
        "Your role sees counts and areas only: names, phones, flats and birth years are "
        "shown to administrators, leaders and the grid's own workers."
    ),
    "security.demo_password": (
        "The demo accounts ({accounts}) have the public password '{password}'. Change it with "
        "`python -m gridcore users set-password USERNAME`, or turn the demo accounts off "
        "with GRIDCORE_DEMO_ACCOUNTS=off."
    ),
    "security.demo_off": "The demo accounts are turned off (GRIDCORE_DEMO_ACCOUNTS=off).",
}

ZH: dict[str, str] = {
    "security.signin_wait": "失败次数过多，请 {seconds} 秒后再试。",
    "security.signin_locked": (
        "失败次数过多：此账号或此设备的登录已锁定。请 {minutes} 分钟后再试，或联系管理员。"
    ),
    "security.session_ended": "登录已失效（已退出、已过期或账号有变动），请重新登录。",
    "security.viewer_no_personal": (
        "您的角色只能查看数量和区域：姓名、电话、房号和出生年份仅向管理员、领导和本网格工作人员显示。"
    ),
    "security.demo_password": (
        "演示账号（{accounts}）使用公开密码“{password}”。请用 "
        "`python -m gridcore users set-password 用户名` 修改，或设置 "
        "GRIDCORE_DEMO_ACCOUNTS=off 停用演示账号。"
    ),
    "security.demo_off": "演示账号已停用（GRIDCORE_DEMO_ACCOUNTS=off）。",
}
