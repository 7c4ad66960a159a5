"""The currencies the gateway bills in: ISO 4217 List One (published 2026-01-01), with
the digits of each currency's minor unit. Codes whose minor unit ISO gives as N.A.
(gold, SDRs, bond-market units, XTS, XXX…) are not money one can invoice, so they are
left out and refused on write.

This table is the one source of the list. Migration 0005 creates PostgreSQL's
`currencies` table from it (`python -m resolvers.currencies` prints the rows), foreign
keys refuse an account or plan in any other currency, and the gateway refuses to start
when the database's table differs from this one (tests check both)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Codes by the digits of their minor unit.
_BY_DIGITS: Final = {
    0: """
BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF
""",
    2: """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK
LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS
SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST
XAD XCD XCG YER ZAR ZMW ZWG
""",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
MINOR_UNITS: Final[Mapping[str, int]] = {
    code: digits for digits, codes in _BY_DIGITS.items() for code in codes.split()
}


def sql_rows() -> str:
    """The VALUES rows of migration 0005's INSERT INTO currencies, one per line."""
    rows = [f"    ('{code}', {digits})" for code, digits in sorted(MINOR_UNITS.items())]
    return ",\n".join(rows)


if __name__ == "__main__":
    print(sql_rows())
