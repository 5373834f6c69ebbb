"""OCPI input (issue 6): real UK feed defects and OCPI 2.1.1/2.2.1 shapes through ``pcpr build``.

* Every feed in ``tests/fixtures/real-feed-defects/`` (small hand-written feeds, one per real UK
  feed, reproducing the defects that the real-feed sample notes describe for it; see that
  folder's README) builds through the CLI with exit 0 and no traceback; every published OCPI
  file validates strictly (``LocationListResponse``, ``TariffListResponse``,
  ``LocationResponse``); and the report names each defect the feed holds (expectations written
  out per feed below). The real samples themselves, kept outside the repository, are run by
  ``test_corpus.py`` when they are present.
* Synthetic inputs pin the rest: 2.1.1 names, extended EVSE records and charging stations,
  private fields never published, the public-tariff rule, duplicates, unsafe guesses excluded
  with an error, operator party from configuration, input shapes, exported_at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pcpr_publish.cli import cli
from pcpr_publish.errors import InputError
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.pipeline.dataset import build_dataset
from pcpr_publish.read import relocate_notices
from pcpr_publish.read.ocpi import load_ocpi

FIXTURES = Path(__file__).parent / "fixtures"
FEEDS = FIXTURES / "real-feed-defects"
PARTY_ENV = {"PCPR_OPERATOR_COUNTRY_CODE": "GB", "PCPR_OPERATOR_PARTY_ID": "ACC"}


# ---- helpers -----------------------------------------------------------------------------------

def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI in-process; exceptions propagate, so a traceback fails the test."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def build(tmp_path: Path, *inputs: Any, env: dict[str, str] | None = None,
          extra: tuple[str, ...] = (), expect_exit: int = 0) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / "site"
    result = run("build", *map(str, inputs), "--out", str(out), *extra, env=env)
    assert result.exit_code == expect_exit, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    report_path = tmp_path / "site.report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return out, report


def check_published(out: Path) -> tuple[ocpi.LocationListResponse, ocpi.TariffListResponse]:
    """Every published OCPI file passes the strict OCPI 2.2.1 models; ids and references agree."""
    locations = ocpi.LocationListResponse.model_validate_json((out / "locations.json").read_bytes())
    tariffs = ocpi.TariffListResponse.model_validate_json((out / "tariffs.json").read_bytes())
    per_location = sorted((out / "locations").glob("*.json")) if (out / "locations").is_dir() else []
    assert len(per_location) == len(locations.data)
    for f in per_location:
        one = ocpi.LocationResponse.model_validate_json(f.read_bytes())
        assert one.data in locations.data
    tariff_ids = {t.id for t in tariffs.data}
    used = {tid for loc in locations.data for e in loc.evses or [] for c in e.connectors
            for tid in c.tariff_ids or []}
    assert used == tariff_ids  # rule 5: exactly the referenced tariffs, no dangling reference
    for loc in locations.data:
        assert loc.publish is True and loc.evses
        for e in loc.evses:
            for c in e.connectors:
                assert c.tariff_ids and len(c.tariff_ids) == 1
    return locations, tariffs


def samples(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(s, code=g["code"]) for g in report["notices"] for s in g["samples"]]


def has(report: dict[str, Any], code: str, text: str = "", severity: str | None = None) -> bool:
    return any(s["code"] == code and text in s["message"] and
               (severity is None or s["severity"] == severity) for s in samples(report))


def published_bytes(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())


# ---- every real feed sample ---------------------------------------------------------------------
# (files, env, published (locations, EVSEs, tariffs), [(code, message fragment)]) per feed. Each
# expectation names a defect from the feed's notes in real-feeds/README.md that the sample holds.

# ---- every real-feed defect ---------------------------------------------------------------------
# (files, env, published (locations, EVSEs, tariffs), [(code, message fragment)]) per feed. Each
# feed folder imitates one real UK feed (named in the key) with invented sites, ids and prices;
# each expectation names a defect from that feed's notes (see the folder's README.md).

KERB_JULY = [FEEDS / "kerbside/july/locations-response.json", FEEDS / "kerbside/july/tariffs-response.json"]
KERB_PAGES = FEEDS / "kerbside/pages_2026-10-07"
KERB_GBP = "3f5c9a10-7d2e-4b61-9a0c-5e8d21b4c0a7"
KERB_MILL_ROAD = "6e2b8d4f-3ca1-4a7f-9d52-04b1f8c36e22"

REAL_FEEDS: dict[str, tuple[list[Path], dict[str, str] | None, tuple[int, int, int], list[tuple[str, str]]]] = {
    "chargy-2026-07-27": (KERB_JULY, None, (0, 0, 0), [
        ("ocpi_status_not_in_enum", "'WORKING' is not an OCPI Status; published as AVAILABLE"),  # 1
        ("ocpi_status_not_in_enum", "'FAULTED' is not an OCPI Status; published as OUTOFORDER"),
        ("tariff_not_gbp", "EUR"), ("tariff_not_gbp", "USD"),                           # 2
        ("tariff_not_found", "'e0e0e0e0-dead-4bad-8bad-0000000000aa'"),                  # 3
        ("tariff_vat_missing", "no vat"),                                                # 4
        ("ocpi_value_normalised", "owner.name 'Fakeshire Council '"),                   # 5
        ("site_without_published_evse", ""),
    ]),
    "chargy-2026-10-07-pages": ([KERB_PAGES], None, (2, 2, 1), [
        ("ocpi_status_not_in_enum", "'WORKING'"),
        ("tariff_not_gbp", "EUR"), ("tariff_not_gbp", "USD"),
        ("tariff_vat_missing", "no vat"),
        ("ocpi_value_normalised", "'Fakeshire Council '"),
        ("ocpi_value_normalised", "address ' Mill Road'"),
        ("ocpi_pull_paging", "locations?limit=2&offset=2"),  # page 2 of 4,120 not recorded
        ("ocpi_envelope_not_standard", "recorded HTTP exchange"),
    ]),
    "geniepoint": ([FEEDS / "hotelcharge"], None, (1, 5, 3), [
        ("ocpi_alt_text_dropped", "Tariff_Rapid"),      # internal names in tariff_alt_text
        ("ocpi_alt_text_dropped", "Tariff_Fast"),
        ("ocpi_pull_paging", "X-Limit '0'"),            # X-Limit: 0
        ("ocpi_last_updated_not_propagated", "2025-01-09T13:37:00Z"),
        ("ocpi_duplicate_object", "appears 3 times with the same content"),  # repeated tariffs
        ("longitude_sign_lost", "2.431200"),            # minus sign missing from a longitude
    ]),
    "mer_uk": ([FEEDS / "rapidmer/data.json"], None, (2, 6, 1), [
        ("ocpi_envelope_not_standard", "nested in one response"),  # {"data":{"locations":…}}
        ("ocpi_step_size_not_1", "ENERGY step_size 1000"),        # ENERGY step_size 1000 Wh
        ("invalid_field", "directions[0].text"),                  # empty DisplayText
        ("ocpi_implausible_rating", "AC_3_PHASE max_voltage 400 looks line-to-line"),
        ("ocpi_alt_text_price", "£0.39"),                         # VAT-inclusive price in text
    ]),
    "arnold_clark_fuuse": ([FEEDS / "dealerhub"], PARTY_ENV, (1, 1, 1), [
        ("ocpi_party_missing", "country_code and party_id missing; GB/ACC"),  # no cc/party
        ("evse_without_public_tariff", ""),             # only 1 of 4 connectors has tariff_ids
        ("ocpi_number_as_string", "price is the string '0.5125'"),  # prices as strings
        ("ocpi_number_as_string", "vat is the string '20.0000'"),   # VAT as string
        ("ocpi_number_as_string", "min_kwh is the string '0.2000'"),
        ("evse_id_not_emi3", "'Q0012345B*1'"),          # evse_id not eMI3
        ("duplicate_value", "REMOTE_START_STOP_CAPABLE"),  # repeated capability
        ("ocpi_envelope_not_standard", "without status_message"),  # no status_message
        ("site_without_published_evse", ""),            # the "(App Bookings)" twin, no tariffs
    ]),
    "jolt": ([FEEDS / "zapstreet"], None, (0, 0, 0), [
        ("ocpi_id_derived", "Location has no id; 'ZAP004'"),          # no id (name used)
        ("ocpi_publish_missing", "no publish flag"),                  # no publish
        ("ocpi_missing_field", "last_updated missing"),               # no last_updated
        ("ocpi_missing_field", "time_zone missing"),                  # some without time_zone
        ("ocpi_coordinates_format", "JSON numbers"),                  # numeric coordinates
        ("ocpi_id_derived", "EVSE has no uid; '501'"),                # uid: null
        ("ocpi_string_as_number", "evse_id is the number 501"),       # evse_id a number
        ("ocpi_status_not_in_enum", "'available'"),                   # lowercase status
        ("ocpi_status_not_in_enum", "'preparing' is not an OCPI Status; published as CHARGING"),
        ("ocpi_value_normalised", "status_schedule is a JSON dict"),  # status_schedule: {}
        ("evse_without_connectors", ""),                              # empty connectors
        ("ocpi_string_as_number", "id is the number 502"),            # numeric connector id
        ("ocpi_value_normalised", "'CCS2' is not an OCPI ConnectorType"),  # CCS2
        ("ocpi_implausible_rating", "max_amperage is 0"),             # max_amperage 0
        ("evse_without_public_tariff", ""),                           # connector w/o tariff
        ("ocpi_timestamp_not_utc", "+00:00"),                         # +00:00 timestamps
        ("ocpi_value_normalised", "tariff_alt_text is a list of plain strings"),
        ("ocpi_value_normalised", "min_price is a plain number"),     # min/max_price numbers
        ("invalid_object", "price: required field is missing"),      # tariff 13 price null
        ("ocpi_envelope_not_standard", 'objects under "locations"'),  # {"locations": […]}
        ("ocpi_envelope_not_standard", "one bare Tariff object"),     # bare tariff object
        ("ocpi_evse_id_other_party", "GB*HPC"),                       # another network under ZAP
        ("tariff_not_found", "'5'"),                                  # 5/14 not in the feed
    ]),
}


def test_every_feed_folder_is_exercised() -> None:
    """No fixture file sits unused: each one is input to some REAL_FEEDS entry."""
    used: set[Path] = set()
    for files, *_ in REAL_FEEDS.values():
        for f in files:
            used |= set(f.glob("*.json")) if f.is_dir() else {f}
    assert used == set(FEEDS.rglob("*.json"))


@pytest.mark.parametrize("feed", sorted(REAL_FEEDS))
def test_real_feed_builds_and_names_its_defects(feed: str, tmp_path: Path) -> None:
    files, env, (n_loc, n_evse, n_tariff), expected = REAL_FEEDS[feed]
    out, report = build(tmp_path, *files, env=env)
    locations, tariffs = check_published(out)
    assert len(locations.data) == n_loc
    assert sum(len(loc.evses or []) for loc in locations.data) == n_evse
    assert len(tariffs.data) == n_tariff
    missing = [(code, text) for code, text in expected if not has(report, code, text)]
    assert not missing, f"{feed}: defects not reported: {missing}"
    # Every notice about an input object names the input file and the object's JSON path.
    for s in samples(report):
        if s["kind"] in ("Location", "EVSE", "Connector", "Tariff"):
            assert " $." in s["path"] and not s["path"].startswith("$.sites"), s


def test_real_feed_notice_paths_name_file_and_json_path(tmp_path: Path) -> None:
    _, report = build(tmp_path, *KERB_JULY)
    status = next(s for s in samples(report) if s["code"] == "ocpi_status_not_in_enum")
    assert status["path"] == f"{KERB_JULY[0]} $.data[0].evses[0]"
    missing = next(s for s in samples(report) if s["code"] == "tariff_not_found")
    assert missing["path"] == f"{KERB_JULY[0]} $.data[0].evses[0].connectors[0]"
    assert missing["severity"] == "ERROR"


def test_real_feed_published_values(tmp_path: Path) -> None:
    out, _ = build(tmp_path, KERB_PAGES)
    locations, tariffs = check_published(out)
    by_id = {loc.id: loc for loc in locations.data}
    assert all(loc.evses[0].status == "AVAILABLE" for loc in locations.data)  # WORKING
    mill_road = by_id[KERB_MILL_ROAD]
    assert mill_road.address == "Mill Road" and mill_road.owner.name == "Fakeshire Council"
    assert [t.id for t in tariffs.data] == [KERB_GBP]
    # GeniePoint-like: internal alt text dropped, VAT kept.
    out2, _ = build(tmp_path / "g", FEEDS / "hotelcharge")
    _, gtariffs = check_published(out2)
    assert all(t.tariff_alt_text is None for t in gtariffs.data)
    assert all(pc.vat == 20 for t in gtariffs.data for el in t.elements for pc in el.price_components)


def test_jolt_with_its_other_tariffs_publishes_with_the_ad_hoc_tariff(tmp_path: Path) -> None:
    """With tariffs 5 and 14 present, ZAP sites publish with tariff 4 (AD_HOC_PAYMENT); tariff
    13 (also AD_HOC_PAYMENT, price null) is set aside with a warning."""
    extra = []
    for tid, ttype in (("5", "REGULAR"), ("14", "PROFILE_CHEAP")):
        p = tmp_path / f"tariff_{tid}.json"
        p.write_text(json.dumps({
            "country_code": "GB", "party_id": "ZAP", "id": tid, "currency": "GBP", "type": ttype,
            "elements": [{"price_components": [{"type": "ENERGY", "price": 0.6, "vat": 20,
                                                "step_size": 1}]}],
            "last_updated": "2026-08-20T00:32:20+00:00"}))
        extra.append(p)
    out, report = build(tmp_path, FEEDS / "zapstreet", *extra)
    locations, tariffs = check_published(out)
    assert [loc.id for loc in locations.data] == ["ZAP004", "ZAP114"]
    assert [t.id for t in tariffs.data] == ["4"]
    zap004 = locations.data[0]
    assert [e.uid for e in zap004.evses] == ["501", "502"]
    assert [e.status for e in zap004.evses] == ["AVAILABLE", "CHARGING"]  # available, preparing
    assert zap004.evses[1].connectors[0].standard == "IEC_62196_T2_COMBO"  # CCS2
    assert zap004.coordinates.latitude == "51.5123456" and zap004.evses[0].evse_id == "501"
    assert zap004.evses[0].connectors[0].last_updated == "2026-09-13T23:58:12Z"  # from +00:00
    # Location and EVSEs give no last_updated: they take exported_at (rule 8), never older
    # than their connectors.
    assert zap004.last_updated == "2026-09-14T06:41:09Z"
    assert has(report, "ocpi_public_tariff_ambiguous", "'13' is not a valid GBP tariff", "WARNING")
    assert has(report, "tariff_not_found", "'25'")  # the other network's tariff is not in the feed


# ---- OCPI 2.1.1 ---------------------------------------------------------------------------------

def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def tariff(tid: str, price: float = 0.5, **extra: Any) -> dict[str, Any]:
    t = {"country_code": "GB", "party_id": "TST", "id": tid, "currency": "GBP",
         "elements": [{"price_components": [{"type": "ENERGY", "price": price, "vat": 20,
                                             "step_size": 1}]}],
         "last_updated": "2026-10-01T00:00:00Z"}
    t.update(extra)
    return {k: v for k, v in t.items() if v is not None}


def connector(cid: str = "1", tariff_ids: Any = ("T1",), **extra: Any) -> dict[str, Any]:
    """An OCPI Connector; ``tariff_ids=None`` leaves the field out."""
    c = {"id": cid, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_1_PHASE",
         "max_voltage": 230, "max_amperage": 32,
         "tariff_ids": list(tariff_ids) if tariff_ids is not None else None,
         "last_updated": "2026-10-01T00:00:00Z"}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def evse(uid: str, *connectors: dict[str, Any], **extra: Any) -> dict[str, Any]:
    e = {"uid": uid, "evse_id": f"GB*TST*E{uid}", "status": "AVAILABLE",
         "connectors": list(connectors) or [connector()], "last_updated": "2026-10-01T00:00:00Z"}
    e.update(extra)
    return {k: v for k, v in e.items() if v is not None}


def location(lid: str, *evses: dict[str, Any], lat: str = "53.79648", lon: str = "-1.54785",
             **extra: Any) -> dict[str, Any]:
    loc = {"country_code": "GB", "party_id": "TST", "id": lid, "publish": True, "name": f"Site {lid}",
           "address": "1 High Street", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GBR",
           "coordinates": {"latitude": lat, "longitude": lon}, "time_zone": "Europe/London",
           "opening_times": {"twentyfourseven": True}, "evses": list(evses) or [evse(f"{lid}-1")],
           "last_updated": "2026-10-01T00:00:00Z"}
    loc.update(extra)
    return {k: v for k, v in loc.items() if v is not None}


def envelope(data: Any, ts: str = "2026-10-01T12:00:00Z") -> dict[str, Any]:
    return {"data": data, "status_code": 1000, "status_message": "Success", "timestamp": ts}


def test_ocpi_2_1_1_location_and_tariff(tmp_path: Path) -> None:
    loc211 = {
        "id": "L211", "type": "PARKING_LOT", "name": "Old style", "address": "2 Mill Lane",
        "city": "York", "postal_code": "YO1 7HH", "country": "GBR",
        "coordinates": {"latitude": "53.959965", "longitude": "-1.087298"},
        "opening_times": {"regular_hours": [{"weekday": d, "period_begin": "08:00",
                                             "period_end": "20:00"} for d in range(1, 8)]},
        "energy_mix": {"is_green_energy": True,
                       "environ_impact": [{"source": "CARBON_DIOXIDE", "amount": 0}]},
        "evses": [{"uid": "E211", "evse_id": "GB*TST*E211", "status": "AVAILABLE",
                   "connectors": [{"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                                   "power_type": "AC_3_PHASE", "voltage": 230, "amperage": 16,
                                   "tariff_id": "T211", "last_updated": "2017-06-01T10:00:00Z"}],
                   "last_updated": "2017-06-01T10:00:00Z"}],
        "last_updated": "2017-06-01T10:00:00Z",
    }
    t211 = {"id": "T211", "currency": "GBP",
            "elements": [{"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}]}],
            "last_updated": "2017-06-01T10:00:00Z"}
    files = [write(tmp_path / "locations.json", envelope([loc211])),
             write(tmp_path / "tariffs.json", envelope([t211]))]
    out, report = build(tmp_path, *files, env={"PCPR_OPERATOR_COUNTRY_CODE": "GB",
                                               "PCPR_OPERATOR_PARTY_ID": "TST"})
    locations, tariffs = check_published(out)
    loc = locations.data[0]
    assert loc.parking_type == "PARKING_LOT"
    assert loc.opening_times.twentyfourseven is False and len(loc.opening_times.regular_hours) == 7
    assert loc.energy_mix.environ_impact[0].category == "CARBON_DIOXIDE"
    c = loc.evses[0].connectors[0]
    assert (c.max_voltage, c.max_amperage, c.tariff_ids) == (230, 16, ["T211"])
    assert (loc.country_code, loc.party_id) == ("GB", "TST")  # from configuration
    assert tariffs.data[0].type is None
    for text in ("Location.type 'PARKING_LOT'", "voltage→max_voltage", "'source' read as",
                 "twentyfourseven"):
        assert has(report, "ocpi_2_1_1_fields", text), text
    assert has(report, "ocpi_publish_missing") and has(report, "ocpi_party_missing", "GB/TST")
    assert has(report, "tariff_vat_missing")


# ---- extended EVSE records, charging stations, private fields ------------------------------------

SECRETS = ("RFID-SECRET-1", "SECRET-NOTE", "SECRET-GROUP", "SECRET-MIX", "SECRET-TARIFF-NOTE",
           "PRIVATE-SITE", "SECRET-AUTH", "staff-only")


def test_extended_evses_charging_stations_and_private_fields(tmp_path: Path) -> None:
    site = location(
        "GF1",
        evse("PLAIN", connector(auth_list=["RFID-SECRET-1"])),
        notes="SECRET-NOTE", custom_groups=[{"name": "SECRET-GROUP"}],
        energy_mix={"is_green_energy": True, "profile_mix": "SECRET-MIX",
                    "energy_sources": [{"source": "WIND", "percentage": 100}]},
        charging_stations=[{
            "id": "CS1", "floor_level": "-1", "physical_reference": "Bay 1",
            "coordinates": {"latitude": "53.79650", "longitude": "-1.54790"},
            "evses": [
                {"uid": "PUB", "privilege_status": "PUBLIC", "is_published": True,
                 "auth_list": ["SECRET-AUTH"], "reliability": 99.1,
                 "connectors": [
                     connector("1", None, status="Charging", tariff_uids=["T1"]),
                     connector("2", None, status="Available", tariff_uids=["T1"]),
                 ], "last_updated": "2026-10-01T00:00:00Z"},
                evse("PRIV", privilege_status="PRIVATE"),
                evse("HIDDEN", evse_type="PUBLIC", is_published=False),
                evse("RESTR", privilege_status="RESTRICTED", notes="staff-only"),
            ],
        }],
    )
    private_site = location("P1", name="PRIVATE-SITE", publish=False)
    tariffs = [tariff("T1", notes="SECRET-TARIFF-NOTE", internal_code="SECRET-TARIFF-NOTE")]
    files = [write(tmp_path / "loc.json", envelope([site, private_site])),
             write(tmp_path / "tar.json", envelope(tariffs))]
    out, report = build(tmp_path, *files)
    locations, _ = check_published(out)
    assert [loc.id for loc in locations.data] == ["GF1"]
    evses = {e.uid: e for e in locations.data[0].evses}
    assert set(evses) == {"PLAIN", "PUB"}
    pub = evses["PUB"]
    assert pub.status == "CHARGING"  # from its connectors' statuses (no EVSE status)
    assert (pub.floor_level, pub.physical_reference) == ("-1", "Bay 1")  # from the station
    assert pub.coordinates.latitude == "53.79650"
    assert [c.tariff_ids for c in pub.connectors] == [["T1"], ["T1"]]  # tariff_uids
    body = published_bytes(out)
    for secret in SECRETS:
        assert secret.encode() not in body, secret
    # the private fields as JSON keys (the site may use the word itself: the reliability page)
    assert b"\"reliability\"" not in body and b"privilege_status" not in body
    # The private site's problems, if any, are never errors; nothing of it is published.
    assert all(s["severity"] == "INFO" for s in samples(report) if s["id"] == "P1")


# ---- the public-tariff rule ---------------------------------------------------------------------

def test_public_tariff_rule(tmp_path: Path) -> None:
    T = tariff
    tariffs = [
        T("REG", 0.40, type="REGULAR"), T("ADHOC", 0.55, type="AD_HOC_PAYMENT"), T("ANY", 0.50),
        T("OLD", 0.20, type="AD_HOC_PAYMENT", end_date_time="2026-01-01T00:00:00Z"),
        T("CHEAP", 0.10, type="PROFILE_CHEAP"),
        T("ADHOC2", 0.60, type="AD_HOC_PAYMENT"), T("ADHOC_SAME", 0.55, type="AD_HOC_PAYMENT"),
        {**T("BROKEN", type="AD_HOC_PAYMENT"), "elements": [{"price_components": [
            {"type": "ENERGY", "price": None, "step_size": 1}]}]},
        T("FUTURE", 0.55, type="AD_HOC_PAYMENT", start_date_time="2027-01-01T00:00:00Z"),
        T("ENDED", 0.55, end_date_time="2026-06-01T00:00:00Z"),
    ]
    cases = {  # EVSE uid → (tariff_ids, expected public tariff or None, notice code)
        "E-ADHOC": (["REG", "ADHOC"], "ADHOC", "ocpi_public_tariff_chosen"),
        "E-UNTYPED": (["REG", "ANY"], "ANY", "ocpi_public_tariff_chosen"),
        "E-EXPIRED": (["OLD", "REG"], "REG", "ocpi_public_tariff_chosen"),
        "E-PROFILE": (["CHEAP"], None, "ocpi_no_public_tariff"),
        "E-AMBIG": (["ADHOC", "ADHOC2"], None, "ocpi_public_tariff_ambiguous"),
        "E-SAME": (["ADHOC", "ADHOC_SAME"], "ADHOC", "ocpi_public_tariff_chosen"),
        "E-INVALID": (["BROKEN", "ADHOC"], "ADHOC", "ocpi_public_tariff_ambiguous"),
        "E-FUTURE": (["FUTURE"], None, "ocpi_no_public_tariff"),
        "E-MISSING": (["ADHOC", "GONE"], None, "tariff_not_found"),
        "E-ONLYENDED": (["ENDED"], None, "tariff_expired"),
        "E-SINGLE": (["REG"], "REG", None),
    }
    evses = [evse(uid, connector(tariff_ids=ids)) for uid, (ids, _, _) in cases.items()]
    evses.append(evse("E-EXPLICIT", connector(tariff_ids=["ADHOC"], public_tariff_id="REG")))
    files = [write(tmp_path / "l.json", envelope([location("L1", *evses)])),
             write(tmp_path / "t.json", envelope(tariffs))]
    out, report = build(tmp_path, *files)
    locations, published_tariffs = check_published(out)
    got = {e.uid: e.connectors[0].tariff_ids[0] for e in locations.data[0].evses}
    for uid, (_, want, code) in cases.items():
        assert got.get(uid) == want, uid
        if code:
            assert any(s["code"] == code and s["id"].startswith(uid) for s in samples(report)), uid
    assert got["E-EXPLICIT"] == "REG"
    severities = {s["id"].split("/")[0]: s["severity"] for s in samples(report)
                  if s["code"] == "ocpi_public_tariff_ambiguous"}
    assert severities == {"E-AMBIG": "ERROR", "E-INVALID": "WARNING"}
    assert {t.id for t in published_tariffs.data} == {"ADHOC", "ANY", "REG"}


# ---- duplicates ---------------------------------------------------------------------------------

def test_repeated_and_conflicting_objects(tmp_path: Path) -> None:
    t1 = tariff("T1")
    tariffs = [t1, dict(t1), dict(t1),                                   # GeniePoint: identical x3
               tariff("T2", 0.4), tariff("T2", 0.9),                      # conflict, same time
               tariff("T3", 0.4, last_updated="2026-09-01T00:00:00Z"),
               tariff("T3", 0.5, last_updated="2026-10-02T00:00:00Z")]    # newest wins
    l1 = location("L1", evse("A", connector(tariff_ids=["T1"])), evse("B", connector(tariff_ids=["T2"])),
                  evse("C", connector(tariff_ids=["T3"])))
    files = [write(tmp_path / "l1.json", envelope([l1])),
             write(tmp_path / "l1-again.json", envelope([l1])),       # a page served twice
             write(tmp_path / "t.json", envelope(tariffs))]
    out, report = build(tmp_path, *files)
    locations, published = check_published(out)
    assert [e.uid for e in locations.data[0].evses] == ["A", "C"]
    assert {t.id: t.elements[0].price_components[0].price for t in published.data} == \
        {"T1": pytest.approx(0.5), "T3": pytest.approx(0.5)}
    assert has(report, "ocpi_duplicate_object", "'T1' appears 3 times with the same content")
    assert has(report, "ocpi_duplicate_object", "'L1' appears 2 times")
    assert has(report, "ocpi_duplicate_object", "the newest (last_updated 2026-10-02T00:00:00Z)")
    assert has(report, "ocpi_duplicate_conflict", "'T2'", "ERROR")
    assert has(report, "tariff_not_found", "'T2'", "ERROR")


def test_evse_uid_in_two_locations_is_excluded(tmp_path: Path) -> None:
    files = [write(tmp_path / "l.json", envelope([location("L1", evse("SAME")), location("L2", evse("SAME")),
                                                  location("L3", evse("OTHER"))])),
             write(tmp_path / "t.json", envelope([tariff("T1")]))]
    out, report = build(tmp_path, *files)
    locations, _ = check_published(out)
    assert [loc.id for loc in locations.data] == ["L3"]
    assert has(report, "ocpi_duplicate_conflict", "used in 2 Locations", "ERROR")


# ---- unsafe guesses: excluded with an error -----------------------------------------------------

def test_unsafe_guesses_are_excluded_with_an_error(tmp_path: Path) -> None:
    locs = [
        location("PARIS", lat="48.85661", lon="2.35222"),
        location("CREWE", lat="53.098530", lon="2.444352"),                  # lost minus sign
        location("SWAPPED", lat="-1.54785", lon="53.79648"),
        location("EURO", evse("EU", connector(tariff_ids=["TEUR"]))),
        location("DANGLING", evse("DG", connector(tariff_ids=["NOPE"]))),
        location("GOOD"),
    ]
    files = [write(tmp_path / "l.json", envelope(locs)),
             write(tmp_path / "t.json", envelope([tariff("T1"), tariff("TEUR", currency="EUR")]))]
    out, report = build(tmp_path, *files)
    locations, tariffs = check_published(out)
    assert [loc.id for loc in locations.data] == ["GOOD"]
    assert [t.id for t in tariffs.data] == ["T1"]
    for code, oid in (("coordinates_outside_uk", "PARIS"), ("longitude_sign_lost", "CREWE"),
                      ("coordinates_swapped", "SWAPPED"), ("tariff_not_gbp", "TEUR"),
                      ("tariff_not_found", "DG/1")):
        assert any(s["code"] == code and s["id"] == oid and s["severity"] == "ERROR"
                   for s in samples(report)), (code, oid)


def test_normalised_defects(tmp_path: Path) -> None:
    loc = location(
        "N1",
        evse("E1", connector(max_voltage="230", max_amperage="32", standard="Type 2",
                             format="socket", last_updated="2026-10-01T01:00:00+01:00"),
             connector("2", power_type="AC_3_PHASE", max_voltage=400, max_amperage=0),
             status="Faulted", capabilities=["RFID_READER", "rfid_reader"], floor_level=-1,
             physical_reference=12, last_updated="2026-10-01 00:00:00"),
        lat=53.7964, lon="-1.547851234", country="GB", facilities=["hotel"],
    )
    files = [write(tmp_path / "l.json", [loc]),  # a bare array
             write(tmp_path / "t.json", tariff("T1", min_price="0.50",  # one bare object
                                               tariff_alt_text=[{"language": "en",
                                                                 "text": "Pay as you go £0.48"}]))]
    out, report = build(tmp_path, *files)
    locations, tariffs = check_published(out)
    e = locations.data[0].evses[0]
    c = e.connectors[0]
    assert (c.max_voltage, c.standard, c.format) == (230, "IEC_62196_T2", "SOCKET")
    assert c.last_updated == "2026-10-01T00:00:00Z"
    assert (e.status, e.floor_level, e.physical_reference) == ("OUTOFORDER", "-1", "12")
    assert e.capabilities == ["RFID_READER"]
    loc_out = locations.data[0]
    assert (loc_out.coordinates.latitude, loc_out.coordinates.longitude) == ("53.79640", "-1.5478512")
    assert loc_out.country == "GBR" and loc_out.facilities == ["HOTEL"]
    assert tariffs.data[0].min_price.excl_vat == pytest.approx(0.5)
    for code, text in (
        ("ocpi_number_as_string", "max_voltage is the string '230'"),
        ("ocpi_value_normalised", "'Type 2' is not an OCPI ConnectorType"),
        ("ocpi_value_normalised", "format 'socket' written as SOCKET"),
        ("ocpi_timestamp_not_utc", "+01:00"),
        ("ocpi_timestamp_not_utc", "space instead of T"),
        ("ocpi_status_not_in_enum", "'Faulted' is not an OCPI Status; published as OUTOFORDER"),
        ("ocpi_string_as_number", "floor_level is the number -1"),
        ("ocpi_coordinates_format", "JSON numbers"),
        ("ocpi_coordinates_format", "4 decimals"),
        ("ocpi_coordinates_format", "9 decimals"),
        ("ocpi_value_normalised", "country 'GB' is alpha-2"),
        ("ocpi_value_normalised", "facilities[0] 'hotel'"),
        ("ocpi_value_normalised", "min_price is a plain number"),
        ("ocpi_envelope_not_standard", "bare JSON array"),
        ("ocpi_envelope_not_standard", "one bare Tariff object"),
        ("ocpi_implausible_rating", "AC_3_PHASE max_voltage 400 looks line-to-line"),
        ("ocpi_implausible_rating", "max_amperage is 0"),
        ("ocpi_alt_text_price", "£0.48"),
    ):
        assert has(report, code, text), (code, text)
    assert has(report, "ocpi_value_normalised", "rfid_reader") or \
        has(report, "duplicate_value", "RFID_READER")


# ---- operator party -----------------------------------------------------------------------------

def test_party_from_configuration_or_refused(tmp_path: Path) -> None:
    loc = location("L1")
    t = tariff("T1")
    for obj in (loc, t):
        del obj["country_code"], obj["party_id"]
    files = [write(tmp_path / "l.json", envelope([loc])), write(tmp_path / "t.json", envelope([t]))]
    result = run("build", *map(str, files), "--out", str(tmp_path / "refused"))
    assert result.exit_code == 2
    assert "party_id" in result.output or "country_code" in result.output
    assert "pcpr.toml" in result.output and "Traceback" not in result.output
    cfg = tmp_path / "pcpr.toml"
    cfg.write_text('[operator]\ncountry_code = "GB"\nparty_id = "XYZ"\nname = "Example CPO"\n')
    out = tmp_path / "site"
    result = run("--config", str(cfg), "build", *map(str, files), "--out", str(out))
    assert result.exit_code == 0, result.output
    locations, tariffs = check_published(out)
    assert (locations.data[0].party_id, tariffs.data[0].party_id) == ("XYZ", "XYZ")
    assert locations.data[0].operator.name == "Example CPO"


def test_objects_of_another_party_are_excluded(tmp_path: Path) -> None:
    other = location("OTHER", country_code="NL", party_id="ABC")
    files = [write(tmp_path / "l.json", envelope([location("A"), location("B"), other])),
             write(tmp_path / "t.json", envelope([tariff("T1")]))]
    out, report = build(tmp_path, *files)
    locations, _ = check_published(out)
    assert [loc.id for loc in locations.data] == ["A", "B"]
    assert has(report, "ocpi_other_party", "NL/ABC is not the operator's GB/TST", "ERROR")


# ---- input shapes and detection -----------------------------------------------------------------

def test_every_input_shape_publishes_the_same_bytes(tmp_path: Path) -> None:
    locs = [location(f"L{i}") for i in range(1, 6)]
    t1 = tariff("T1")
    shapes: dict[str, list[Any]] = {
        "envelopes": [envelope(locs), envelope([t1])],
        "bare arrays": [locs, [t1]],
        "pages": [envelope(locs[:2]), envelope(locs[2:4]), envelope(locs[4:]), envelope([t1])],
        "mer nested": [{"data": {"locations": envelope(locs), "tariffs": envelope([t1])}}],
        "jolt objects": [{"locations": locs}, t1],
        "one per object": [envelope(loc) for loc in locs] + [envelope(t1)],
        "mixed list": [envelope(locs + [t1])],
    }
    outputs = {}
    for name, docs in shapes.items():
        d = tmp_path / name.replace(" ", "-")
        d.mkdir()
        for i, doc in enumerate(docs):
            write(d / f"part{i}.json", doc)
        out, _ = build(d, d)  # a folder stands for its *.json files
        check_published(out)
        outputs[name] = {p: (out / p).read_bytes() for p in ("locations.json", "tariffs.json")}
    first = next(iter(outputs.values()))
    for name, files in outputs.items():
        assert files == first, name


def test_auto_detection_and_explicit_formats(tmp_path: Path) -> None:
    from pcpr_publish.sample import write_sample

    export = tmp_path / "export.json"
    write_sample(str(export), 5, 1, None)
    assert run("build", str(export), "--out", str(tmp_path / "a")).exit_code == 0  # still an export
    refused = run("build", "--input-format", "ocpi", str(export), "--out", str(tmp_path / "b"))
    assert refused.exit_code == 2 and "back-office export, not OCPI" in refused.output
    ocpi_file = write(tmp_path / "l.json", envelope([location("L1")]))
    as_export = run("build", "--input-format", "export", str(ocpi_file), "--out", str(tmp_path / "c"))
    assert as_export.exit_code == 2 and "format" in as_export.output
    junk = write(tmp_path / "junk.json", {"hello": "world"})
    bad = run("build", str(junk), "--out", str(tmp_path / "d"))
    assert bad.exit_code == 2 and "neither OCPI Locations nor Tariffs" in bad.output
    error = write(tmp_path / "err.json", {"status_code": 2001, "status_message": "Invalid",
                                          "timestamp": "2026-10-01T00:00:00Z"})
    refused = run("build", str(error), str(ocpi_file), "--out", str(tmp_path / "e"))
    assert refused.exit_code == 2 and "status_code 2001" in refused.output


def test_validate_and_publish_take_ocpi(tmp_path: Path) -> None:
    result = run("validate", *map(str, KERB_JULY))
    assert result.exit_code == 0 and "ocpi_status_not_in_enum" in result.output
    strict = run("validate", "--strict", *map(str, KERB_JULY))
    assert strict.exit_code == 1  # dangling tariff ids are errors
    # An OCPI dump's exported_at is its envelope time: old, so the export-age guard refuses...
    stale = run("publish", str(KERB_PAGES), "--to", str(tmp_path / "pub"))
    assert stale.exit_code == 4 and "old" in stale.output
    # ... unless turned off.
    ok = run("publish", str(KERB_PAGES), "--to", str(tmp_path / "pub"), "--max-export-age", "0")
    assert ok.exit_code == 0, ok.output
    check_published(tmp_path / "pub")


# ---- exported_at --------------------------------------------------------------------------------

def test_exported_at_rule(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", envelope([location("L1")], ts="2026-10-01T12:00:05Z"))
    b = write(tmp_path / "b.json", envelope([tariff("T1")], ts="2026-10-01T12:00:00+00:00"))
    assert load_ocpi([str(a), str(b)]).export.exported_at == "2026-10-01T12:00:00Z"  # oldest
    bare = write(tmp_path / "c.json", [location("L1", last_updated="2026-10-03T00:00:00Z"),
                                       tariff("T1", last_updated="2026-10-04T00:00:00Z")])
    assert load_ocpi([str(bare)]).export.exported_at == "2026-10-04T00:00:00Z"  # newest
    loc = location("L1")
    loc.pop("last_updated")
    for e in loc["evses"]:
        e.pop("last_updated")
        for c in e["connectors"]:
            c.pop("last_updated")
    t = tariff("T1")
    t.pop("last_updated")
    bare2 = write(tmp_path / "d.json", [loc, t])
    loaded = load_ocpi([str(bare2)], now="2026-11-20T09:00:00Z")
    assert loaded.export.exported_at == "2026-11-20T09:00:00Z"
    assert any(n.code == "ocpi_exported_at" and "time of reading" in n.message for n in loaded.notices)
    given = load_ocpi([str(bare2)], exported_at="2026-11-21T10:00:00+01:00")
    assert given.export.exported_at == "2026-11-21T09:00:00Z"


def test_library_pipeline_notices_point_at_the_input(tmp_path: Path) -> None:
    files = [write(tmp_path / "l.json", envelope([location("L1", evse("E", connector(tariff_ids=["X"])))])),
             write(tmp_path / "t.json", envelope([tariff("T1")]))]
    loaded = load_ocpi([str(f) for f in files])
    ds = build_dataset(loaded.export, source=loaded.path)
    ds.report.notices[:0] = loaded.notices
    relocate_notices(ds.report, loaded)
    missing = next(n for n in ds.report.notices if n.code == "tariff_not_found")
    assert missing.path == f"{files[0]} $.data[0].evses[0].connectors[0]"


def test_no_locations_or_tariffs_at_all(tmp_path: Path) -> None:
    empty = write(tmp_path / "e.json", envelope([]))
    with pytest.raises(InputError, match="no OCPI Locations or Tariffs"):
        load_ocpi([str(empty)])
    only_locations = write(tmp_path / "l.json", envelope([location("L1")]))
    loaded = load_ocpi([str(only_locations)])
    assert any(n.code == "ocpi_no_tariffs" for n in loaded.notices)


def test_defects_published_as_given_do_not_say_corrected(tmp_path: Path) -> None:
    """An implausible rating (and an ENERGY step_size other than 1) is published as the feed gives
    it: the notice's action says ``published``, as the catalogue and the mapping table say, while
    a value that really was normalised still says ``corrected``."""
    loc = location("L1", evse("E1", connector(max_amperage=0),
                              connector("2", power_type="AC_3_PHASE", max_voltage=400,
                                        max_amperage="32")))
    t = tariff("T1", elements=[{"price_components": [{"type": "ENERGY", "price": 0.5, "vat": 20,
                                                      "step_size": 1000}]}])
    files = [write(tmp_path / "l.json", envelope([loc])), write(tmp_path / "t.json", envelope([t]))]
    loaded = load_ocpi([str(f) for f in files])
    actions: dict[str, list[tuple[str, str]]] = {}
    for n in loaded.notices:
        actions.setdefault(n.code, []).append((n.action.value, n.message))
    assert [a for a, _ in actions["ocpi_implausible_rating"]] == ["published", "published"]
    assert sorted(m.split(";")[0] for _, m in actions["ocpi_implausible_rating"]) == \
        ["AC_3_PHASE max_voltage 400 looks line-to-line", "max_amperage is 0"]
    assert [a for a, _ in actions["ocpi_step_size_not_1"]] == ["published"]
    assert [a for a, _ in actions["ocpi_number_as_string"]] == ["corrected"]  # "32" became 32
    # The published connectors keep the values as given.
    out, report = build(tmp_path, *files)
    feed = json.loads((out / "locations.json").read_bytes())
    connectors = feed["data"][0]["evses"][0]["connectors"]
    assert [(c["max_voltage"], c["max_amperage"]) for c in connectors] == [(230, 0), (400, 32)]
    grouped = {g["code"]: {s["action"] for s in g["samples"]} for g in report["notices"]}
    assert grouped["ocpi_implausible_rating"] == {"published"}
