"""The overview as a decision aid: each figure's target and status, the attention links."""

EN: dict[str, str] = {
    "status.good": "On target",
    "status.watch": "Watch",
    "status.act": "Act now",
    "target.at_most": "Target: {value}",
    "target.at_least": "Target: at least {value}",
    "target.staffing": "Target: {value} (at most {n} households per full-time worker)",
    "target.none": "No target",
    "attention.open_grid": "Open {grid}",
    "attention.more_grids": "{n} more grids to look at",
    "tpage.ranking_none_behind": "Grids — no grid is behind schedule",
}

ZH: dict[str, str] = {
    "status.good": "达标",
    "status.watch": "关注",
    "status.act": "需处置",
    "target.at_most": "目标：{value}",
    "target.at_least": "目标：不低于 {value}",
    "target.staffing": "目标：{value}（每名专职网格员不超过 {n} 户）",
    "target.none": "无目标值",
    "attention.open_grid": "打开{grid}",
    "attention.more_grids": "另有 {n} 个网格需要关注",
    "tpage.ranking_none_behind": "网格列表（没有进度落后的网格）",
}
