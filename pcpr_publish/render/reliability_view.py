"""The words, chart and tables of ``reliability.html``, from ``reliability.json``.

Plain words first: one sentence with the network figure and the requirement, then a chart per
month (inline SVG drawn with presentation attributes only, so the pages' Content Security Policy
holds, and hidden from screen readers, which get the same figures as a table), then each rapid
charger's figures. Every percentage is the one in ``reliability.json`` (two decimals).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pcpr_publish.render import words as w

CHART_WIDTH = 640
CHART_HEIGHT = 240
CHART_LEFT = 48  # room for the axis labels
CHART_BOTTOM = 28


def duration_words(seconds: float) -> str:
    """3 days 4 h, 5 h 20 min, 12 min, 0 min: a length of time for a table cell."""
    s = int(round(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days:,} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def pct_words(value: float | None) -> str:
    return "no data" if value is None else f"{value:.2f}%"


def month_words(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def date_words(text: str, zone: str) -> str:
    local = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return f"{local.day} {local.strftime('%B %Y')}"


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    colour: str


def chart(months: list[dict[str, Any]], target: float, accent: str) -> dict[str, Any]:
    """Bars for the months with a figure, on a scale from a floor below the lowest figure (at
    most 95%) to 100%, and the target line."""
    values = [m["reliability_pct"] for m in months if m["reliability_pct"] is not None]
    floor = min([95.0, *[v - 1 for v in values]])
    floor = max(0.0, float(int(floor)))
    plot_w = CHART_WIDTH - CHART_LEFT - 8
    plot_h = CHART_HEIGHT - CHART_BOTTOM - 8
    slot = plot_w / max(1, len(months))

    def y_of(v: float) -> float:
        return 8 + plot_h * (100 - v) / (100 - floor)

    bars = []
    for i, m in enumerate(months):
        v = m["reliability_pct"]
        label = datetime.strptime(m["month"], "%Y-%m").strftime("%b")
        if v is None:
            bars.append(Bar(CHART_LEFT + i * slot + slot * 0.15, 8 + plot_h, slot * 0.7, 0, label,
                            "no data", "#8a94a6"))
            continue
        top = y_of(max(v, floor))
        bars.append(Bar(CHART_LEFT + i * slot + slot * 0.15, top, slot * 0.7, 8 + plot_h - top,
                        label, f"{v:.2f}%", accent if v >= target else "#b3261e"))
    ticks = [(y_of(t), f"{t:g}%") for t in sorted({floor, (floor + 100) / 2, 100.0})]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT,
            "base": 8 + plot_h, "right": CHART_WIDTH - 8, "bars": bars, "ticks": ticks,
            "target_y": y_of(target)}


def headline(doc: dict[str, Any], name: str) -> str:
    """The first sentence of the page."""
    net = doc["network"]
    year = doc["period"]["from"][:4]
    to_local = datetime.fromisoformat(doc["period"]["to"].replace("Z", "+00:00")).astimezone(
        ZoneInfo(doc["time_zone"]))
    so_far = " so far" if str(to_local.year) == year and (to_local.month, to_local.day) != (1, 1) else ""
    if net["reliability_pct"] is None:
        return (f"We have no recorded status for {name}'s rapid charge points in {year}{so_far} "
                "yet, so there is no reliability figure.")
    verdict = ("which we meet" if net["meets_target"] else "which we do not meet")
    return (f"Our rapid network was reliable {net['reliability_pct']:.2f}% of the time in "
            f"{year}{so_far}; the requirement is {doc['target_pct']}%, {verdict}.")


def evse_rows(doc: dict[str, Any], views: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per rapid charger, by location name then uid, with the location's page."""
    rows = []
    for e in doc["evses"]:
        v = views.get(e["location_id"])
        rows.append({
            "uid": e["uid"], "location": v.name if v else (e["location_id"] or "unknown location"),
            "href": v.href if v else None, "power": w.format_kw(int(round(e["max_power_kw"] * 1000))),
            "pct": pct_words(e["reliability_pct"]),
            "not_reliable": duration_words(e["not_reliable_s"]),
            "ineligible": duration_words(e["ineligible_s"]),
            "no_data": duration_words(e["no_data_s"]),
            "below": e["reliability_pct"] is not None and e["reliability_pct"] < doc["target_pct"],
        })
    rows.sort(key=lambda r: (r["location"].casefold(), r["uid"]))
    return rows
