"""Identifiers for synthetic invoices: VAT ids and the Chinese USCC with valid check digits, IBANs,
BICs, national tax and registry numbers, phone numbers and the many shapes of document numbers."""

from __future__ import annotations

import string
from datetime import date
from random import Random

from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.ch import vat as ch_vat
from stdnum.cn import uscc
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.ie import vat as ie_vat

DIGITS = string.digits
UPPER = string.ascii_uppercase


def digits(rng: Random, count: int, *, first_nonzero: bool = False) -> str:
    out = "".join(rng.choice(DIGITS) for _ in range(count))
    if first_nonzero and out[0] == "0":
        out = rng.choice("123456789") + out[1:]
    return out


def _vat_candidate(rng: Random, country: str) -> str:
    if country == "DE":
        return "DE" + digits(rng, 9, first_nonzero=True)
    if country == "AT":
        return "ATU" + digits(rng, 8)
    if country == "FR":
        siren = digits(rng, 8, first_nonzero=True)
        siren += luhn.calc_check_digit(siren)
        key = (12 + 3 * (int(siren) % 97)) % 97
        return f"FR{key:02d}{siren}"
    if country == "BE":
        return "BE" + rng.choice("01") + digits(rng, 9, first_nonzero=False)
    if country == "NL":
        return "NL" + digits(rng, 9) + "B" + f"{rng.randint(1, 19):02d}"
    if country == "IT":
        return "IT" + digits(rng, 7) + f"{rng.randint(1, 100):03d}" + rng.choice(DIGITS)
    if country == "ES":
        return "ES" + rng.choice("ABBBBBCDEFGHJ") + digits(rng, 7) + rng.choice(DIGITS)
    if country == "CZ":
        return "CZ" + digits(rng, 8, first_nonzero=False)
    if country == "PL":
        return "PL" + digits(rng, 10, first_nonzero=True)
    if country == "GB":
        return "GB" + digits(rng, 9, first_nonzero=True)
    if country == "IE":
        return "IE" + digits(rng, 7) + rng.choice("ABCDEFGHJKLMNPQRSTWX")
    if country == "CH":
        body = digits(rng, 8, first_nonzero=True)
        return "CHE" + body + "0" + "MWST"  # check digit fixed up by the caller's validation loop
    raise ValueError(f"no VAT id scheme for {country}")


def _vat_valid(number: str) -> bool:
    if number.startswith("CHE"):
        return bool(ch_vat.is_valid(number))
    if number.startswith("GB"):
        return bool(gb_vat.is_valid(number))
    if number.startswith("IE"):
        return bool(ie_vat.is_valid(number))
    return bool(eu_vat.is_valid(number))


def vat_id(rng: Random, country: str) -> str:
    """A compact VAT id ('DE123456789', 'ATU12345678', 'CHE123456789MWST') whose check digits hold."""
    for _ in range(5000):
        candidate = _vat_candidate(rng, country)
        if country == "CH":
            body = candidate[3:11]
            check = (11 - sum(w * int(n) for w, n in zip((5, 4, 3, 2, 7, 6, 5, 4), body, strict=True)) % 11) % 11
            if check == 10:
                continue
            candidate = f"CHE{body}{check}{rng.choice(('MWST', 'MWST', 'TVA', 'IVA'))}"
        if _vat_valid(candidate):
            return candidate
    raise RuntimeError(f"no valid VAT id found for {country}")  # pragma: no cover


def placeholder_vat_id(rng: Random, country: str) -> str:
    """A VAT id of the right shape whose check digits do not hold, as specimen and test invoices
    print them ('DE123456789', 'FR12345678901') or as a typo leaves them."""
    shape = vat_id(rng, country)
    body_start = 3 if shape.startswith(("ATU", "CHE")) else 2
    prefix, body = shape[:body_start], shape[body_start:]
    for _ in range(100):
        if rng.random() < 0.5:
            run = "1234567890" * 2
            new = "".join(run[i] if ch.isdigit() else ch for i, ch in enumerate(body))
        else:
            new = "".join(rng.choice(DIGITS) if ch.isdigit() else ch for ch in body)
        if not _vat_valid(prefix + new):
            return prefix + new
    return prefix + body[:-1] + str((int(body[-1]) + 1) % 10)  # pragma: no cover


