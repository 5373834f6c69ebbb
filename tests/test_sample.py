"""Tests for the synthetic back-office export generator (``pcpr_publish.sample``).

The generator feeds every other test and the benchmarks, so these tests pin what the rest of the
suite relies on: byte-for-byte determinism, the ``pcpr-export/1`` shape, realistic scale ratios
(50,000 sites -> 100,000+ EVSEs, 150,000+ connectors), and the documented edge cases behaving as
export-format.md's selection rules say they should.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pytest

from pcpr_publish.sample import (
    DEFAULT_EXPORTED_AT,
    EDGE_CASES,
    MISSING_TARIFF_IDS,
    dumps_sample,
    edge_cases_for,
    generate_sample,
    resolve_exported_at,
    write_sample,
)

STATUS_VOCABULARY = {
    "AVAILABLE", "CHARGING", "OCCUPIED", "IN_USE", "PREPARING", "FINISHING", "SUSPENDEDEV",
    "SUSPENDED_EV", "SUSPENDEDEVSE", "SUSPENDED_EVSE", "RESERVED", "BLOCKED", "INOPERATIVE",
    "UNAVAILABLE", "OUTOFORDER", "OUT_OF_ORDER", "FAULTED", "PLANNED", "REMOVED", "UNKNOWN",
}
STANDARDS = {"IEC_62196_T2", "IEC_62196_T2_COMBO", "CHADEMO", "IEC_62196_T1", "DOMESTIC_G",
             "Type 2", "CCS", "CCS2", "CHAdeMO", "Type 1", "3-pin"}
POWER_TYPES = {"AC_1_PHASE", "AC_3_PHASE", "DC"}
PRIVATE_TARIFFS = {"TRF-STAFF-AC", "TRF-FLEET-DEPOT", "TRF-RESIDENTS-PERMIT"}
DATETIME_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


@lru_cache(maxsize=None)
def _doc_json(sites: int, seed: int) -> str:
    # cached as text so no test can mutate another test's document
    return dumps_sample(generate_sample(sites, seed)).decode()


def doc(sites: int = 2000, seed: int = 1) -> dict[str, Any]:
    return json.loads(_doc_json(sites, seed))


def evses(d: dict[str, Any]):
    for s in d["sites"]:
        for ev in s["evses"]:
            yield s, ev


# ---- a minimal reading of export-format.md "Selection", to check the edge cases ---------------

def is_public_evse(ev: dict[str, Any]) -> bool:
    given = [ev[k] for k in ("evse_type", "privilege_status") if ev.get(k) not in (None, "")]
    return bool(given) and all(str(v).upper() == "PUBLIC" for v in given) \
        and ev.get("is_published") is not False


def valid_tariff_ids(d: dict[str, Any]) -> set[str]:
    ok = set()
    for t in d["tariffs"]:
        if len(t["currency"]) != 3 or not t["elements"]:
            continue
        if any(not el["price_components"] for el in t["elements"]):
            continue
        if any(Decimal(str(pc["price"])) < 0 for el in t["elements"] for pc in el["price_components"]):
            continue
        if t.get("end_date_time") and not t["end_date_time"] > d["exported_at"]:
            continue
        ok.add(t["id"])
    return ok


def evse_published(site: dict[str, Any], ev: dict[str, Any], valid: set[str]) -> bool:
    if site.get("public_visibility") is not True or not is_public_evse(ev):
        return False
    shown = [c for c in ev["connectors"] if c.get("is_published") is not False]
    return bool(shown) and all((c.get("public_tariff_id") or ev.get("public_tariff_id")) in valid
                               for c in shown)


# ---- determinism ----------------------------------------------------------------------------

def test_same_seed_gives_identical_bytes(tmp_path):
    a = dumps_sample(generate_sample(300, 7))
    b = dumps_sample(generate_sample(300, 7))
    assert a == b
    write_sample(tmp_path / "x.json", 300, 7)
    assert (tmp_path / "x.json").read_bytes() == a


def test_different_seed_gives_different_document():
    assert dumps_sample(generate_sample(300, 7)) != dumps_sample(generate_sample(300, 8))


def test_smaller_sample_is_prefix_of_larger_one_by_site_count():
    # not required, but documents that site n does not depend on the total count
    small, large = doc(50), doc(2000)
    assert small["sites"] == large["sites"][:50]


# ---- document shape -------------------------------------------------------------------------

def test_document_shape():
    d = doc(50)
    assert d["format"] == "pcpr-export/1"
    assert d["exported_at"] == DEFAULT_EXPORTED_AT
    op = d["operator"]
    assert op["country_code"] == "GB" and re.fullmatch(r"[A-Z0-9]{3}", op["party_id"])
    assert op["name"] and op["website"].startswith("https://") and op["phone"] and op["logo_url"]
    assert isinstance(d["sites"], list) and len(d["sites"]) == 50
    assert isinstance(d["tariffs"], list) and d["tariffs"]


def test_zero_sites_and_bad_arguments():
    d = generate_sample(0, 1)
    assert d["sites"] == [] and d["tariffs"]
    with pytest.raises(ValueError):
        generate_sample(-1, 1)
    with pytest.raises(ValueError):
        generate_sample(1, 1, exported_at="yesterday")


def test_write_sample_indents_small_and_compacts_large(capsysbinary, tmp_path):
    write_sample(None, 5, 3)
    out = capsysbinary.readouterr().out
    assert out.startswith(b"{\n  \"format\"") and out.endswith(b"}\n")
    assert json.loads(out)["format"] == "pcpr-export/1"
    write_sample(tmp_path / "big.json", 1000, 3, "2027-01-05T12:00:00Z")
    big = (tmp_path / "big.json").read_bytes()
    assert big.count(b"\n") == 1 and big.endswith(b"\n")
    assert json.loads(big)["exported_at"] == "2027-01-05T12:00:00Z"


def test_exported_at_now_is_the_current_utc_second(tmp_path, monkeypatch):
    from pcpr_publish import sample as sample_module

    monkeypatch.setattr(sample_module, "utc_now", lambda: "2031-02-03T04:05:06Z")
    assert resolve_exported_at(None) == DEFAULT_EXPORTED_AT
    assert resolve_exported_at("now") == resolve_exported_at(" NOW ") == "2031-02-03T04:05:06Z"
    assert resolve_exported_at("2027-01-05T12:00:00Z") == "2027-01-05T12:00:00Z"
    write_sample(tmp_path / "now.json", 30, 1, "now")
    d = json.loads((tmp_path / "now.json").read_text())
    assert d["exported_at"] == "2031-02-03T04:05:06Z"
    # Every timestamp is derived from it, as for a fixed exported_at.
    assert (tmp_path / "now.json").read_bytes() == dumps_sample(
        generate_sample(30, 1, "2031-02-03T04:05:06Z"))
    monkeypatch.undo()
    assert DATETIME_Z.fullmatch(sample_module.utc_now())


def test_write_sample_refuses_unwritable_paths_with_output_error(tmp_path, monkeypatch):
    from pcpr_publish import sample as sample_module
    from pcpr_publish.errors import OutputError

    with pytest.raises(OutputError, match="the folder .*missing.* does not exist") as exc:
        write_sample(tmp_path / "missing" / "x.json", 5, 1)
    assert exc.value.exit_code == 2
    with pytest.raises(OutputError, match="is a folder, not a file"):
        write_sample(tmp_path, 5, 1)

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sample_module, "open", denied, raising=False)
    with pytest.raises(OutputError, match=r"x\.json: cannot be written: permission denied$"):
        write_sample(tmp_path / "x.json", 5, 1)
    assert not (tmp_path / "x.json").exists()


# ---- scale ----------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scale_ratios(seed):
    """Per site >= 2 EVSEs and >= 3 connectors: 50,000 sites give >= 100,000 / >= 150,000."""
    d = doc(2000, seed)
    n_sites = len(d["sites"])
    n_evses = sum(len(s["evses"]) for s in d["sites"])
    n_conns = sum(len(ev["connectors"]) for _, ev in evses(d))
    assert n_sites == 2000
    assert n_evses >= 2.05 * n_sites
    assert n_conns >= 1.5 * n_evses and n_conns >= 3.2 * n_sites
    assert all(1 <= len(s["evses"]) <= 4 for s in d["sites"])
    assert all(ev["connectors"] for _, ev in evses(d))


# ---- ids ------------------------------------------------------------------------------------

def _ok_id(x: str) -> bool:
    return isinstance(x, str) and 0 < len(x) <= 36 and x.isascii() and x.isprintable()


def test_ids_unique_and_short():
    d = doc()
    site_ids = [s["id"] for s in d["sites"]]
    uids = [ev["uid"] for _, ev in evses(d)]
    tariff_ids = [t["id"] for t in d["tariffs"]]
    for ids in (site_ids, uids, tariff_ids):
        assert len(ids) == len(set(ids))
        assert all(_ok_id(i) for i in ids)
    assert site_ids[122] == "GB-PCP-S000123"
    for _, ev in evses(d):
        cids = [c["id"] for c in ev["connectors"]]
        assert len(cids) == len(set(cids)) and all(_ok_id(c) for c in cids)
        if "evse_id" in ev:
            assert re.fullmatch(r"GB\*PCP\*E\d{9}", ev["evse_id"])


# ---- sites ----------------------------------------------------------------------------------

def test_coordinates_inside_the_uk_in_both_representations():
    d = doc()
    kinds = set()
    for s in d["sites"]:
        lat, lon = s["latitude"], s["longitude"]
        assert type(lat) is type(lon)
        kinds.add(type(lat))
        if isinstance(lat, str):
            assert re.fullmatch(r"-?\d{1,2}\.\d{6}", lat) and re.fullmatch(r"-?\d{1,3}\.\d{6}", lon)
        assert 49.8 <= float(lat) <= 60.9 and -8.7 <= float(lon) <= 1.8
    assert kinds == {float, str}


def test_public_and_private_sites():
    d = doc()
    vis = [s.get("public_visibility") for s in d["sites"]]
    public = sum(v is True for v in vis)
    assert 0.80 <= public / len(vis) <= 0.90
    assert False in vis and any("public_visibility" not in s for s in d["sites"])
    assert {s["country"] for s in d["sites"]} == {"GB", "GBR"}
    assert all(s["address"] and s["city"] and s["evses"] for s in d["sites"])
    assert all(s.get("time_zone", "Europe/London") == "Europe/London" for s in d["sites"])


def test_opening_times_shapes():
    d = doc()
    shapes = {"24/7": 0, "hours": 0, "closings": 0}
    for s in d["sites"]:
        ot = s.get("opening_times")
        if ot == "24/7":
            shapes["24/7"] += 1
            continue
        assert isinstance(ot, dict) and isinstance(ot["twentyfourseven"], bool)
        if ot["twentyfourseven"]:
            assert not ot.get("regular_hours")
            continue
        shapes["hours"] += 1
        assert ot["regular_hours"]
        for rh in ot["regular_hours"]:
            assert 1 <= rh["weekday"] <= 7
            assert HHMM.match(rh["period_begin"]) and HHMM.match(rh["period_end"])
            assert rh["period_end"] > rh["period_begin"]
        for p in ot.get("exceptional_closings", []) + ot.get("exceptional_openings", []):
            assert DATETIME_Z.match(p["period_begin"]) and DATETIME_Z.match(p["period_end"])
            assert p["period_end"] > p["period_begin"]
            shapes["closings"] += "exceptional_closings" in ot
    assert shapes["24/7"] > shapes["hours"] > shapes["closings"] > 0


def test_timestamps_are_utc_z_and_before_export():
    d = doc()
    exported = d["exported_at"]
    stamps = [s["updated_at"] for s in d["sites"] if "updated_at" in s]
    for _, ev in evses(d):
        stamps += [ev[k] for k in ("updated_at", "status_updated_at") if k in ev]
        stamps += [c["updated_at"] for c in ev["connectors"] if "updated_at" in c]
    stamps += [t["updated_at"] for t in d["tariffs"] if "updated_at" in t]
    assert len(stamps) > 10000
    assert all(DATETIME_Z.match(x) and x < exported for x in stamps)


# ---- EVSEs and connectors -------------------------------------------------------------------

def test_evse_vocabulary_and_variety():
    d = doc()
    statuses, standards, flags = set(), set(), set()
    per_connector = 0
    for _, ev in evses(d):
        if "status" in ev:
            assert ev["status"].upper() in STATUS_VOCABULARY
            statuses.add(ev["status"])
        elif any("status" in c for c in ev["connectors"]):
            per_connector += 1
        for k in ("is_published", "is_enabled", "online"):
            if k in ev:
                assert isinstance(ev[k], bool)
                flags.add((k, ev[k]))
        for k in ("evse_type", "privilege_status"):
            if k in ev:
                flags.add((k, ev[k]))
        for c in ev["connectors"]:
            assert c["standard"] in STANDARDS and c["format"] in ("SOCKET", "CABLE")
            assert c["power_type"] in POWER_TYPES
            assert isinstance(c["max_voltage"], int) and isinstance(c["max_amperage"], int)
            if c["power_type"] == "DC":
                assert 400 <= c["max_voltage"] <= 920 and 125 <= c["max_amperage"] <= 500
                assert 50000 <= c["max_electric_power"] <= 350000
            if "status" in c:
                assert c["status"].upper() in STATUS_VOCABULARY
            standards.add(c["standard"])
    assert per_connector > 0
    assert {"AVAILABLE", "CHARGING", "FAULTED", "OUT_OF_ORDER", "UNAVAILABLE", "Available"} <= statuses
    assert {"IEC_62196_T2_COMBO", "CHADEMO", "CCS", "CHAdeMO", "Type 2", "IEC_62196_T2"} <= standards
    assert {("evse_type", "PUBLIC"), ("evse_type", "PRIVATE"), ("privilege_status", "PUBLIC"),
            ("privilege_status", "RESTRICTED"), ("is_published", False), ("is_enabled", False),
            ("online", False)} <= flags


def test_private_back_office_fields_present():
    """The privacy tests of the publisher need something private to look for."""
    d = doc()
    site_keys = {k for s in d["sites"] for k in s}
    assert {"notes", "contact_email", "customer_list", "rfid_auth_list", "internal_code"} <= site_keys
    evse_keys = {k for _, ev in evses(d) for k in ev}
    assert {"reliability", "uptime", "qr_identifier", "protocol", "notes", "access_profiles"} <= evse_keys
    tariff_keys = {k for t in d["tariffs"] for k in t}
    assert {"name", "notes", "internal_code"} <= tariff_keys
    # private data also sits on public sites, not only on private ones
    assert any(s.get("public_visibility") is True and "contact_email" in s for s in d["sites"])


# ---- tariffs --------------------------------------------------------------------------------

def test_tariff_book():
    d = doc(50)
    by_id = {t["id"]: t for t in d["tariffs"]}
    for t in d["tariffs"]:
        assert t["currency"] == "GBP" and t["elements"]
        for el in t["elements"]:
            assert el["price_components"]
            for pc in el["price_components"]:
                assert pc["type"] in ("ENERGY", "FLAT", "TIME", "PARKING_TIME")
                assert isinstance(pc["price"], (int, float, str)) and Decimal(str(pc["price"])) >= 0
                assert pc["vat"] == 20.0
    prices = [pc["price"] for t in d["tariffs"] for el in t["elements"] for pc in el["price_components"]]
    assert any(isinstance(p, str) for p in prices) and any(isinstance(p, float) for p in prices)
    # free of charge: one element, one FLAT price 0, no restrictions
    free = [t for t in d["tariffs"] if len(t["elements"]) == 1 and "restrictions" not in t["elements"][0]
            and [(pc["type"], Decimal(str(pc["price"]))) for pc in t["elements"][0]["price_components"]]
            == [("FLAT", 0)]]
    assert [t["id"] for t in free] == ["TRF-FREE"]
    # time of day: a restricted off-peak ENERGY element, then an unrestricted ENERGY element
    tod = by_id["TRF-AC-TOD-OFFPEAK"]["elements"]
    assert tod[0]["restrictions"] == {"start_time": "00:00", "end_time": "07:00"}
    assert "restrictions" not in tod[1] and tod[1]["price_components"][0]["type"] == "ENERGY"
    # 50p incl. VAT
    assert round(Decimal(str(by_id["TRF-AC-STD-50P"]["elements"][0]["price_components"][0]["price"]))
                 * Decimal("1.2"), 2) == Decimal("0.50")
    assert any(pc["type"] == "TIME" for el in by_id["TRF-AC-TIME-HOURLY"]["elements"]
               for pc in el["price_components"])
    ultra = by_id["TRF-DC-ULTRA-80P"]["elements"]
    assert ultra[1]["price_components"][0]["type"] == "PARKING_TIME" and ultra[1]["restrictions"]["min_duration"]
    assert all(by_id[i].get("type") == "AD_HOC_PAYMENT" for i in ("TRF-AC-STD-50P", "TRF-FREE"))
    expired = by_id["TRF-AC-LAUNCH-EXPIRED"]
    assert expired["end_date_time"] < d["exported_at"]
    assert not set(MISSING_TARIFF_IDS) & set(by_id)


def test_tariff_references():
    """Every referenced public_tariff_id exists, except the deliberately retired ids in
    MISSING_TARIFF_IDS (edge cases S000014-E2, S000019-E1 connector 2, S000024-E1 connector 2,
    plus ~0.1 % noise). EVSEs with no public tariff at all are S000004-E1, S000009-E1, S000044-E1
    plus ~0.15 % noise on public sites and many private EVSEs."""
    d = doc()
    tariff_ids = {t["id"] for t in d["tariffs"]}
    refs, profile_refs = set(), set()
    public_refs = set()
    for s, ev in evses(d):
        ids = [ev.get("public_tariff_id")] + [c.get("public_tariff_id") for c in ev["connectors"]]
        ids = {i for i in ids if i}
        refs |= ids
        if is_public_evse(ev):
            public_refs |= ids
        profile_refs |= {p["tariff_id"] for p in ev.get("access_profiles", [])}
    assert refs - tariff_ids == set(MISSING_TARIFF_IDS)
    assert profile_refs <= tariff_ids and profile_refs == PRIVATE_TARIFFS
    # private tariffs and the expired one are never a public EVSE's public tariff
    assert not public_refs & (PRIVATE_TARIFFS | {"TRF-AC-LAUNCH-EXPIRED"})
    assert "TRF-TRIAL-UNUSED-2024" not in refs | profile_refs
    # the tariffs a driver can see are all referenced
    valid = valid_tariff_ids(d)
    published = {(c.get("public_tariff_id") or ev.get("public_tariff_id"))
                 for s, ev in evses(d) if evse_published(s, ev, valid)
                 for c in ev["connectors"] if c.get("is_published") is not False}
    assert {"TRF-FREE", "TRF-AC-TOD-OFFPEAK", "TRF-AC-TIME-HOURLY", "TRF-DC-ULTRA-80P",
            "TRF-DC-CHADEMO-70P", "TRF-AC-43KW-65P"} <= published
    assert not published & (PRIVATE_TARIFFS | {"TRF-AC-LAUNCH-EXPIRED", "TRF-TRIAL-UNUSED-2024"})


# ---- edge cases -----------------------------------------------------------------------------

EXPECTED_PUBLISHED = {
    "no_public_tariff": False, "only_evse_no_public_tariff": False, "dangling_evse_tariff": False,
    "dangling_connector_override": False, "hidden_connector_dangling_tariff": True,
    "all_connectors_hidden": False, "no_visibility_flags": False,
    "conflicting_visibility_flags": False, "access_profile_only": False,
}


def test_edge_case_list():
    assert edge_cases_for(3) == []
    assert len(edge_cases_for(50)) == len(EDGE_CASES) == len(EXPECTED_PUBLISHED)
    assert {c.case for c in EDGE_CASES} == set(EXPECTED_PUBLISHED)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_edge_cases_behave_as_documented(seed):
    d = doc(50, seed)
    valid = valid_tariff_ids(d)
    sites = {s["id"]: s for s in d["sites"]}
    evse_by_uid = {ev["uid"]: (s, ev) for s, ev in evses(d)}
    for case in EDGE_CASES:
        site = d["sites"][case.site_number - 1]
        assert site["public_visibility"] is True
        site_published = any(evse_published(site, ev, valid) for ev in site["evses"])
        if case.kind == "site":
            assert case.id in sites and not site_published, case
            continue
        s, ev = evse_by_uid[case.id]
        assert s is site
        assert evse_published(s, ev, valid) is EXPECTED_PUBLISHED[case.case], case
        # every other EVSE on an edge site publishes, so the site itself stays published
        others = [o for o in site["evses"] if o is not ev]
        assert others and all(evse_published(site, o, valid) for o in others), case
        assert site_published
    s24 = evse_by_uid["S000024-E1"][1]
    assert s24["connectors"][1]["is_published"] is False
    assert s24["connectors"][1]["public_tariff_id"] == MISSING_TARIFF_IDS[0]
