"""The company-name key of the duplicate check, on many real-looking names."""
from __future__ import annotations

import pytest

from customers.names import company_key, normalise
from customers.regions import region_names, short_name, source

NIDONG = "日东精密电子"


@pytest.mark.parametrize("name", [
    "苏州日东精密电子有限公司",
    "苏州日东精密电子中心有限公司",
    "日东精密电子（苏州）有限公司",
    "日东精密电子(苏州)有限公司",
    "日东精密电子 ( 苏州 ) 有限公司",
    "日东精密电子【苏州】有限公司",
    "江苏省苏州市日东精密电子有限公司",
    "江苏苏州日东精密电子有限公司",
    "苏州市日东精密电子有限责任公司",
    "苏州日东精密电子股份有限公司",
    "苏州日东精密电子集团有限公司",
    "苏州日东精密电子实业有限公司",
    "苏州日东精密电子贸易有限公司",
    "苏州日东精密电子商贸有限公司",
    "日东精密电子有限公司",
    "日东精密电子有限公司苏州分公司",
    "苏州日东精密电子有限公司昆山分公司",
    "上海 日东 精密电子 有限公司",
    "日东精密电子（中国）有限公司",
    "日东精密电子（苏州工业园区）有限公司",
    "ＳＵＺＨＯＵ日东精密电子有限公司".replace("ＳＵＺＨＯＵ", ""),
    "苏州日东精密电子发展有限公司",
    "苏州日东精密电子科贸中心",
])
def test_nidong_variants_share_one_key(name: str) -> None:
    assert company_key(name) == NIDONG


@pytest.mark.parametrize("name,key", [
    ("华为技术有限公司", "华为技术"),
    ("深圳市华为技术有限公司", "华为技术"),
    ("广东省深圳市华为技术有限公司", "华为技术"),
    ("深圳市腾讯计算机系统有限公司", "腾讯计算机系统"),
    ("广西壮族自治区南宁市绿城商贸有限责任公司", "绿城"),
    ("内蒙古伊利实业集团股份有限公司", "伊利"),
    ("新疆维吾尔自治区天山毛纺织股份有限公司", "天山毛纺织"),
    ("北京市朝阳区好邻居商店", "好邻居"),
    ("ABC Trading 有限公司", "abctrading"),
    ("ＡＢＣ贸易有限公司", "abc"),
    ("abc 贸易 有限公司", "abc"),
    ("昆山市鼎鑫电子经营部", "鼎鑫电子"),
    ("杭州西湖区美味商行", "美味"),
    ("浙江杭州阿里巴巴网络技术有限公司", "阿里巴巴网络技术"),
    ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴网络技术"),
    ("东方日升新能源股份有限公司", "东方日升新能源"),
    ("中山大学", "中山大学"),
    ("上海市软件行业协会", "软件行业"),
    ("苏州实业有限公司", "苏州"),
    ("黄山旅游发展股份有限公司", "黄山旅游"),
])
def test_keys(name: str, key: str) -> None:
    assert company_key(name) == key


def test_person_and_company_are_two_records() -> None:
    assert company_key("张三") != company_key("张三贸易有限公司苏州分公司 某某")


def test_different_trade_names_differ() -> None:
    assert company_key("苏州日东精密电子有限公司") != company_key("苏州日西精密电子有限公司")
    assert company_key("苏州日东精密电子有限公司") != company_key("苏州日东精密机械有限公司")


def test_width_case_and_spaces_are_unified() -> None:
    assert normalise("Ａ Ｂ（c）") == normalise("ab(C)") == "ab(c)"


def test_never_empty_for_real_names() -> None:
    for name in ("苏州有限公司", "有限公司", "中心", "实业有限公司", "苏州市"):
        assert company_key(name)


def test_empty() -> None:
    assert company_key("") == ""
    assert company_key("   ") == ""


def test_long_names_are_fast_and_bounded() -> None:
    assert len(company_key("苏州" + "日" * 1000 + "有限公司")) == 1000


def test_region_table_comes_from_the_dataset() -> None:
    names = region_names()
    assert source() == "cpca adcodes.csv"
    for n in ("江苏省", "江苏", "苏州市", "苏州", "吴中区", "昆山市", "昆山", "广西", "内蒙古", "新疆", "延边"):
        assert n in names, n
    for n in ("朝阳", "和平", "东方", "中山"):  # ambiguous short forms are not regions
        assert n not in names, n
    assert short_name("广西壮族自治区") == "广西"
    assert short_name("延边朝鲜族自治州", ["朝鲜族", "朝鲜"]) == "延边"
