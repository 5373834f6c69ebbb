"""The export's conveniences expanded to OCPI form.

An export tariff is an OCPI Tariff with a few conveniences (plain-text ``alt_text``, bare
numbers for ``min_price``/``max_price``, ``step_size`` left out). The pipeline maps tariffs with
:func:`tariff_fields`, and the OCPI input reader uses the same function to compare the prices of
tariffs it read, so both see a tariff exactly as it would be published.
"""

from __future__ import annotations

from typing import Any

from pcpr_publish.read.export import models as ex


def display_texts(value: Any) -> Any:
    """A plain string means English text; a list is taken as OCPI DisplayText[]."""
    if isinstance(value, str):
        return [{"language": "en", "text": value}]
    if isinstance(value, dict):
        return [value]
    return value


def tariff_fields(t: ex.Tariff, operator: ex.Operator, provisional: str) -> dict[str, Any]:
    elements = []
    for el in t.elements:
        if isinstance(el, dict):
            el = dict(el)
            comps = el.get("price_components")
            if isinstance(comps, list):
                el["price_components"] = [
                    {**c, "step_size": c.get("step_size", 1) if c.get("step_size") not in (None, "") else 1}
                    if isinstance(c, dict) else c
                    for c in comps
                ]
        elements.append(el)

    def price(v: Any) -> Any:
        return {"excl_vat": v} if isinstance(v, (int, float, str)) and not isinstance(v, bool) else v

    return {
        "country_code": operator.country_code,
        "party_id": operator.party_id,
        "id": t.id,
        "currency": t.currency.strip().upper(),
        "type": t.type,
        "tariff_alt_text": display_texts(t.alt_text),
        "tariff_alt_url": t.alt_url,
        "min_price": price(t.min_price),
        "max_price": price(t.max_price),
        "elements": elements,
        "start_date_time": t.start_date_time,
        "end_date_time": t.end_date_time,
        "energy_mix": t.energy_mix,
        "last_updated": provisional,
    }
