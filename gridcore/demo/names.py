"""Names, numbers and places that make the demo worlds read like a Shanghai street."""

from __future__ import annotations

import random


def _words(text: str) -> tuple[str, ...]:
    """The space-separated words of `text`."""
    return tuple(text.split())


# Surnames weighted towards those most common in Shanghai.
SURNAMES: tuple[str, ...] = tuple(
    "张王陈徐朱沈陆顾周吴李杨黄赵孙胡钱金曹蒋施姚倪汤俞严范许邵瞿唐马高林郑何宋谢罗丁"
    "袁潘叶程魏夏冯韩邓彭曾萧田董于杜苏吕任卢江薛秦戴龚孔毛"
)
_SURNAME_WEIGHTS: tuple[float, ...] = tuple(
    12.0 if i < 10 else 5.0 if i < 25 else 2.0 for i in range(len(SURNAMES))
)
_GIVEN_OLD_F = _words(
    "秀英 桂英 玉兰 凤英 美华 丽华 秀珍 月娥 金妹 根娣 阿英 素珍 惠芳 玉珍 美娟 "
    "雅芬 淑华 秀兰 菊芳 琴芳 梅芳 国英 建华 巧珍"
)
_GIVEN_OLD_M = _words(
    "建国 国强 建华 志明 国华 根宝 福根 金海 永康 德明 伟民 振华 兴国 宝林 荣根 "
    "家和 长林 国平 海根 明华 水根 立新 卫东 文忠"
)
_GIVEN_YOUNG_F = _words(
    "欣怡 诗涵 梓涵 婷 静 丽 敏 佳怡 雨婷 思琪 晓燕 慧 颖 倩 雪 琳 玥 子萱 "
    "可馨 晨曦 佳琪 若溪 雅婷 心怡 悦 一诺 语桐"
)
_GIVEN_YOUNG_M = _words(
    "浩然 子轩 宇航 俊杰 伟 磊 强 杰 涛 鹏 斌 浩 昊天 博文 宇轩 梓豪 一鸣 "
    "晨阳 天佑 家乐 子墨 皓轩 明轩 思远 嘉懿 奕辰"
)

# First three digits of ID numbers: Shanghai, then the provinces most residents come from.
_ID_REGIONS = ("310",) * 14 + ("320", "330", "340", "360", "410", "420", "430", "510", "370", "230")
_MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 "
    "152 153 155 156 157 158 159 166 173 176 177 "
    "180 181 182 183 185 186 187 188 189 191 198 "
    "199"
)


def surname(rng: random.Random) -> str:
    """A family name."""
    return rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]


def person_name(rng: random.Random, *, family: str, female: bool, birth_year: int) -> str:
    """A full name whose given name fits the person's sex and generation."""
    old = birth_year < 1970
    pool = (
        (_GIVEN_OLD_F if old else _GIVEN_YOUNG_F)
        if female
        else (_GIVEN_OLD_M if old else _GIVEN_YOUNG_M)
    )
    return family + rng.choice(pool)


def masked_id(rng: random.Random) -> tuple[str, str]:
    """A masked ID number (first 3 and last 4 kept) and its last four characters."""
    check = "X" if rng.random() < 1 / 11 else str(rng.randrange(10))
    suffix = f"{rng.randrange(1000):03d}{check}"
    return f"{rng.choice(_ID_REGIONS)}{'*' * 11}{suffix}", suffix


