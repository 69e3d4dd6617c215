"""The Workforce page, the workers file and the workforce services' messages."""

EN: dict[str, str] = {
    "page.workforce": "Workforce",
    "wf.subtitle": "Who carries how much, where full-time staff are short (standard: "
    "{standard} households per full-time worker), and what to move or post where.",
    # headline
    "wf.active_workers": "Active workers",
    "wf.active_workers_help": "Workers and volunteers on duty: {ft} full-time, {vol} volunteers.",
    "wf.open_tasks": "Open tasks",
    "wf.overdue_tasks": "Overdue tasks",
    "wf.unassigned_help": "Open tasks past their due time. {n} open tasks have no one assigned.",
    "wf.understaffed": "Understaffed grids",
    "wf.understaffed_help": "Grids with no full-time worker, or more than {standard} "
    "households per full-time worker.",
    "wf.imbalance": "Imbalance (CV)",
    "wf.imbalance_help": "How unevenly work is spread over full- and part-time workers: the "
    "standard deviation of their workload scores over the mean. 0 is perfectly even; above "
    "0.5 some carry far more than others.",
    # workload
    "wf.workload_title": "Workload per worker",
    "wf.workload_caption": "Workload score = open tasks + 2 × overdue tasks (an overdue task "
    "counts 3). Busiest first.",
    "wf.col_name": "Name",
    "wf.col_role": "Role",
    "wf.col_employment": "Employment",
    "wf.col_group": "Service group",
    "wf.col_grids": "Grids",
    "wf.col_open": "Open",
    "wf.col_overdue": "Overdue",
    "wf.col_done_today": "Done today",
    "wf.col_score": "Workload",
    "wf.col_phone": "Phone",
    "wf.imbalance_title": "Spread of work over the frontline",
    "wf.no_frontline": "No full- or part-time worker serves a grid yet.",
    "wf.chart_score": "Workload score",
    "wf.chart_balance": "balance {value}",
    "wf.chart_workers": "Workers, busiest first",
    "wf.imbalance_caption": "{workers} full- and part-time workers: mean {mean}, median "
    "{median}, busiest {top}. Coefficient of variation {cv}; busiest ÷ median {ratio}.",
    # reassignments
    "wf.moves_title": "Suggested reassignments",
    "wf.moves_caption": "Open tasks from workers above the balance (the mean workload) to "
    "colleagues in the same grid, or else in a grid of the same community, never past the "
    "balance.",
    "wf.no_moves": "No reassignment would even out the work: nobody above the balance has a "
    "task a colleague nearby has room for.",
    "wf.move_line": "Task {task} · {kind} · {grid} · {due}: {giver} → {taker} (workload "
    "after: {giver_after} and {taker_after})",
    "wf.move_line_new_grid": "Task {task} · {kind} · {grid} · {due}: {giver} → {taker}, who "
    "then also serves {grid} (workload after: {giver_after} and {taker_after})",
    "wf.overdue_since": "overdue since {due}",
    "wf.due": "due {due}",
    "wf.no_due": "no due time",
    "wf.apply_move": "Reassign",
    "wf.moved": "Task {task} ({grid}) moved from {giver} to {taker}.",
    "wf.moved_new_grid": "Task {task} moved from {giver} to {taker}; {taker} now also serves "
    "{grid}.",
    "wf.move_stale": "Task {task} has changed since the suggestion was made; the suggestions "
    "are now up to date.",
    "wf.col_task": "Task",
    "wf.col_kind": "Kind",
    "wf.col_from": "From",
    "wf.col_to": "To",
    "wf.col_from_after": "From: workload after",
    "wf.col_to_after": "To: workload after",
    # staffing
    "wf.staffing_title": "Understaffed grids",
    "wf.staffing_caption": "Ranked by the full-time workers missing against the standard of "
    "{standard} households each. The map shows households per full-time worker.",
    "wf.col_grid": "Grid",
    "wf.col_households": "Households",
    "wf.col_fulltime": "Full-time",
    "wf.col_per_worker": "Households per worker (standard {standard})",
    "wf.col_needed": "Needed",
    "wf.col_gap": "Missing",
    "wf.no_fulltime": "no full-time worker",
    "wf.no_understaffed": "Every grid meets the staffing standard.",
    "wf.map_caption": "Click a grid to open its detail.",
    # volunteers
    "wf.postings_title": "Suggested volunteer postings",
    "wf.postings_caption": "Where volunteers of a service group are fewer than the need asks "
    "for: special-population care 1 per 10 vulnerable residents; medical 1 per 3 open "
    "medical-care requests; material purchase 1 per 5 open medicine and food requests; "
    "information collection 1 per 5 open surveys and information tasks; psychological "
    "counselling 1 per 10 people in quarantine or ill.",
    "wf.no_postings": "Every grid has the volunteers its needs ask for.",
    "wf.col_need": "Need",
    "wf.col_present": "Present",
    "wf.col_shortfall": "Short",
    "wf.col_suggested": "Suggested",
    "wf.recruit": "recruit {n}",
    "wf.unposted": "{name} (no grid yet)",
    "wf.no_grid": "no grid",
    "wf.need.special_population_care": "{n} vulnerable residents",
    "wf.need.medical": "{n} open medical-care requests",
    "wf.need.material_purchase": "{n} open medicine and food requests",
    "wf.need.information_collection": "{n} open surveys and information tasks",
    "wf.need.psychological_counselling": "{n} in quarantine or ill",
    "wf.post_line": "{name} ({group}): {source} → {grid}",
    "wf.apply_post": "Post",
    "wf.posted": "{name} ({group}) now serves {grid}.",
    # forms
    "wf.forms_title": "Workers and volunteers",
    "wf.add_tab": "Add a worker or volunteer",
    "wf.grids_tab": "Change a worker's grids",
    "wf.f_name": "Name",
    "wf.f_phone": "Phone",
    "wf.f_phone_help": "7 to 15 digits; spaces, dashes and a leading + allowed.",
    "wf.f_role": "Role",
    "wf.f_employment": "Employment",
    "wf.f_group": "Service group",
    "wf.f_group_none": "None",
    "wf.f_group_help": "Required for volunteers.",
    "wf.f_grids": "Grids served",
    "wf.f_add": "Add",
    "wf.f_worker": "Worker",
    "wf.f_save_grids": "Save grids",
    "wf.fix_below": "Nothing was saved. Correct the fields marked below.",
    "wf.not_allowed": "Your account may not do this here.",
    "wf.added": "{name} added as {role}.",
    "wf.grids_saved": "{name} now serves: {grids}.",
    "wf.no_workers": "No active worker yet.",
    # services and files
    "services.error.service_group_required": "Choose the service group of a volunteer.",
    "io.problem.unknown_worker": "No worker has this number.",
    "io.problem.service_group_required": "A volunteer needs a service group.",
    "io.page.kind.workers": "Workers and volunteers",
}

