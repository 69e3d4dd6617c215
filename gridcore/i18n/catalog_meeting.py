"""The command meeting (what moved since it) and the alerts, on the overview and the kiosk."""

EN: dict[str, str] = {
    # the meeting mark
    "meeting.mark": "Mark meeting held",
    "meeting.mark_help": (
        "Keeps today's figures and the attention list as they stand now: the overview then "
        "shows what changed since this meeting."
    ),
    "meeting.marked": "Meeting marked held at {time}.",
    "meeting.last": "Last command meeting: {time}, marked by {user}.",
    "meeting.none": "No meeting marked held yet: the change since the last meeting shows once one is.",
    "meeting.not_allowed": "Only leaders and administrators mark a meeting held.",
    "meeting.since": "Since the meeting: {delta}",
    "meeting.since_unknown": "Since the meeting: not comparable",
    "headline.points": "{value} pp",
    "meeting.attention_title": "Since the meeting",
    "meeting.attention_new": "New",
    "meeting.attention_worse": "Worse",
    "meeting.attention_resolved": "Resolved",
    "meeting.attention_unchanged": "The attention list has not changed since the meeting.",
    "meeting.attention_count": "{label} ({n}):",
    # alerts
    "alerts.title": "Alerts",
    "alerts.none": "No alerts: every figure is within its threshold.",
    "alerts.summary": "{n} alerts standing, {open} not yet acknowledged.",
    "alerts.acknowledge": "Acknowledge",
    "alerts.acknowledge_help": "You have seen it; it stands again when its situation changes.",
    "alerts.acknowledged_by": "acknowledged by {user} at {time}",
    "alerts.acknowledged_list": "Acknowledged ({n})",
    "alerts.more": "All other alerts ({n})",
    "alerts.not_allowed": "Only leaders and administrators acknowledge alerts.",
    "alerts.kiosk_acknowledged": "and {n} acknowledged",
    "alerts.kiosk_more": "and {n} more not yet acknowledged",
    "alerts.severity.high": "High",
    "alerts.severity.medium": "Medium",
    "alerts.severity.low": "Low",
    "alerts.rule.community_positive": "Cases found outside quarantine in the last {days} days: {n}",
    "alerts.rule.community_positive.today": "Cases found outside quarantine today: {n}",
    "alerts.rule.coverage_behind": (
        "Testing behind schedule: coverage {coverage} against {schedule} by now, "
        "{missing} not sampled"
    ),
    "alerts.rule.stock_short": (
        "Supplies short at a depot: {n} items under their minimum or cover, {out} run out"
    ),
    "alerts.rule.stock_short.none_out": (
        "Supplies short at a depot: {n} items under their minimum or cover"
    ),
    "alerts.rule.urgent_overdue": "Urgent requests past their target time: {n}",
    "alerts.rule.contact_test_missed": "Contacts who missed a protocol test: {n} ({tests} tests)",
    "alerts.rule.worker_overloaded": "Workers overloaded (workload score {score} or more): {n}",
}

ZH: dict[str, str] = {
    "meeting.mark": "标记会议已召开",
    "meeting.mark_help": "保存当前各项指标和关注清单：总览随后显示本次会议以来的变化。",
    "meeting.marked": "已标记会议于{time}召开。",
    "meeting.last": "上次指挥部会议：{time}，由{user}标记。",
    "meeting.none": "尚未标记会议：标记后即显示较上次会议的变化。",
    "meeting.not_allowed": "只有领导和管理员可以标记会议。",
    "meeting.since": "较上次会议：{delta}",
    "meeting.since_unknown": "较上次会议：无法比较",
    "headline.points": "{value}个百分点",
    "meeting.attention_title": "会议以来",
    "meeting.attention_new": "新增",
    "meeting.attention_worse": "加重",
    "meeting.attention_resolved": "已解除",
    "meeting.attention_unchanged": "会议以来关注清单没有变化。",
    "meeting.attention_count": "{label}（{n}）：",
    "alerts.title": "预警",
    "alerts.none": "当前没有预警：各项指标均在阈值以内。",
    "alerts.summary": "现有预警{n}条，其中{open}条尚未确认。",
    "alerts.acknowledge": "确认知悉",
    "alerts.acknowledge_help": "表示已看到；情况一旦变化，预警将重新出现。",
    "alerts.acknowledged_by": "{user}已于{time}确认",
    "alerts.acknowledged_list": "已确认（{n}）",
    "alerts.more": "其余预警（{n}）",
    "alerts.not_allowed": "只有领导和管理员可以确认预警。",
    "alerts.kiosk_acknowledged": "另有{n}条已确认",
    "alerts.kiosk_more": "另有{n}条尚未确认",
    "alerts.severity.high": "高",
    "alerts.severity.medium": "中",
    "alerts.severity.low": "低",
    "alerts.rule.community_positive": "近{days}天社会面发现病例：{n}例",
    "alerts.rule.community_positive.today": "今日社会面发现病例：{n}例",
    "alerts.rule.coverage_behind": "核酸采样进度落后：覆盖率{coverage}，此时应达{schedule}，{missing}人未采样",
    "alerts.rule.stock_short": "仓库物资告急：{n}种低于最低库存或保障天数不足，其中{out}种已断供",
    "alerts.rule.stock_short.none_out": "仓库物资告急：{n}种低于最低库存或保障天数不足",
    "alerts.rule.urgent_overdue": "紧急求助超时未办结：{n}件",
    "alerts.rule.contact_test_missed": "密接人员漏检：{n}人（共{tests}次）",
    "alerts.rule.worker_overloaded": "网格员超负荷（工作量{score}分及以上）：{n}人",
}
