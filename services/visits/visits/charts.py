"""PNG charts of the visit reports (matplotlib, Agg backend), Chinese labels in a CJK
font installed by ``scripts/install-system-deps.sh`` (fonts-wqy-microhei).

* ``employee-visits`` — three-series line chart: actual per person, planned per person,
  company average, per day;
* ``customer-visits`` — pie of customers by number of visits (0, 1, 2, … , 5+);
* ``customer-grades`` — bar chart of average visits per customer grade.

CPU work: call :func:`render` through ``eventlet.tpool`` in a service worker.
"""
from __future__ import annotations

import io
import os
import threading
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from crmkit.errors import InvalidInput  # noqa: E402

KINDS = ("employee-visits", "customer-visits", "customer-grades")
CJK_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC")
CJK_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
_LOCK = threading.Lock()
_FAMILY: list[str] = []


def cjk_family() -> str:
    """The family name of an installed CJK font (registered with matplotlib by path when
    fontconfig's cache predates it); raises when none is installed."""
    with _LOCK:
        if _FAMILY:
            return _FAMILY[0]
        extra = os.environ.get("CRM_CJK_FONT")
        for path in ((extra,) if extra else ()) + CJK_PATHS:
            if path and os.path.exists(path):
                font_manager.fontManager.addfont(path)
        for fam in CJK_FAMILIES:
            try:
                font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
            except ValueError:
                continue
            _FAMILY.append(fam)
            return fam
        raise RuntimeError("no CJK font installed: run scripts/install-system-deps.sh (fonts-wqy-microhei)")


def _figure(title: str) -> tuple[Figure, Any]:
    fam = cjk_family()
    fig = Figure(figsize=(9, 4.8), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(title, fontfamily=fam)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def line_chart(summary: dict[str, Any]) -> bytes:
    fam = cjk_family()
    fig, ax = _figure("拜访统计：实际 / 计划 / 公司平均（每人每天）")
    s = summary.get("series") or []
    x = [r["day"][5:] for r in s]
    ax.plot(x, [r["actual_per_person"] for r in s], marker="o", label="实际拜访 actual")
    ax.plot(x, [r["planned_per_person"] for r in s], marker="s", label="计划拜访 planned")
    ax.plot(x, [r["company_average"] for r in s], linestyle="--", label="公司平均 company average")
    ax.set_xlabel("日期 day", fontfamily=fam)
    ax.set_ylabel("拜访次数 visits", fontfamily=fam)
    ax.legend(prop={"family": fam})
    step = max(1, len(x) // 10)
    ax.set_xticks(range(0, len(x), step))
    ax.set_xticklabels(x[::step], rotation=45)
    return _png(fig)


def pie_chart(customer_summary: dict[str, Any]) -> bytes:
    fam = cjk_family()
    fig, ax = _figure("客户拜访次数分布 customers by visits")
    buckets: dict[str, int] = {}
    for b in customer_summary.get("frequency") or []:
        label = f"{b['visits']} 次" if b["visits"] < 5 else "5+ 次"
        buckets[label] = buckets.get(label, 0) + b["customers"]
    items = [(k, v) for k, v in buckets.items() if v]
    if items:
        ax.pie([v for _, v in items], labels=[k for k, _ in items], autopct="%1.0f%%",
               textprops={"family": fam})
    else:
        ax.text(0.5, 0.5, "无数据 no data", ha="center", va="center", fontfamily=fam)
    return _png(fig)


def grade_bar_chart(customer_summary: dict[str, Any]) -> bytes:
    fam = cjk_family()
    fig, ax = _figure("各等级客户平均拜访次数 average visits per grade")
    g = customer_summary.get("grades") or []
    ax.bar([str(r["grade"]) for r in g], [r["average"] for r in g], color="#4c72b0")
    ax.set_xlabel("客户等级 grade", fontfamily=fam)
    ax.set_ylabel("平均拜访次数 average visits", fontfamily=fam)
    return _png(fig)


def render(kind: str, report: dict[str, Any]) -> bytes:
    if kind == "employee-visits":
        return line_chart(report)
    if kind == "customer-visits":
        return pie_chart(report)
    if kind == "customer-grades":
        return grade_bar_chart(report)
    raise InvalidInput("report.bad_chart", f"chart kinds are {', '.join(KINDS)}", {"kind": kind})
