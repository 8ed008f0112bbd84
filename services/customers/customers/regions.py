"""Chinese administrative-division names, for the region part of a company-name key.

The table is the ``cpca`` 0.5.5 package's ``resources/adcodes.csv`` (the national adcode
list, 34 provinces, 344 prefectures, 3 133 counties) and ``56_nations.csv``, kept in
``customers/resources/`` with cpca's MIT licence (``LICENSE-cpca``): only those two files
were ever read, and the package would bring pandas and numpy into the image for them. When
the files are absent a compact built-in table of provinces and large cities is used instead
(enough for the common cases, noted in the README).

Which names are stripped as a *region*:
- every full name (江苏省, 苏州市, 吴中区, 昆山市, 延边朝鲜族自治州 …);
- the short form of provinces, prefectures and county-level *cities* (江苏, 苏州, 昆山);
- not the short form of districts and counties (朝阳, 和平, 新华, 长城 are common
  trade names); their full form (朝阳区) is still a region.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

_FALLBACK = [
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省",
    "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省",
    "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省",
    "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区",
    "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区", "石家庄市", "太原市", "沈阳市",
    "大连市", "长春市", "哈尔滨市", "南京市", "苏州市", "无锡市", "常州市", "南通市",
    "杭州市", "宁波市", "温州市", "合肥市", "福州市", "厦门市", "南昌市", "济南市",
    "青岛市", "郑州市", "武汉市", "长沙市", "广州市", "深圳市", "东莞市", "佛山市",
    "珠海市", "海口市", "成都市", "贵阳市", "昆明市", "西安市", "兰州市", "西宁市",
    "呼和浩特市", "南宁市", "拉萨市", "银川市", "乌鲁木齐市", "昆山市", "江阴市",
    "常熟市", "张家港市", "义乌市",
]

#: short forms that are far more often a trade name than a region (阿里巴巴, 东方日升, 中山大学,
#: 朝阳科技): only their full form (阿里地区, 东方市, 中山市, 朝阳市) counts as a region.
AMBIGUOUS_SHORT = frozenset({"阿里", "东方", "中山", "朝阳", "和平", "长城", "太平", "永安", "新华", "安康",
                             "白山", "黄山", "泰山", "华山", "三亚", "长安", "万达", "海东"})

_ETHNIC_SUFFIXES = ("自治区", "自治州", "自治县", "自治旗", "特别行政区", "地区", "林区", "新区", "矿区",
                    "省", "市", "区", "县", "旗", "盟")


def _nations() -> list[str]:
    base = _resource_dir()
    names: list[str] = []
    if base is not None and (base / "56_nations.csv").exists():
        names = [n.strip() for n in (base / "56_nations.csv").read_text(encoding="utf-8").splitlines() if n.strip()]
    # "壮族" may appear as "壮族" or "壮" inside autonomous names; longest first
    expanded = set(names) | {n[:-1] for n in names if n.endswith("族") and len(n) > 2}
    return sorted(expanded, key=len, reverse=True)


#: cpca 0.5.5's data files (see the module docstring)
_RESOURCES = Path(__file__).with_name("resources")


def _resource_dir() -> Path | None:
    return _RESOURCES if (_RESOURCES / "adcodes.csv").exists() else None


def short_name(full: str, nations: list[str] | None = None) -> str:
    """江苏省 → 江苏, 广西壮族自治区 → 广西, 延边朝鲜族自治州 → 延边, 昆山市 → 昆山."""
    if nations is None:
        nations = _nations()
    name = full
    for suffix in _ETHNIC_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
            break
    else:
        return full
    changed = True
    while changed and nations:
        changed = False
        for n in nations:
            if name.endswith(n) and len(name) > len(n) + 1:
                name = name[: -len(n)]
                changed = True
                break
    return name


@lru_cache(maxsize=1)
def region_names() -> frozenset[str]:
    """Every string that counts as a region name (full and allowed short forms)."""
    nations = _nations()
    rows: list[tuple[str, str]] = []  # (adcode, name)
    base = _resource_dir()
    if base is not None and (base / "adcodes.csv").exists():
        with (base / "adcodes.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                rows.append((row["adcode"], row["name"]))
    else:
        rows = [("000000000000" if n.endswith(("省", "自治区", "特别行政区")) else "000100000000", n)
                for n in _FALLBACK]
    names: set[str] = {"中国", "中华人民共和国", "全国"}
    for code, name in rows:
        if not name or name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        names.add(name)
        county = code[4:] != "00000000"
        if not county or name.endswith("市"):
            short = short_name(name, nations)
            if len(short) >= 2 and short not in AMBIGUOUS_SHORT:
                names.add(short)
    return frozenset(names)


@lru_cache(maxsize=1)
def regions_longest_first() -> tuple[str, ...]:
    return tuple(sorted(region_names(), key=len, reverse=True))


def source() -> str:
    return "cpca adcodes.csv" if _resource_dir() is not None else "built-in fallback table"
