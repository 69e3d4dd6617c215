"""Why a grid is flagged: risk reasons and 'needs attention' reasons (gridcore.analytics.risk)."""

EN: dict[str, str] = {
    "reason.zone_sealed": "Sealed area order in force",
    "reason.zone_controlled": "Controlled area order in force",
    "reason.zone_precaution": "Precaution area order in force",
    "reason.community_cases_7d.one": "1 community case in the last 7 days",
    "reason.community_cases_7d": "{n} community cases in the last 7 days",
    "reason.incidence_7d": "7-day incidence {incidence:,.1f} per 10,000 ({n} cases)",
    "reason.active_cases.one": "1 active case",
    "reason.active_cases": "{n} active cases",
    "reason.testing_coverage": "Testing coverage {coverage:.0%} in {round}",
    "reason.testing_missed": "{round} ended with testing coverage of only {coverage:.0%}",
    "reason.overdue_requests.one": "1 resident request overdue",
    "reason.overdue_requests": "{n} resident requests overdue",
    "reason.no_fulltime_worker": "No full-time grid worker",
    "reason.households_per_worker": (
        "{ratio:,.0f} households per full-time worker (standard {standard})"
    ),
    "reason.stepdown_sealed": (
        "{days} days without a community case: the sealed order may step down"
    ),
    "reason.stepdown_controlled": (
        "{days} days without a community case: the controlled order may step down"
    ),
    "reason.contacts_end_today.one": "1 contact due to end quarantine today",
    "reason.contacts_end_today": "{n} contacts due to end quarantine today",
    "reason.supplies_below_min.one": "1 supply item below minimum stock at {depot}",
    "reason.supplies_below_min": "{n} supply items below minimum stock at {depot}",
}

ZH: dict[str, str] = {
    "reason.zone_sealed": "封控区管理中",
    "reason.zone_controlled": "管控区管理中",
    "reason.zone_precaution": "防范区管理中",
    "reason.community_cases_7d.one": "近7日社会面病例1例",
    "reason.community_cases_7d": "近7日社会面病例{n}例",
    "reason.incidence_7d": "7日发病率每万人{incidence:,.1f}（{n}例）",
    "reason.active_cases.one": "现有病例1例",
    "reason.active_cases": "现有病例{n}例",
    "reason.testing_coverage": "{round}核酸检测覆盖率{coverage:.0%}",
    "reason.testing_missed": "{round}已结束，核酸检测覆盖率仅{coverage:.0%}",
    "reason.overdue_requests.one": "1件居民诉求超时未办结",
    "reason.overdue_requests": "{n}件居民诉求超时未办结",
    "reason.no_fulltime_worker": "无专职网格员",
    "reason.households_per_worker": "专职网格员人均服务{ratio:,.0f}户（标准{standard}户）",
    "reason.stepdown_sealed": "已连续{days}天无社会面病例，封控区可降级",
    "reason.stepdown_controlled": "已连续{days}天无社会面病例，管控区可降级",
    "reason.contacts_end_today.one": "今日1名接触者隔离期满",
    "reason.contacts_end_today": "今日{n}名接触者隔离期满",
    "reason.supplies_below_min.one": "{depot}有1种物资低于最低库存",
    "reason.supplies_below_min": "{depot}有{n}种物资低于最低库存",
}