def format_vat(rng: Random, compact: str) -> str:
    """How the id is printed: compact or grouped the way that country's documents group it."""
    cc, body = compact[:2], compact[2:]
    if cc == "CH":
        return ch_vat.format(compact) if rng.random() < 0.8 else compact
    if rng.random() < 0.45:
        return compact
    groups = {
        "DE": lambda b: f"DE {b[:3]} {b[3:6]} {b[6:]}",
        "FR": lambda b: f"FR {b[:2]} {b[2:5]} {b[5:8]} {b[8:]}",
        "GB": lambda b: f"GB {b[:3]} {b[3:7]} {b[7:]}",
        "BE": lambda b: f"BE {b[:4]}.{b[4:7]}.{b[7:]}",
        "NL": lambda b: f"NL {b}" if rng.random() < 0.5 else f"NL{b[:4]}.{b[4:6]}.{b[6:9]}.{b[9:]}",
        "AT": lambda b: f"ATU {b[1:]}",
        "PL": lambda b: f"PL {b[:3]}-{b[3:6]}-{b[6:8]}-{b[8:]}",
        "ES": lambda b: f"ES-{b}" if rng.random() < 0.5 else f"ES {b}",
    }
    return groups.get(cc, lambda b: f"{cc} {b}")(body)


def uscc_code(rng: Random) -> str:
    """An 18-character unified social credit code with valid organisation and USCC check characters."""
    region = rng.choice(("110108", "310115", "440305", "330106", "320505", "510107", "420106", "440106", "370202"))
    org = "".join(rng.choice(DIGITS + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    alphabet = DIGITS + UPPER
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(alphabet.index(c) * w for c, w in zip(org, weights, strict=True)) % 11
    org += {10: "X", 11: "0"}.get(check, str(check))
    body = rng.choice(("91", "91", "91", "92", "12", "52")) + region + org
    code = body + uscc.calc_check_digit(body)
    assert uscc.is_valid(code), code
    return code


_BANK_CODES = {
    "NL": ("ABNA", "INGB", "RABO", "TRIO", "KNAB", "BUNQ", "SNSB"),
    "GB": ("BARC", "HBUK", "LOYD", "NWBK", "MIDL", "SRLG"),
    "IE": ("AIBK", "BOFI", "IPBS", "ULSB"),
}
IBAN_LENGTH = {
    "DE": 22, "AT": 20, "CH": 21, "FR": 27, "BE": 16, "ES": 24, "IT": 27,
    "NL": 18, "GB": 22, "IE": 22, "PL": 28, "CZ": 24, "LU": 20,
}  # fmt: skip


def _bban(rng: Random, country: str) -> str:
    if country in _BANK_CODES:
        return rng.choice(_BANK_CODES[country]) + digits(rng, IBAN_LENGTH[country] - 8)
    if country == "FR":
        bank, branch, account = digits(rng, 5), digits(rng, 5), digits(rng, 11)
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        return f"{bank}{branch}{account}{key:02d}"
    if country == "IT":
        return rng.choice(UPPER) + digits(rng, 22)
    return digits(rng, IBAN_LENGTH[country] - 4)


def iban(rng: Random, country: str) -> str:
    """A compact IBAN with valid mod-97 digits (and the national check where stdnum checks one)."""
    for _ in range(5000):
        bban = _bban(rng, country)
        check = std_iban.calc_check_digits(country + "00" + bban)
        number = country + check + bban
        if std_iban.is_valid(number):
            return number
    raise RuntimeError(f"no valid IBAN found for {country}")  # pragma: no cover


def format_iban(compact: str) -> str:
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def bic(rng: Random, iban_number: str) -> str:
    cc = iban_number[:2]
    bank = iban_number[4:8] if cc in _BANK_CODES else "".join(rng.choice(UPPER) for _ in range(4))
    location = rng.choice(UPPER) + rng.choice(UPPER + "2")
    branch = rng.choice(("", "", "XXX", "".join(rng.choice(UPPER + DIGITS) for _ in range(3))))
    return f"{bank}{cc}{location}{branch}"


def phone(rng: Random, country: str) -> str:
    local = {
        "DE": lambda: f"+49 {rng.choice(('30', '89', '40', '221', '711', '69'))} {digits(rng, 6)}-{digits(rng, 2)}",
        "AT": lambda: f"+43 1 {digits(rng, 3)} {digits(rng, 2)} {digits(rng, 2)}",
        "CH": lambda: f"+41 {rng.choice(('44', '31', '61'))} {digits(rng, 3)} {digits(rng, 2)} {digits(rng, 2)}",
        "FR": lambda: "0" + rng.choice("12345") + " " + " ".join(digits(rng, 2) for _ in range(4)),
        "BE": lambda: f"+32 2 {digits(rng, 3)} {digits(rng, 2)} {digits(rng, 2)}",
        "ES": lambda: f"+34 9{digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)}",
        "IT": lambda: f"+39 0{digits(rng, 1)} {digits(rng, 4)} {digits(rng, 4)}",
        "NL": lambda: f"020-{digits(rng, 3)} {digits(rng, 4)}",
        "GB": lambda: f"+44 (0)20 {digits(rng, 4)} {digits(rng, 4)}",
        "IE": lambda: f"+353 1 {digits(rng, 3)} {digits(rng, 4)}",
        "US": lambda: f"({digits(rng, 3, first_nonzero=True)}) {digits(rng, 3)}-{digits(rng, 4)}",
        "PL": lambda: f"+48 22 {digits(rng, 3)} {digits(rng, 2)} {digits(rng, 2)}",
        "CZ": lambda: f"+420 2{digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)}",
        "CN": lambda: f"0{rng.choice(('10', '21', '755', '571', '20'))}-{digits(rng, 8, first_nonzero=True)}",
    }
    return local[country]()


def tax_number(rng: Random, country: str) -> tuple[str, str] | None:
    """A national tax or company number that is not the VAT id: (kind, printed value)."""
    if country == "DE":
        return "tax_number", f"{digits(rng, 3)}/{digits(rng, 3)}/{digits(rng, 5)}"
    if country == "AT":
        return "tax_number", f"{digits(rng, 2)} {digits(rng, 3)}/{digits(rng, 4)}"
    if country == "FR":
        return "siret", f"{digits(rng, 3, first_nonzero=True)} {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 5)}"
    if country == "IT":
        return "tax_code", digits(rng, 11)
    if country == "PL":
        return "regon", digits(rng, 9, first_nonzero=True)
    if country == "ES":
        return "registry", f"Tomo {rng.randint(1000, 40000)}, Folio {rng.randint(1, 200)}, Hoja M-{digits(rng, 6)}"
    return None


def registry(rng: Random, country: str, city: str) -> str | None:
    """The trade-register entry a footer shows (court and number)."""
    table = {
        "DE": lambda: f"Amtsgericht {city} HRB {rng.randint(1000, 299999)}",
        "AT": lambda: f"FN {rng.randint(10000, 599999)}{rng.choice('abdfghikmpstvwxyz')}, Handelsgericht {city}",
        "CH": lambda: f"Handelsregister des Kantons {city}",
        "FR": lambda: f"RCS {city} B {digits(rng, 3, first_nonzero=True)} {digits(rng, 3)} {digits(rng, 3)}",
        "BE": lambda: f"RPR {city}",
        "ES": lambda: f"Registro Mercantil de {city}",
        "IT": lambda: f"REA {city[:2].upper()}-{rng.randint(100000, 2999999)}",
        "NL": lambda: f"KvK {city} {digits(rng, 8, first_nonzero=True)}",
        "GB": lambda: f"Registered in England and Wales No. {digits(rng, 8)}",
        "IE": lambda: f"Registered in Ireland No. {rng.randint(100000, 799999)}",
        "PL": lambda: f"KRS {digits(rng, 10)}, Sąd Rejonowy {city}",
        "CZ": lambda: f"C {rng.randint(1000, 299999)} vedená u Městského soudu v {city}",
    }
    make = table.get(country)
    return make() if make else None


def _prefix(rng: Random, language: str) -> str:
    return rng.choice(
        {
            "de": ("RE", "R", "RG", "RN"), "en": ("INV", "IN", "SI", "INV"), "fr": ("F", "FA", "FAC", "FC"),
            "es": ("F", "FV", "FRA", "FAC"), "it": ("FT", "FV", "FE", "FATT"), "nl": ("F", "FACT", "INV", "VF"),
            "zh": ("FP", "XS", "INV", "NO"),
        }[language]
    )  # fmt: skip


def invoice_number_shape(rng: Random) -> int:
    return rng.randrange(12)


def invoice_number(rng: Random, shape: int, language: str, when: date) -> str:
    """One of a dozen shapes: '2024-0042', 'RE-2024/117', 'VT/2022/0001', 'F20260003', 'INV-000123',
    'A17', plain digits, '24110042', '42/2024', ...; the same shape with another rng gives a sibling."""
    n = rng.randint(1, 9999)
    y, yy, mm = when.year, when.year % 100, when.month
    prefix = _prefix(rng, language)
    makers = (
        lambda: f"{y}-{n:04d}",
        lambda: f"{prefix}-{y}/{n % 1000:03d}",
        lambda: f"{rng.choice(('VT', 'FV', 'AR', 'VK'))}/{y}/{n:04d}",
        lambda: f"{prefix[0]}{y}{n:04d}",
        lambda: f"{prefix}-{rng.randint(1, 999999):06d}",
        lambda: f"{rng.choice(UPPER)}{rng.randint(1, 999)}",
        lambda: digits(rng, rng.randint(6, 10), first_nonzero=True),
        lambda: f"{yy:02d}{mm:02d}{n:04d}",
        lambda: f"{n}/{y}",
        lambda: f"{prefix}{y}{mm:02d}-{n % 1000:03d}",
        lambda: f"{y}.{n:04d}",
        lambda: f"{prefix}{rng.randint(10000, 99999)}",
    )
    return makers[shape]()


def reference(rng: Random, kind: str, when: date) -> str:
    """Order, delivery-note, customer, contract and PO numbers in their own usual shapes."""
    y = when.year
    options: dict[str, tuple[str, ...]] = {
        "po": (f"PO-{rng.randint(1000, 99999)}", f"45{digits(rng, 8)}", f"BE-{y}-{rng.randint(1, 999):03d}",
               f"P{digits(rng, 7)}", f"{rng.randint(100000, 999999)}", f"PO{y % 100}{digits(rng, 4)}"),
        "order": (f"AB-{y}-{rng.randint(1, 9999):04d}", f"SO{digits(rng, 6)}", f"{rng.randint(10000, 99999)}",
                  f"A{y % 100}-{digits(rng, 5)}", f"ORD-{digits(rng, 5)}"),
        "delivery": (f"LS-{y}-{rng.randint(1, 9999):04d}", f"DN{digits(rng, 6)}", f"{rng.randint(800000, 899999)}",
                     f"BL{y % 100}{digits(rng, 5)}"),
        "customer": (f"{rng.randint(10000, 99999)}", f"KD-{rng.randint(1000, 99999)}", f"C{digits(rng, 5)}",
                     f"{rng.randint(100, 999)}-{rng.randint(100, 999)}", f"CUST{digits(rng, 4)}"),
        "contract": (f"V-{y - rng.randint(0, 4)}-{rng.randint(1, 999):03d}", f"CT{digits(rng, 6)}",
                     f"{digits(rng, 4)}/{y - rng.randint(0, 3)}", f"SLA-{digits(rng, 4)}"),
    }  # fmt: skip
    return rng.choice(options[kind])
