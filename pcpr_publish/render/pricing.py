"""Tariffs in words and numbers a driver can compare: pence per kWh including VAT.

OCPI 2.2.1 prices are excluding VAT, in the tariff's currency, with ``vat`` a percentage (absent
= no VAT). The Public Charge Point Regulations 2023 (reg 11) ask for the price in pence per kWh,
so every figure here is VAT-inclusive and computed in exact decimals.

Rounding rule (documented in the README, Human-readable pages, tested in tests/test_pages.py):

* **Per-kWh and per-minute prices**: price × (1 + vat/100), in pence, rounded **half up to one
  decimal place of a penny** and always shown with that one decimal: 0.4583 GBP excl. 20% VAT
  = 54.996p → "55.0p per kWh"; 0.4167 → 50.004p → "50.0p per kWh"; a figure exactly halfway
  rounds up (4.15p → "4.2p", 4.149p → "4.1p").
* **Hourly prices, session fees, minimum and maximum prices**: rounded half up to the whole
  penny; shown as "£1.20" from £1 and as "30p" below.

The per-minute figure is the hourly price divided by 60 *before* rounding, so rounding happens
once per shown figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pcpr_publish.common.decimals import plain
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi.rules import is_free
from pcpr_publish.render.words import DAY_NAMES, MONTH_NAMES, english

TENTH = Decimal("0.1")
ONE = Decimal("1")
HUNDRED = Decimal(100)
SIXTY = Decimal(60)
DAY_INDEX = {name.upper(): i for i, name in enumerate(DAY_NAMES)}


def incl_vat(price: Decimal, vat: Decimal | None) -> Decimal:
    """Exact VAT-inclusive amount: price × (100 + vat) / 100; no ``vat`` means no VAT."""
    if vat is None:
        return price
    return price * (HUNDRED + vat) / HUNDRED


def round_tenth(pence: Decimal) -> Decimal:
    """Half up to one decimal place: 54.996 → 55.0, 4.15 → 4.2, 4.149 → 4.1."""
    return pence.quantize(TENTH, rounding=ROUND_HALF_UP)


def round_whole(pence: Decimal) -> Decimal:
    return pence.quantize(ONE, rounding=ROUND_HALF_UP)


def pence_incl_vat(price: Decimal, vat: Decimal | None) -> Decimal:
    """GBP per unit excl. VAT → pence per unit incl. VAT, rounded half up to 0.1p."""
    return round_tenth(incl_vat(price, vat) * HUNDRED)


def format_rate(amount: Decimal, currency: str) -> str:
    """A per-unit rate (already VAT-inclusive, in major units): "55.0p" (GBP) or "0.550 EUR"."""
    if currency == "GBP":
        return f"{round_tenth(amount * HUNDRED)}p"
    return f"{amount.quantize(Decimal('0.001'), rounding=ROUND_HALF_UP)} {currency}"


def format_money(amount: Decimal, currency: str) -> str:
    """A sum (already VAT-inclusive, major units): "30p", "£1.20" (GBP), else "1.20 EUR"."""
    if currency == "GBP":
        pence = round_whole(amount * HUNDRED)
        if pence < HUNDRED:
            return f"{pence}p"
        return f"£{pence / HUNDRED:.2f}"
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} {currency}"




def duration_words(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("" if hours == 1 else "s")
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds} seconds"


def _days_words(days: list[str]) -> str:
    idx = sorted({DAY_INDEX[d] for d in days if d in DAY_INDEX})
    if idx == list(range(5)):
        return "on weekdays (Monday to Friday)"
    if idx == [5, 6]:
        return "at weekends (Saturday and Sunday)"
    names = [DAY_NAMES[i] for i in idx]
    consecutive = idx == list(range(idx[0], idx[-1] + 1)) if idx else False
    if len(names) > 2 and consecutive:
        return f"on {names[0]} to {names[-1]}"
    if len(names) == 1:
        return f"on {names[0]}"
    return "on " + ", ".join(names[:-1]) + f" and {names[-1]}"


def _date_words(iso: str) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{d} {MONTH_NAMES[m - 1]} {y}"


def restriction_words(r: ocpi.TariffRestrictions | None) -> str | None:
    """When an element applies, in words: "between 00:00 and 07:00, on weekdays (Monday to Friday)"."""
    if r is None:
        return None
    parts: list[str] = []
    if r.start_time and r.end_time:
        parts.append(f"between {r.start_time} and {r.end_time}")
    elif r.start_time:
        parts.append(f"from {r.start_time}")
    elif r.end_time:
        parts.append(f"until {r.end_time}")
    if r.day_of_week:
        parts.append(_days_words(list(r.day_of_week)))
    if r.start_date and r.end_date:
        parts.append(f"from {_date_words(r.start_date)} until the day before {_date_words(r.end_date)}")
    elif r.start_date:
        parts.append(f"from {_date_words(r.start_date)}")
    elif r.end_date:
        parts.append(f"until the day before {_date_words(r.end_date)}")
    if r.min_kwh is not None:
        parts.append(f"once {plain(r.min_kwh)} kWh has been delivered")
    if r.max_kwh is not None:
        parts.append(f"for the first {plain(r.max_kwh)} kWh")
    if r.min_power is not None:
        parts.append(f"when charging at {plain(r.min_power)} kW or more")
    if r.max_power is not None:
        parts.append(f"when charging at less than {plain(r.max_power)} kW")
    if r.min_current is not None:
        parts.append(f"when charging at {plain(r.min_current)} A or more")
    if r.max_current is not None:
        parts.append(f"when charging at less than {plain(r.max_current)} A")
    if r.min_duration is not None:
        parts.append(f"after the first {duration_words(r.min_duration)}")
    if r.max_duration is not None:
        parts.append(f"for the first {duration_words(r.max_duration)}")
    if r.reservation == "RESERVATION":
        parts.append("while the charger is reserved")
    elif r.reservation == "RESERVATION_EXPIRES":
        parts.append("when a reservation expires unused")
    return ", ".join(parts) or None


@dataclass(frozen=True)
class PriceLine:
    """One price component in words. ``text`` is the price, ``condition`` when it applies."""

    dimension: str  # ENERGY | TIME | PARKING_TIME | FLAT
    text: str
    condition: str | None = None

    @property
    def sentence(self) -> str:
        return f"{self.text}, {self.condition}" if self.condition else self.text


@dataclass(frozen=True)
class TariffWords:
    tariff_id: str
    headline: str  # "55.0p per kWh", "30.0p to 55.0p per kWh", "Free to use"
    kwh_pence: tuple[Decimal, ...]  # distinct VAT-inclusive p/kWh figures (GBP only), ascending
    lines: tuple[PriceLine, ...]
    notes: tuple[str, ...]
    vat_note: str
    free: bool
    alt_text: str | None = None
    alt_url: str | None = None


def _component_line(pc: ocpi.PriceComponent, currency: str) -> PriceLine:
    amount = incl_vat(pc.price, pc.vat)
    if pc.type == "ENERGY":
        text = f"{format_rate(amount, currency)} per kWh"
        if pc.step_size > 1:
            text += f" (billed in steps of {pc.step_size} Wh)"
        return PriceLine("ENERGY", text)
    if pc.type in ("TIME", "PARKING_TIME"):
        what = "while charging" if pc.type == "TIME" else "while parked and not charging"
        text = (f"{format_rate(amount / SIXTY, currency)} per minute {what} "
                f"({format_money(amount, currency)} per hour)")
        if pc.step_size > 1:
            text += f", billed in steps of {duration_words(pc.step_size)}"
        return PriceLine(pc.type, text)
    return PriceLine("FLAT", f"{format_money(amount, currency)} fee per charging session")


def _vat_note(components: list[ocpi.PriceComponent]) -> str:
    vats = {pc.vat for pc in components if pc.price > 0}
    if not vats:
        return ""
    if vats == {None}:
        return "No VAT is charged."
    if len(vats) == 1:
        (vat,) = vats
        return f"Prices include VAT at {plain(vat)}%."
    shown = ", ".join(f"{plain(v)}%" for v in sorted(v for v in vats if v is not None))
    return f"Prices include VAT (at {shown}{'; some with none' if None in vats else ''})."


def _min_max_note(label: str, price: ocpi.Price | None, currency: str) -> str | None:
    if price is None:
        return None
    if price.incl_vat is not None:
        return f"{label} {format_money(price.incl_vat, currency)} per session, including VAT."
    return f"{label} {format_money(price.excl_vat, currency)} per session, excluding VAT."


def tariff_words(tariff: ocpi.Tariff) -> TariffWords:
    """The whole tariff in words, in OCPI element order.

    OCPI applies, per dimension, the first element whose restrictions match. So an unrestricted
    element after a restricted one of the same dimension reads "at other times".
    """
    currency = tariff.currency
    lines: list[PriceLine] = []
    restricted_seen: set[str] = set()
    all_components: list[ocpi.PriceComponent] = []
    energy: set[Decimal] = set()
    for element in tariff.elements:
        condition = restriction_words(element.restrictions)
        for pc in element.price_components:
            all_components.append(pc)
            line = _component_line(pc, currency)
            cond = condition
            if cond is None and pc.type in restricted_seen:
                cond = "at all other times"
            if condition is not None:
                restricted_seen.add(pc.type)
            lines.append(PriceLine(line.dimension, line.text, cond))
            if pc.type == "ENERGY" and currency == "GBP":
                energy.add(pence_incl_vat(pc.price, pc.vat))
    free = is_free(tariff)
    kwh = tuple(sorted(energy))
    if free:
        headline = "Free to use"
        kwh = (Decimal("0.0"),) if currency == "GBP" else ()
        lines = []
    elif not any(pc.type == "ENERGY" for pc in all_components):
        headline = "No charge per kWh" if currency != "GBP" else "0.0p per kWh"
        kwh = (Decimal("0.0"),) if currency == "GBP" else ()
        lines.insert(0, PriceLine("ENERGY", "No charge for the energy itself (0.0p per kWh)"))
    elif currency != "GBP":
        rates = sorted({incl_vat(pc.price, pc.vat) for pc in all_components if pc.type == "ENERGY"})
        headline = " to ".join(dict.fromkeys(format_rate(r, currency) for r in (rates[0], rates[-1])))
        headline += " per kWh"
    elif len(kwh) == 1:
        headline = f"{kwh[0]}p per kWh"
    else:
        headline = f"{kwh[0]}p to {kwh[-1]}p per kWh"
    notes = [n for n in (
        _min_max_note("Minimum charge:", tariff.min_price, currency),
        _min_max_note("Maximum charge:", tariff.max_price, currency),
    ) if n]
    return TariffWords(
        tariff_id=tariff.id,
        headline=headline,
        kwh_pence=kwh,
        lines=tuple(lines),
        notes=tuple(notes),
        vat_note="" if free else _vat_note(all_components),
        free=free,
        alt_text=english(tariff.tariff_alt_text),
        alt_url=tariff.tariff_alt_url,
    )


def _range_words(tariffs: list[TariffWords]) -> str:
    """The per-kWh range of priced tariffs: "55.0p per kWh", "30.0p to 80.0p per kWh"."""
    pence = sorted({p for t in tariffs for p in t.kwh_pence})
    if not pence:
        return tariffs[0].headline  # not in GBP: the first tariff's own words
    if len(pence) == 1:
        return f"{pence[0]}p per kWh"
    return f"{pence[0]}p to {pence[-1]}p per kWh"


def summary_words(tariffs: list[TariffWords]) -> str:
    """One line for several tariffs (a location's, or one charger's), in the order met.

    "55.0p per kWh", "30.0p to 80.0p per kWh", "Free to use" when every tariff is free, and
    "Free on some chargers; 45.0p to 80.0p per kWh on others" when only some are: a free
    charger never shows as "0.0p" at the bottom of a range. ``templates/assets/app.js``
    (``priceSummary``) applies the same rule in the widget.
    """
    if not tariffs:
        return "Price not published"
    priced = [t for t in tariffs if not t.free]
    if not priced:
        return "Free to use"
    text = _range_words(priced)
    if len(priced) < len(tariffs):
        return f"Free on some chargers; {text} on others"
    return text


__all__ = [
    "PriceLine", "TariffWords", "format_money", "format_rate", "incl_vat", "pence_incl_vat",
    "restriction_words", "round_tenth", "summary_words", "tariff_words",
]
