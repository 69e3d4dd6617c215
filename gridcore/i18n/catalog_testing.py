"""Texts of mass testing: the testing services' validation messages and the words they write.

Validation messages follow the convention of catalog_services.py: a service raises
`ValidationFailed({field: "testing.error.…"})` and a page shows `t(key, lang)` next to
the field.
"""

EN: dict[str, str] = {
    # opening and closing a round
    "testing.error.no_grids": "Choose at least one grid, community or street for the round.",
    "testing.error.area_not_found": "One of the chosen areas does not exist.",
    "testing.error.round_too_long": (
        "The deadline is later than the policy allows after the start (24 hours by default)."
    ),
    "testing.error.site_area_not_found": "The site's area does not exist.",
    "testing.error.round_not_found": "This testing round does not exist.",
    "testing.error.round_closed": "This testing round is closed.",
    "testing.error.round_not_started": "This testing round has not started yet.",
    "testing.error.grid_not_in_round": "This grid is not in this testing round.",
    # sampling
    "testing.error.resident_not_in_round": "This resident does not live in a grid of this round.",
    "testing.error.resident_exempt": (
        "This resident is exempt (in hospital, in central isolation or away); "
        "confirm to sample them anyway."
    ),
    "testing.error.already_sampled": "This resident has already been sampled in this round.",
    "testing.error.site_required": "Choose the sampling site, or door to door.",
    "testing.error.site_and_door": "Choose either a sampling site or door to door, not both.",
    "testing.error.site_not_in_round": "This site does not belong to this round.",
    "testing.error.before_round_start": "The sample cannot be taken before the round starts.",
    # results
    "testing.error.batch_positive": "Record positive results one by one, not in a batch.",
    "testing.error.batch_empty": "Give the records or the tube code of the batch.",
    "testing.error.tube_needs_round": "Choose the round the tube belongs to.",
    "testing.error.tube_not_found": "No sample of this round has this tube code.",
    "testing.error.record_not_found": "One of these samples does not exist.",
    "testing.error.record_positive": "A positive result cannot be changed in a batch.",
    "testing.error.result_before_sample": "The result cannot come before the sample was taken.",
    "testing.error.result_not_final": "Choose negative or invalid.",
    # words the services write
    "testing.task.door_to_door_title": "Door-to-door sampling ({round}): {building} {unit}, {n} to sample",
    "testing.status.open": "open",
    "testing.status.closed": "closed",
}

ZH: dict[str, str] = {
    "testing.error.no_grids": "请为本轮检测至少选择一个网格、社区或街道。",
    "testing.error.area_not_found": "所选区域中有不存在的区域。",
    "testing.error.round_too_long": "截止时间距开始时间超过了政策规定的时限（默认 24 小时）。",
    "testing.error.site_area_not_found": "采样点所属区域不存在。",
    "testing.error.round_not_found": "该轮检测不存在。",
    "testing.error.round_closed": "该轮检测已结束。",
    "testing.error.round_not_started": "该轮检测尚未开始。",
    "testing.error.grid_not_in_round": "该网格不在本轮检测范围内。",
    "testing.error.resident_not_in_round": "该居民不住在本轮检测范围内的网格。",
    "testing.error.resident_exempt": "该居民属于免检人员（住院、集中隔离或外出）；如仍需采样请确认。",
    "testing.error.already_sampled": "该居民在本轮已经采样。",
    "testing.error.site_required": "请选择采样点，或选择上门采样。",
    "testing.error.site_and_door": "采样点和上门采样只能选择其一。",
    "testing.error.site_not_in_round": "该采样点不属于本轮检测。",
    "testing.error.before_round_start": "采样时间不能早于本轮开始时间。",
    "testing.error.batch_positive": "阳性结果须逐一录入，不能批量录入。",
    "testing.error.batch_empty": "请给出本批的采样记录或试管编码。",
    "testing.error.tube_needs_round": "请选择该试管所属的检测轮次。",
    "testing.error.tube_not_found": "本轮没有该试管编码的采样记录。",
    "testing.error.record_not_found": "其中有不存在的采样记录。",
    "testing.error.record_positive": "阳性结果不能批量更改。",
    "testing.error.result_before_sample": "结果时间不能早于采样时间。",
    "testing.error.result_not_final": "请选择阴性或无效。",
    "testing.task.door_to_door_title": "上门采样（{round}）：{building} {unit}，待采 {n} 人",
    "testing.status.open": "进行中",
    "testing.status.closed": "已结束",
}
