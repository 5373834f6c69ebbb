"""Reference data the checks need: ISO 3166 country codes, ISO 4217 currencies, UK bounds, eMI3.

Kept as plain tables in one module so that every rule that depends on them is easy to audit.
"""

from __future__ import annotations

import re
from decimal import Decimal

# ISO 3166-1 alpha-2 → alpha-3 (all officially assigned codes).
_ISO3166 = """
AD AND AE ARE AF AFG AG ATG AI AIA AL ALB AM ARM AO AGO AQ ATA AR ARG AS ASM AT AUT AU AUS AW ABW
AX ALA AZ AZE BA BIH BB BRB BD BGD BE BEL BF BFA BG BGR BH BHR BI BDI BJ BEN BL BLM BM BMU BN BRN
BO BOL BQ BES BR BRA BS BHS BT BTN BV BVT BW BWA BY BLR BZ BLZ CA CAN CC CCK CD COD CF CAF CG COG
CH CHE CI CIV CK COK CL CHL CM CMR CN CHN CO COL CR CRI CU CUB CV CPV CW CUW CX CXR CY CYP CZ CZE
DE DEU DJ DJI DK DNK DM DMA DO DOM DZ DZA EC ECU EE EST EG EGY EH ESH ER ERI ES ESP ET ETH FI FIN
FJ FJI FK FLK FM FSM FO FRO FR FRA GA GAB GB GBR GD GRD GE GEO GF GUF GG GGY GH GHA GI GIB GL GRL
GM GMB GN GIN GP GLP GQ GNQ GR GRC GS SGS GT GTM GU GUM GW GNB GY GUY HK HKG HM HMD HN HND HR HRV
HT HTI HU HUN ID IDN IE IRL IL ISR IM IMN IN IND IO IOT IQ IRQ IR IRN IS ISL IT ITA JE JEY JM JAM
JO JOR JP JPN KE KEN KG KGZ KH KHM KI KIR KM COM KN KNA KP PRK KR KOR KW KWT KY CYM KZ KAZ LA LAO
LB LBN LC LCA LI LIE LK LKA LR LBR LS LSO LT LTU LU LUX LV LVA LY LBY MA MAR MC MCO MD MDA ME MNE
MF MAF MG MDG MH MHL MK MKD ML MLI MM MMR MN MNG MO MAC MP MNP MQ MTQ MR MRT MS MSR MT MLT MU MUS
MV MDV MW MWI MX MEX MY MYS MZ MOZ NA NAM NC NCL NE NER NF NFK NG NGA NI NIC NL NLD NO NOR NP NPL
NR NRU NU NIU NZ NZL OM OMN PA PAN PE PER PF PYF PG PNG PH PHL PK PAK PL POL PM SPM PN PCN PR PRI
PS PSE PT PRT PW PLW PY PRY QA QAT RE REU RO ROU RS SRB RU RUS RW RWA SA SAU SB SLB SC SYC SD SDN
SE SWE SG SGP SH SHN SI SVN SJ SJM SK SVK SL SLE SM SMR SN SEN SO SOM SR SUR SS SSD ST STP SV SLV
SX SXM SY SYR SZ SWZ TC TCA TD TCD TF ATF TG TGO TH THA TJ TJK TK TKL TL TLS TM TKM TN TUN TO TON
TR TUR TT TTO TV TUV TW TWN TZ TZA UA UKR UG UGA UM UMI US USA UY URY UZ UZB VA VAT VC VCT VE VEN
VG VGB VI VIR VN VNM VU VUT WF WLF WS WSM YE YEM YT MYT ZA ZAF ZM ZMB ZW ZWE
""".split()
ALPHA2_TO_ALPHA3: dict[str, str] = dict(zip(_ISO3166[0::2], _ISO3166[1::2], strict=True))
ALPHA3: frozenset[str] = frozenset(ALPHA2_TO_ALPHA3.values())

# Active ISO 4217 currency codes.
ISO4217: frozenset[str] = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
""".split())

# eMI3 / ISO 15118-2 EVSE ID, case-insensitive (the third-party regex the spec notes cite).
EMI3_EVSE_ID = re.compile(
    r"^(([A-Z]{2}\*?[A-Z0-9]{3}\*?E[A-Z0-9*]{1,30})|(\+?[0-9]{1,3}\*[0-9]{3}\*[0-9*]{1,32}))$",
    re.IGNORECASE,
)

# The UK and Ireland as a few rectangles: Great Britain with Northern Ireland, minus the corner
# of northern France that a single bounding box would take in, plus the island of Ireland and
# the Isles of Scilly. Coarse on purpose: it catches swapped and sign-lost coordinates, which
# land hundreds of kilometres away, without a geometry library.
_INCLUDE = (
    (Decimal("49.85"), Decimal("60.95"), Decimal("-8.75"), Decimal("1.80")),  # GB + NI
    (Decimal("51.35"), Decimal("55.45"), Decimal("-10.70"), Decimal("-5.40")),  # Ireland
)
_EXCLUDE = (
    (Decimal("49.85"), Decimal("50.70"), Decimal("0.40"), Decimal("1.80")),  # Normandy coast
    (Decimal("49.85"), Decimal("51.00"), Decimal("1.45"), Decimal("1.80")),  # Pas-de-Calais
)


def in_uk_or_ireland(lat: Decimal, lon: Decimal) -> bool:
    def inside(box: tuple[Decimal, Decimal, Decimal, Decimal]) -> bool:
        return box[0] <= lat <= box[1] and box[2] <= lon <= box[3]

    return any(inside(b) for b in _INCLUDE) and not any(inside(b) for b in _EXCLUDE)
