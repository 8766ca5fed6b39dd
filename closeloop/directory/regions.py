"""China's provincial-level divisions and cities (GB/T 2260) with the ways people write them.

Complaints, customers and roster lines store one name per region — the short name the National Bureau of
Statistics' tables use (广东, 内蒙古, 北京, 广西 …) — so that 广东 and 广东省, 内蒙 and 内蒙古自治区 are one
region in every count and chart. `province_standard` maps what was typed; an unknown text is kept as typed
(trimmed), never refused: a foreign address or a typo must not block an intake.

Cities are stored by their official name (深圳市, 恩施土家族苗族自治州) — short names of autonomous prefectures are
ambiguous or awkward — and `city_standard` maps the short forms (深圳, 恩施州), the name with its province in
front (广东深圳, 广东省深圳市) and spaces to it. The table, `city_table.CITIES`, is generated from the National
Bureau of Statistics' division codes (scripts/city_table.py names the source).
"""

from __future__ import annotations

import re

from closeloop.directory.city_table import CITIES

# full name, stored (short) name; the others are derived: with or without the suffix.
PROVINCES: tuple[tuple[str, str], ...] = (
    ("北京市", "北京"),
    ("天津市", "天津"),
    ("河北省", "河北"),
    ("山西省", "山西"),
    ("内蒙古自治区", "内蒙古"),
    ("辽宁省", "辽宁"),
    ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"),
    ("上海市", "上海"),
    ("江苏省", "江苏"),
    ("浙江省", "浙江"),
    ("安徽省", "安徽"),
    ("福建省", "福建"),
    ("江西省", "江西"),
    ("山东省", "山东"),
    ("河南省", "河南"),
    ("湖北省", "湖北"),
    ("湖南省", "湖南"),
    ("广东省", "广东"),
    ("广西壮族自治区", "广西"),
    ("海南省", "海南"),
    ("重庆市", "重庆"),
    ("四川省", "四川"),
    ("贵州省", "贵州"),
    ("云南省", "云南"),
    ("西藏自治区", "西藏"),
    ("陕西省", "陕西"),
    ("甘肃省", "甘肃"),
    ("青海省", "青海"),
    ("宁夏回族自治区", "宁夏"),
    ("新疆维吾尔自治区", "新疆"),
    ("台湾省", "台湾"),
    ("香港特别行政区", "香港"),
    ("澳门特别行政区", "澳门"),
)

# Other ways of writing them that are common in complaints (abbreviations, English; keys without spaces).
EXTRA_ALIASES: dict[str, str] = {
    "内蒙": "内蒙古",
    "内蒙古省": "内蒙古",
    "广西省": "广西",
    "广西自治区": "广西",
    "宁夏自治区": "宁夏",
    "新疆自治区": "新疆",
    "西藏省": "西藏",
    "香港特区": "香港",
    "澳门特区": "澳门",
    "hongkong": "香港",
    "macau": "澳门",
    "macao": "澳门",
}

_SPACES = re.compile(r"\s+")


def _aliases() -> dict[str, str]:
    table: dict[str, str] = {}
    for full, short in PROVINCES:
        table[full] = short
        table[short] = short
        table[short + "省"] = short
        table[short + "市"] = short
    table.update(EXTRA_ALIASES)
    return table


ALIASES = _aliases()


def province_standard(text: str | None) -> str:
    """The stored name of a province written any common way; anything else as typed (trimmed)."""
    raw = _SPACES.sub("", text or "")
    return ALIASES.get(raw) or ALIASES.get(raw.lower()) or (text or "").strip()


def province_aliases() -> dict[str, str]:
    """Every other form known, mapped to the stored name (for the data migration)."""
    return {alias: standard for alias, standard in ALIASES.items() if alias != standard}


def _city_aliases() -> dict[str, str]:
    table: dict[str, str] = {}
    for _code, name, shorts in CITIES:
        table[name] = name
        for short in shorts:
            table[short] = name
    return table


CITY_ALIASES = _city_aliases()
# Longest first, so that 广东省深圳市 loses 广东省 rather than 广东.
_PROVINCE_PREFIXES = sorted(ALIASES, key=len, reverse=True)


def city_standard(text: str | None) -> str:
    """The official name of a city written any common way (深圳 → 深圳市, 广东深圳 → 深圳市); anything else
    as typed (trimmed)."""
    raw = _SPACES.sub("", text or "")
    if raw in CITY_ALIASES:
        return CITY_ALIASES[raw]
    for prefix in _PROVINCE_PREFIXES:
        if raw.startswith(prefix) and raw[len(prefix) :] in CITY_ALIASES:
            return CITY_ALIASES[raw[len(prefix) :]]
    return (text or "").strip()
