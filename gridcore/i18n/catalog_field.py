"""Texts of the field-usability pieces: map touch, undo, landing, Streamlit's own widgets."""

from __future__ import annotations

EN: dict[str, str] = {
    "map.move": "Move map",
    "map.move_help": "Off: a swipe scrolls the page and two fingers zoom the map. "
    "On: one finger or the mouse moves the map.",
    "map.zone_building": "Building under a {level} order",
    "map.fitted_scale": "Scale fitted to today's values",
    "map.tap_hint": "Tap or click a grid to open it.",
    "undo.button": "Undo",
    "undo.sample_done": "Undone: {name} is no longer recorded as sampled.",
    "testing.error.undo_has_result": "This sample already has a result and cannot be undone.",
    "tpage.desk_mark": "Mark sampled",
    "widget.choose_options": "Choose options",
    "widget.choose_option": "Choose an option",
}

ZH: dict[str, str] = {
    "map.move": "拖动地图",
    "map.move_help": "关闭时：单指滑动滚动页面，双指缩放地图。开启时：单指或鼠标拖动地图。",
    "map.zone_building": "{level}楼栋",
    "map.fitted_scale": "按当前数值分档",
    "map.tap_hint": "点按网格即可打开。",
    "undo.button": "撤销",
    "undo.sample_done": "已撤销：{name} 不再记为已采样。",
    "testing.error.undo_has_result": "该样本已有检测结果，无法撤销。",
    "tpage.desk_mark": "标记已采样",
    "widget.choose_options": "请选择（可多选）",
    "widget.choose_option": "请选择",
}