def mobile(rng: random.Random) -> str:
    """An 11-digit mobile number."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


# (code, English, Chinese) of the streets of the demo district; the first is the demo street.
STREETS: tuple[tuple[str, str, str], ...] = (
    ("TL", "Tianlin Street", "田林街道"),
    ("XJH", "Xujiahui Street", "徐家汇街道"),
    ("TP", "Tianping Street", "天平路街道"),
    ("HN", "Hunan Street", "湖南路街道"),
    ("FL", "Fenglin Street", "枫林路街道"),
    ("XT", "Xietu Street", "斜土路街道"),
    ("CQ", "Changqiao Street", "长桥街道"),
    ("HM", "Hongmei Street", "虹梅路街道"),
    ("KJ", "Kangjian Street", "康健新村街道"),
    ("CHJ", "Caohejing Street", "漕河泾街道"),
    ("LY", "Lingyun Street", "凌云路街道"),
    ("LH", "Longhua Street", "龙华街道"),
    ("HJ", "Huajing Street", "华泾街道"),
    ("BJ", "Binjiang Street", "滨江街道"),
    ("GL", "Guilin Street", "桂林路街道"),
    ("YS", "Yishan Street", "宜山路街道"),
    ("CX", "Caoxi Street", "漕溪路街道"),
    ("ND", "Nandan Street", "南丹路街道"),
    ("WP", "Wanping Street", "宛平路街道"),
    ("ZJB", "Zhaojiabang Street", "肇嘉浜街道"),
)

# Community names are a place word and an estate word: "Guilin New Village" / "桂林新村".
_PLACES: tuple[tuple[str, str], ...] = (
    ("Riverside", "滨江"),
    ("Osmanthus", "桂花"),
    ("Plum Garden", "梅园"),
    ("Lotus", "荷花"),
    ("Tianlin", "田林"),
    ("Guilin", "桂林"),
    ("Yishan", "宜山"),
    ("Caoxi", "漕溪"),
    ("Longhua", "龙华"),
    ("Kangjian", "康健"),
    ("Lingyun", "凌云"),
    ("Hongmei", "虹梅"),
    ("Changqiao", "长桥"),
    ("Huajing", "华泾"),
    ("Xietu", "斜土"),
    ("Nandan", "南丹"),
    ("Wanping", "宛平"),
    ("Fenglin", "枫林"),
    ("Tianyao", "天钥"),
    ("Liuzhou", "柳州"),
    ("Qinzhou", "钦州"),
    ("Pujiang", "浦江"),
    ("Huaihai", "淮海"),
    ("Jianguo", "建国"),
    ("Hengshan", "衡山"),
    ("Wukang", "武康"),
    ("Yongjia", "永嘉"),
    ("Zhaojiabang", "肇嘉浜"),
    ("Xiehe", "协和"),
    ("Meilong", "梅陇"),
    ("Shuidian", "水电"),
    ("Rongshu", "榕树"),
    ("Ziteng", "紫藤"),
    ("Haitang", "海棠"),
    ("Yulan", "玉兰"),
    ("Xiangzhang", "香樟"),
)
_ESTATES: tuple[tuple[str, str], ...] = (
    ("Community", "社区"),
    ("New Village", "新村"),
    ("Garden", "花园"),
    ("First Village", "一村"),
    ("Second Village", "二村"),
    ("Court", "苑"),
    ("Estate", "小区"),
)

ROADS: tuple[tuple[str, str], ...] = (
    ("Tianlin Rd", "田林路"),
    ("Guilin Rd", "桂林路"),
    ("Yishan Rd", "宜山路"),
    ("Caoxi Rd", "漕溪路"),
    ("Liuzhou Rd", "柳州路"),
    ("Qinzhou Rd", "钦州路"),
    ("Hongcao Rd", "虹漕路"),
    ("Tianyao Rd", "田尧路"),
    ("Lingyun Rd", "凌云路"),
    ("Longcao Rd", "龙漕路"),
    ("Xietu Rd", "斜土路"),
    ("Nandan Rd", "南丹路"),
    ("Wanping Rd", "宛平路"),
    ("Zhaojiabang Rd", "肇嘉浜路"),
    ("Kangjian Rd", "康健路"),
    ("Guiping Rd", "桂平路"),
    ("Lianhua Rd", "莲花路"),
    ("Pucao Rd", "浦漕路"),
    ("Longwu Rd", "龙吴路"),
    ("Caobao Rd", "漕宝路"),
    ("Hongmei Rd", "虹梅路"),
    ("Huajing Rd", "华泾路"),
    ("Jiangnan Rd", "江南路"),
    ("Tianyueqiao Rd", "天钥桥路"),
)


def community_names(rng: random.Random, count: int, taken: set[str]) -> list[tuple[str, str]]:
    """`count` distinct community names (English, Chinese) not yet in `taken`."""
    names: list[tuple[str, str]] = []
    while len(names) < count:
        place_en, place_zh = rng.choice(_PLACES)
        estate_en, estate_zh = rng.choice(_ESTATES)
        zh = place_zh + estate_zh + ("" if estate_zh == "社区" else "社区")
        if zh in taken:
            continue
        taken.add(zh)
        en = f"{place_en} {estate_en}" + ("" if estate_en == "Community" else " Community")
        names.append((en, zh))
    return names
