"""Rules about OCPI objects that more than one stage applies, written once.

"Free of charge" decides both a PCPR check (a tariff without an ENERGY price is fine when free)
and the words on the pages ("Free to use"); the currency rule decides both whether the pipeline
publishes a tariff and whether the OCPI input reader may choose it as the public tariff.
"""

from __future__ import annotations

from pcpr_publish.common.refdata import ISO4217
from pcpr_publish.notices import TARIFF_NOT_GBP, TARIFF_UNKNOWN_CURRENCY, Action, Report
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi.construct import Subject


def is_free(tariff: ocpi.Tariff) -> bool:
    """Free of charge: every price component is zero and there is no positive minimum price."""
    if tariff.min_price is not None and tariff.min_price.excl_vat > 0:
        return False
    return all(pc.price == 0 for el in tariff.elements for pc in el.price_components)


def tariff_currency_ok(tariff: ocpi.Tariff, subject: Subject, report: Report) -> bool:
    """ISO 4217 and GBP. Errors here make the tariff unusable for the UK feed."""
    if tariff.currency not in ISO4217:
        subject.notice(report, TARIFF_UNKNOWN_CURRENCY, f"currency {tariff.currency!r} is not an "
                       "ISO 4217 code", Action.EXCLUDED, field="currency", value=tariff.currency)
        return False
    if tariff.currency != "GBP":
        subject.notice(report, TARIFF_NOT_GBP, f"currency is {tariff.currency}, not GBP; tariff "
                       "excluded", Action.EXCLUDED, field="currency", value=tariff.currency)
        return False
    return True
