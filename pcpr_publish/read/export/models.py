"""Pydantic models of the back-office export, format ``pcpr-export/1`` (export-format.md).

"Parse permissively": these models check only the export's *structure* (required fields are
present, lists are lists, ids are short printable strings). Values that OCPI constrains
(enums, coordinates, prices, timestamps) are kept as given and judged later, object by object,
so that one bad connector excludes one EVSE instead of the whole export.

Unknown fields are dropped on read (``extra="ignore"``): private back-office data never even
reaches the mapping code. ``null``, ``""`` and an absent field all mean "absent".
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

FORMAT = "pcpr-export/1"

ExportId = Annotated[
    str,
    # Surrounding spaces are trimmed on read, so "S1" and "S1 " are the same (duplicate) id.
    StringConstraints(strip_whitespace=True, min_length=1, max_length=36, pattern=r"^[\x20-\x7e]+$"),
    Field(description="≤ 36 printable ASCII characters"),
]


def _drop_absent(data: Any) -> Any:
    """``null`` and ``""`` mean the same as an absent field."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if v is not None and v != ""}
    return data


class ExportModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _absent(cls, data: Any) -> Any:
        return _drop_absent(data)


class Operator(ExportModel):
    """The CPO publishing the data. Any field may instead come from ``pcpr.toml``."""

    country_code: str | None = None
    party_id: str | None = None
    name: str | None = None
    website: str | None = None
    logo_url: str | None = None
    phone: str | None = None


class AccessProfile(ExportModel):
    """Access control profile: never published; read only so that we can say so."""

    name: Any = None
    tariff_id: Any = None


class Connector(ExportModel):
    id: ExportId
    standard: str
    format: str
    power_type: str
    max_voltage: Any
    max_amperage: Any
    max_electric_power: Any = None
    public_tariff_id: Any = None
    status: Any = None
    is_published: Any = None
    terms_and_conditions: Any = None
    updated_at: Any = None


class Evse(ExportModel):
    uid: ExportId
    evse_id: Any = None
    evse_type: Any = None
    privilege_status: Any = None
    is_published: Any = None
    is_enabled: Any = None
    online: Any = None
    public_tariff_id: Any = None
    access_profiles: Any = None
    status: Any = None
    status_updated_at: Any = None
    capabilities: Any = None
    floor_level: Any = None
    physical_reference: Any = None
    parking_restrictions: Any = None
    directions: Any = None
    images: Any = None
    latitude: Any = None
    longitude: Any = None
    updated_at: Any = None
    connectors: list[Connector]


class Site(ExportModel):
    id: ExportId
    name: Any = None
    public_visibility: Any = None
    address: str
    city: str
    postal_code: Any = None
    state: Any = None
    country: str
    latitude: float | str
    longitude: float | str
    time_zone: Any = None
    opening_times: Any = None
    charging_when_closed: Any = None
    parking_type: Any = None
    facilities: Any = None
    owner: Any = None
    images: Any = None
    energy_mix: Any = None
    directions: Any = None
    updated_at: Any = None
    evses: list[Evse]


class Tariff(ExportModel):
    id: ExportId
    currency: str
    type: Any = None
    elements: list[Any]
    alt_text: Any = None
    alt_url: Any = None
    min_price: Any = None
    max_price: Any = None
    start_date_time: Any = None
    end_date_time: Any = None
    energy_mix: Any = None
    updated_at: Any = None


class Export(ExportModel):
    """A whole back-office export: everything, public and private."""

    format: str
    exported_at: str
    operator: Operator = Field(default_factory=Operator)
    sites: list[Site]
    tariffs: list[Tariff]