ZH: dict[str, str] = {
    "page.workforce": "人员力量",
    "wf.subtitle": "谁承担多少任务、哪些网格专职人员不足（标准：每名专职网格员 {standard} 户），"
    "以及任务和志愿者该如何调配。",
    # headline
    "wf.active_workers": "在岗人员",
    "wf.active_workers_help": "在岗的工作人员和志愿者：专职 {ft} 人，志愿者 {vol} 人。",
    "wf.open_tasks": "未完成任务",
    "wf.overdue_tasks": "超时任务",
    "wf.unassigned_help": "已过截止时间的未完成任务。另有 {n} 项未完成任务尚未分派。",
    "wf.understaffed": "人手不足网格",
    "wf.understaffed_help": "没有专职网格员，或每名专职网格员超过 {standard} 户的网格。",
    "wf.imbalance": "不均衡度（变异系数）",
    "wf.imbalance_help": "专职和兼职人员之间任务分配的不均衡程度：工作量得分的标准差除以平均值。"
    "0 表示完全均衡；超过 0.5 说明部分人员负担远重于他人。",
    # workload
    "wf.workload_title": "人员工作量",
    "wf.workload_caption": "工作量得分 = 未完成任务 + 2 × 超时任务（一项超时任务计 3 分）。"
    "按工作量从高到低排列。",
    "wf.col_name": "姓名",
    "wf.col_role": "职务",
    "wf.col_employment": "用工性质",
    "wf.col_group": "服务组",
    "wf.col_grids": "负责网格",
    "wf.col_open": "未完成",
    "wf.col_overdue": "超时",
    "wf.col_done_today": "今日完成",
    "wf.col_score": "工作量",
    "wf.col_phone": "电话",
    "wf.imbalance_title": "一线人员工作量分布",
    "wf.no_frontline": "尚无专职或兼职人员负责网格。",
    "wf.chart_score": "工作量得分",
    "wf.chart_balance": "均衡线 {value}",
    "wf.chart_workers": "人员（按工作量从高到低）",
    "wf.imbalance_caption": "专职和兼职人员 {workers} 人：平均 {mean}，中位数 {median}，"
    "最高 {top}。变异系数 {cv}；最高 ÷ 中位数 {ratio}。",
    # reassignments
    "wf.moves_title": "建议调整的任务",
    "wf.moves_caption": "把工作量高于均衡线（平均工作量）的人员的未完成任务，交给同一网格、"
    "或同一社区其他网格的同事，调整后不超过均衡线。",
    "wf.no_moves": "目前没有能使工作量更均衡的调整：高于均衡线的人员没有附近同事能接手的任务。",
    "wf.move_line": "任务 {task} · {kind} · {grid} · {due}：{giver} → {taker}"
    "（调整后工作量：{giver_after} 和 {taker_after}）",
    "wf.move_line_new_grid": "任务 {task} · {kind} · {grid} · {due}：{giver} → {taker}，"
    "{taker} 将同时负责 {grid}（调整后工作量：{giver_after} 和 {taker_after}）",
    "wf.overdue_since": "自 {due} 起超时",
    "wf.due": "截止 {due}",
    "wf.no_due": "无截止时间",
    "wf.apply_move": "改派",
    "wf.moved": "任务 {task}（{grid}）已从 {giver} 改派给 {taker}。",
    "wf.moved_new_grid": "任务 {task} 已从 {giver} 改派给 {taker}；{taker} 现同时负责 {grid}。",
    "wf.move_stale": "任务 {task} 在提出建议后已有变化；建议已更新。",
    "wf.col_task": "任务",
    "wf.col_kind": "类型",
    "wf.col_from": "原负责人",
    "wf.col_to": "改派给",
    "wf.col_from_after": "原负责人调整后工作量",
    "wf.col_to_after": "接手人调整后工作量",
    # staffing
    "wf.staffing_title": "人手不足网格",
    "wf.staffing_caption": "按照每名专职网格员 {standard} 户的标准，按缺少的专职人数排序。"
    "地图显示每名专职网格员负责的户数。",
    "wf.col_grid": "网格",
    "wf.col_households": "户数",
    "wf.col_fulltime": "专职人数",
    "wf.col_per_worker": "每名专职户数（标准 {standard}）",
    "wf.col_needed": "应配",
    "wf.col_gap": "缺少",
    "wf.no_fulltime": "无专职网格员",
    "wf.no_understaffed": "所有网格均达到配备标准。",
    "wf.map_caption": "点击网格查看详情。",
    # volunteers
    "wf.postings_title": "建议的志愿者调配",
    "wf.postings_caption": "某服务组志愿者少于需求时列出：特殊人群关爱组每 10 名重点人群 1 人；"
    "医疗组每 3 件未完成就医需求 1 人；物资采购组每 5 件未完成购药、购菜需求 1 人；"
    "信息采集组每 5 项未完成流调和信息采集任务 1 人；心理疏导组每 10 名隔离或患病人员 1 人。",
    "wf.no_postings": "各网格志愿者均满足需求。",
    "wf.col_need": "需求",
    "wf.col_present": "现有",
    "wf.col_shortfall": "缺少",
    "wf.col_suggested": "建议",
    "wf.recruit": "需招募 {n} 人",
    "wf.unposted": "{name}（尚未分配网格）",
    "wf.no_grid": "无网格",
    "wf.need.special_population_care": "重点人群 {n} 人",
    "wf.need.medical": "未完成就医需求 {n} 件",
    "wf.need.material_purchase": "未完成购药、购菜需求 {n} 件",
    "wf.need.information_collection": "未完成流调和信息采集任务 {n} 项",
    "wf.need.psychological_counselling": "隔离或患病 {n} 人",
    "wf.post_line": "{name}（{group}）：{source} → {grid}",
    "wf.apply_post": "调配",
    "wf.posted": "{name}（{group}）现负责 {grid}。",
    # forms
    "wf.forms_title": "工作人员和志愿者",
    "wf.add_tab": "新增工作人员或志愿者",
    "wf.grids_tab": "调整负责网格",
    "wf.f_name": "姓名",
    "wf.f_phone": "电话",
    "wf.f_phone_help": "7 至 15 位数字，可含空格、连字符和开头的 +。",
    "wf.f_role": "职务",
    "wf.f_employment": "用工性质",
    "wf.f_group": "服务组",
    "wf.f_group_none": "无",
    "wf.f_group_help": "志愿者必填。",
    "wf.f_grids": "负责网格",
    "wf.f_add": "新增",
    "wf.f_worker": "工作人员",
    "wf.f_save_grids": "保存网格",
    "wf.fix_below": "未保存。请更正下方标出的内容。",
    "wf.not_allowed": "您的账号无权在此进行该操作。",
    "wf.added": "已新增 {name}（{role}）。",
    "wf.grids_saved": "{name} 现负责：{grids}。",
    "wf.no_workers": "尚无在岗人员。",
    # services and files
    "services.error.service_group_required": "请选择志愿者的服务组。",
    "io.problem.unknown_worker": "没有此编号的工作人员。",
    "io.problem.service_group_required": "志愿者须填写服务组。",
    "io.page.kind.workers": "工作人员和志愿者",
}
