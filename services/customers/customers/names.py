"""The company-name key of the duplicate check (撞单), a pure function.

A company name is region + trade name + industry + organisation form. The key keeps
trade name + industry: it unifies width, case, brackets and spaces, then repeatedly
peels off, until nothing changes,
- organisation-form suffixes (有限公司, 股份有限公司, 集团, 中心, 分公司, …) at the end,
- generic filler words (实业, 贸易, 发展, 商贸, …) at the end,
- a bracketed group that holds a region (日东精密电子（苏州）有限公司) or is at the end,
- region names at the start (苏州, 江苏省苏州市) and at the end (…有限公司苏州分公司).
A peel that would leave fewer than two characters is not made, so 苏州实业有限公司
keeps 苏州 as its key rather than an empty one.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from customers.regions import region_names

ORG_FORMS: tuple[str, ...] = tuple(sorted({
    "股份有限公司", "有限责任公司", "有限公司", "责任公司", "股份公司", "集团有限公司", "集团股份有限公司",
    "分公司", "子公司", "总公司", "公司", "集团", "控股", "中心", "商行", "商店", "商号", "协会", "学会", "商会",
    "合作社", "专业合作社", "事务所", "工作室", "经营部", "门市部", "营业部", "办事处", "分店", "总店", "店",
    "厂", "总厂", "分厂", "研究院", "研究所", "有限合伙", "合伙企业", "个体工商户", "企业", "股份",
    "co.,ltd", "co.ltd", "coltd", "co.,ltd.", "ltd", "limited", "inc", "corp", "corporation", "company",
}, key=len, reverse=True))

FILLERS: tuple[str, ...] = tuple(sorted({
    "实业", "贸易", "发展", "科贸", "商贸", "经营", "销售", "商城", "商场", "经贸", "工贸", "实业发展",
    "投资", "国际", "国际贸易", "进出口", "有限", "服务", "经销", "批发", "零售", "连锁",
}, key=len, reverse=True))

_OPEN = "(（[【〔［{｛<《"
_CLOSE = ")）]】〕］}｝>》"
_BRACKETS = str.maketrans({**{c: "(" for c in _OPEN}, **{c: ")" for c in _CLOSE}})
_DROP = re.compile(r"[\s\u200b-\u200f\u2060\ufeff·•・．.,，、/\\\-_—–'\"“”‘’&＆+:：;；!！?？*#]+")
_BRACKET_GROUP = re.compile(r"\(([^()]*)\)")
MIN_KEY = 2


def normalise(name: str) -> str:
    """Unify width (NFKC), case, brackets; drop spaces and punctuation (brackets kept)."""
    text = unicodedata.normalize("NFKC", name or "").translate(_BRACKETS).lower()
    return _DROP.sub("", text)


def _by_length(words: tuple[str, ...]) -> tuple[tuple[int, frozenset[str]], ...]:
    lengths = sorted({len(w) for w in words}, reverse=True)
    return tuple((n, frozenset(w for w in words if len(w) == n)) for n in lengths)


_ORG_BY_LEN = _by_length(ORG_FORMS)
_FILLER_BY_LEN = _by_length(FILLERS)


def _strip_suffix(text: str, words: tuple[tuple[int, frozenset[str]], ...]) -> str | None:
    for n, group in words:
        if len(text) - n >= MIN_KEY and text[-n:] in group:
            return text[:-n]
    return None


def _strip_region_prefix(text: str) -> str | None:
    names = region_names()
    for n in _lengths():
        if len(text) - n >= MIN_KEY and text[:n] in names:
            return text[n:]
    return None


def _strip_region_suffix(text: str) -> str | None:
    names = region_names()
    for n in _lengths():
        if n >= 2 and len(text) - n >= MIN_KEY and text[-n:] in names:
            return text[:-n]
    return None


@lru_cache(maxsize=1)
def _lengths() -> tuple[int, ...]:
    """Distinct lengths of region names, longest first (set lookups instead of scans)."""
    return tuple(sorted({len(r) for r in region_names()}, reverse=True))


def _strip_brackets(text: str) -> str | None:
    regions = region_names()
    out = text
    for m in list(_BRACKET_GROUP.finditer(text)):
        inner = m.group(1)
        whole = m.group(0)
        if not inner or inner in regions or _is_regions(inner) or m.end() == len(text):
            out = out.replace(whole, "", 1)
        else:  # a bracket that is part of the trade name: keep the words, drop the marks
            out = out.replace(whole, inner, 1)
    out = out.replace("(", "").replace(")", "")
    return out if out != text and len(out) >= MIN_KEY else None


def _is_regions(text: str) -> bool:
    """True when ``text`` is a concatenation of region names (江苏苏州, 苏州工业园区)."""
    names = region_names()
    rest = text
    while rest:
        step = next((n for n in _lengths() if n <= len(rest) and rest[:n] in names), None)
        if step is None:
            return rest in ("工业园区", "园区", "高新区", "开发区", "经济开发区", "自贸区")
        rest = rest[step:]
    return True


@lru_cache(maxsize=65536)
def company_key(name: str) -> str:
    """苏州日东精密电子有限公司, 日东精密电子（苏州）有限公司 → 日东精密电子."""
    text = normalise(name)
    if not text:
        return ""
    for _ in range(50):  # each step shortens the text; the bound is only a guard
        for step in (_strip_brackets,
                     lambda t: _strip_suffix(t, _ORG_BY_LEN),
                     lambda t: _strip_suffix(t, _FILLER_BY_LEN),
                     _strip_region_suffix,
                     _strip_region_prefix):
            nxt = step(text)
            if nxt is not None and nxt != text:
                text = nxt
                break
        else:
            break
    return text.replace("(", "").replace(")", "")
