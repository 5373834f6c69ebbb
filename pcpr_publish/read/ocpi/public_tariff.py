"""Which of a connector's OCPI ``tariff_ids`` is its *public* tariff.

OCPI lets a connector list several tariffs ("only one of each Tariff.type can be active at the
same time") but PCPR publishes one price per connector: the price a driver who just turns up
pays. The export format calls it the connector's public tariff. For OCPI input it is chosen by
this rule (the README, OCPI input#public-tariff):

1. An explicit ``public_tariff_id`` (back-office extension) on the connector, else on the EVSE,
   wins; the rule below is not applied.
2. No ``tariff_ids`` → no public tariff (the EVSE is excluded: ``evse_without_public_tariff``).
3. If any listed id is not among the input's tariffs, the choice cannot be made safely (the
   missing tariff might be the walk-up one): that id is taken, so the EVSE is excluded with
   ``tariff_not_found``.
4. Candidates are the listed tariffs **active now** (``start_date_time`` ≤ exported_at <
   ``end_date_time``, open bounds when absent) whose type is a walk-up type, in this order:
   ``AD_HOC_PAYMENT`` (the price for ad hoc / contactless payment), then untyped (OCPI: "valid
   for all sessions"), then ``REGULAR``. ``PROFILE_*`` tariffs price a smart-charging preference
   and are never the public tariff. The first tier with a candidate is used.
5. One candidate in that tier → it is the public tariff (reported as info when the connector
   listed several tariffs). Several → if they price the same (same currency, elements and min/max
   price) the first listed is taken; else, if exactly one of them is a valid GBP tariff, that
   one is taken and the ambiguity is reported as a warning; else the EVSE is excluded with
   ``ocpi_public_tariff_ambiguous`` (an error): pcpr does not guess a price.
6. No candidate: a single listed tariff that has ended is taken (so the EVSE is excluded with
   ``tariff_expired``); otherwise the EVSE is excluded with ``ocpi_no_public_tariff``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pcpr_publish.common.dates import parse_datetime
from pcpr_publish.notices import (
    OCPI_NO_PUBLIC_TARIFF,
    OCPI_PUBLIC_TARIFF_AMBIGUOUS,
    OCPI_PUBLIC_TARIFF_CHOSEN,
    Severity,
)
from pcpr_publish.ocpi.enums import TariffType, canonical

# Walk-up tariff types, best first. None = untyped.
TIERS: tuple[str | None, ...] = ("AD_HOC_PAYMENT", None, "REGULAR")


@dataclass
class TariffFacts:
    """What the rule needs to know about one input tariff."""

    id: str
    type: str | None  # canonical TariffType, None when untyped, "?" when not a TariffType
    start: datetime | None
    end: datetime | None

    @classmethod
    def of(cls, tariff_id: str, raw_type: Any, start: Any, end: Any) -> TariffFacts:
        if raw_type in (None, ""):
            ttype: str | None = None
        else:
            ttype = canonical(TariffType, raw_type) or "?"
        return cls(tariff_id, ttype, parse_datetime(start), parse_datetime(end))

    def active(self, now: datetime) -> bool:
        return (self.start is None or self.start <= now) and (self.end is None or now < self.end)

    def ended(self, now: datetime) -> bool:
        return self.end is not None and self.end <= now

    @property
    def tier(self) -> int | None:
        return TIERS.index(self.type) if self.type in TIERS else None

    @property
    def label(self) -> str:
        return f"{self.id!r} ({self.type or 'untyped'})"


@dataclass
class Choice:
    tariff_id: str | None
    code: str | None = None
    message: str = ""
    severity: Severity | None = None


# price_key(tariff_id) → comparable price content of a valid GBP tariff, or None when invalid.
PriceKey = Callable[[str], bytes | None]


def choose_public_tariff(
    ids: list[str], tariffs: dict[str, TariffFacts], now: datetime, price_key: PriceKey
) -> Choice:
    """Apply rules 2-6 to a connector's (deduplicated, ordered) tariff ids."""
    if not ids:
        return Choice(None)
    missing = [i for i in ids if i.casefold() not in tariffs]
    if missing:
        return Choice(missing[0])
    facts = [tariffs[i.casefold()] for i in ids]
    listed = ", ".join(f.label for f in facts)
    walkup = [f for f in facts if f.active(now) and f.tier is not None]
    if not walkup:
        if len(facts) == 1 and facts[0].ended(now) and facts[0].tier is not None:
            return Choice(facts[0].id)  # the pipeline reports tariff_expired
        return Choice(None, OCPI_NO_PUBLIC_TARIFF,
                      f"none of the connector's tariffs [{listed}] is active now with a walk-up "
                      "type (AD_HOC_PAYMENT, untyped, REGULAR); EVSE excluded")
    best = min(f.tier for f in walkup if f.tier is not None)
    cands = [f for f in walkup if f.tier == best]
    kind = cands[0].type or "untyped"
    if len(cands) == 1:
        chosen = cands[0]
        if len(facts) == 1:
            return Choice(chosen.id)
        return Choice(chosen.id, OCPI_PUBLIC_TARIFF_CHOSEN,
                      f"public tariff {chosen.id!r} ({kind}, active now) chosen from [{listed}]")
    keys = {f.id: price_key(f.id) for f in cands}
    valid = [f for f in cands if keys[f.id] is not None]
    names = ", ".join(repr(f.id) for f in cands)
    if len(valid) == len(cands) and len({keys[f.id] for f in cands}) == 1:
        return Choice(cands[0].id, OCPI_PUBLIC_TARIFF_CHOSEN,
                      f"{names} are all {kind} and active now with the same prices; the first, "
                      f"{cands[0].id!r}, is published")
    if len(valid) == 1:
        others = ", ".join(repr(f.id) for f in cands if f is not valid[0])
        return Choice(valid[0].id, OCPI_PUBLIC_TARIFF_AMBIGUOUS,
                      f"{names} are all {kind} and active now (OCPI allows one of each type); "
                      f"{others} is not a valid GBP tariff and is set aside, {valid[0].id!r} is "
                      "published", Severity.WARNING)
    if not valid:
        # None can be published; take the first so the EVSE is excluded with the reason.
        return Choice(cands[0].id, OCPI_PUBLIC_TARIFF_AMBIGUOUS,
                      f"{names} are all {kind} and active now, and none is a valid GBP tariff",
                      Severity.WARNING)
    if len({keys[f.id] for f in valid}) == 1:
        return Choice(valid[0].id, OCPI_PUBLIC_TARIFF_AMBIGUOUS,
                      f"{names} are all {kind} and active now; the valid ones price the same, "
                      f"{valid[0].id!r} is published", Severity.WARNING)
    return Choice(None, OCPI_PUBLIC_TARIFF_AMBIGUOUS,
                  f"{names} are all {kind}, active now and priced differently (OCPI allows one "
                  "active tariff of each type); pcpr does not guess which price is public: EVSE "
                  "excluded")
