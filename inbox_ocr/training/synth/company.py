"""Synthetic companies and people: names built from random syllables and words (so a model cannot
memorize them), a legal form of the company's country, an address, VAT id, IBAN and registry data."""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from . import ids as ids
from .locale import COUNTRIES, postal_line, street

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "kl", "l", "m", "n", "p", "pr", "r", "s", "st",
           "t", "tr", "v", "w", "z", "qu", "fl", "sk", "ch", "j")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ei", "au", "ia", "y")
_CODAS = ("", "", "", "n", "r", "l", "x", "s", "m", "nd", "rt", "ck", "nt", "v", "k")
_TAILS = ("tec", "tex", "lux", "mar", "ion", "ica", "ora", "ex", "ix", "on", "ia", "is", "eo", "ium", "ando")

_INDUSTRY = {
    "de": ("Metallbau", "Logistik", "Elektrotechnik", "Haustechnik", "Software", "Consulting", "Druck", "Bau",
           "Maschinenbau", "Medien", "Handel", "Gebäudereinigung", "Systemhaus", "Werkzeuge", "Verpackung"),
    "en": ("Solutions", "Technologies", "Systems", "Logistics", "Consulting", "Supplies", "Engineering", "Media",
           "Industries", "Analytics", "Trading", "Services", "Labs", "Networks", "Components"),
    "fr": ("Conseil", "Services", "Ingénierie", "Distribution", "Informatique", "Bâtiment", "Transports",
           "Imprimerie", "Équipements", "Solutions", "Industrie"),
    "es": ("Soluciones", "Servicios", "Ingeniería", "Distribuciones", "Consultores", "Construcciones",
           "Informática", "Logística", "Suministros", "Gráficas"),
    "it": ("Servizi", "Soluzioni", "Impianti", "Costruzioni", "Informatica", "Trasporti", "Forniture",
           "Meccanica", "Consulenze", "Arti Grafiche"),
    "nl": ("Techniek", "Handel", "Installatie", "Logistiek", "Advies", "Bouw", "Software", "Groothandel",
           "Onderhoud", "Drukwerk"),
}  # fmt: skip
_CN_BRAND = "华通创联达信瑞宏泰鑫博源星智汇恒嘉盛安德佳和融启航锐峰金云海天明东方"
_CN_INDUSTRY = ("科技", "信息技术", "贸易", "电子", "网络科技", "商贸", "物流", "实业", "餐饮管理", "文化传媒",
                "建筑工程", "医疗器械", "软件", "供应链管理", "机械设备")  # fmt: skip
_CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_CN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"

_FIRST = {
    "de": ("Anna", "Lukas", "Julia", "Felix", "Sabine", "Thomas", "Katrin", "Jörg", "Monika", "Stefan"),
    "en": ("James", "Emily", "Oliver", "Sarah", "Michael", "Laura", "David", "Sophie", "Daniel", "Grace"),
    "fr": ("Camille", "Julien", "Claire", "Nicolas", "Élodie", "Mathieu", "Sophie", "Thierry", "Inès", "Laurent"),
    "es": ("Lucía", "Javier", "Carmen", "Pablo", "Marta", "Alejandro", "Elena", "Sergio", "Raquel", "Diego"),
    "it": ("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Sara", "Matteo", "Elena", "Paolo"),
    "nl": ("Sanne", "Daan", "Lotte", "Bram", "Eva", "Jeroen", "Femke", "Thijs", "Marloes", "Pieter"),
}  # fmt: skip


def _syllables(rng: Random, count: int) -> str:
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(count))
    return word + rng.choice(_CODAS + _TAILS)


def brand(rng: Random) -> str:
    """A made-up brand word ('Kelirax', 'Trunomar'), capitalised, at least four letters."""
    while len(word := _syllables(rng, rng.choice((1, 2, 2, 3)))) < 4:
        pass
    return word.capitalize()


def surname(rng: Random, language: str) -> str:
    endings = {
        "de": ("mann", "er", "inger", "ke", "berg", "hofer", "bauer"),
        "en": ("son", "ton", "ley", "ford", "wood", "er"),
        "fr": ("ier", "eau", "ard", "in", "ot", "et"), "es": ("ez", "ero", "ado", "iño", "ales"),
        "it": ("elli", "ini", "etti", "one", "ari", "ucci"), "nl": ("sma", "stra", "ink", "man", "hof", "ens"),
    }.get(language, ("er", "an"))  # fmt: skip
    core = rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
    if rng.random() < 0.5:
        core += rng.choice(_ONSETS) + rng.choice(_VOWELS)
    return (core.rstrip("aeiouy") + rng.choice(endings)).capitalize()


def person(rng: Random, language: str) -> str:
    if language == "zh":
        return rng.choice(_CN_SURNAMES) + "".join(rng.choice(_CN_GIVEN) for _ in range(rng.choice((1, 2))))
    prefix = "van " if language == "nl" and rng.random() < 0.3 else ""
    return f"{rng.choice(_FIRST.get(language, _FIRST['en']))} {prefix}{surname(rng, language)}"


def company_name(rng: Random, country: str, language: str) -> str:
    forms = COUNTRIES[country].legal_forms
    if country == "CN":
        city = rng.choice(COUNTRIES["CN"].cities) if rng.random() < 0.7 else ""
        name = "".join(rng.choice(_CN_BRAND) for _ in range(2))
        kind = rng.choice(("有限公司", "有限公司", "股份有限公司", "有限责任公司"))
        return f"{city}{name}{rng.choice(_CN_INDUSTRY)}{kind}"
    words = _INDUSTRY.get(language, _INDUSTRY["en"])
    style = rng.randrange(6)
    if style == 0:
        core = f"{brand(rng)} {rng.choice(words)}"
    elif style == 1:
        core = f"{surname(rng, language)} & {surname(rng, language)}"
    elif style == 2:
        core = f"{surname(rng, language)} {rng.choice(words)}"
    elif style == 3:
        core = brand(rng).upper() if rng.random() < 0.5 else brand(rng)
    elif style == 4:
        core = f"{brand(rng)}{rng.choice(('', '-', ' '))}{brand(rng)}"
    else:
        core = f"{rng.choice(words)} {brand(rng)}"
    return f"{core} {rng.choice(forms)}"


@dataclass
class Company:
    """A party with one consistent identity across every place a document mentions it."""

    name: str
    country: str
    street: str
    postal_city: str
    city: str
    vat_id: str | None = None
    vat_print: str | None = None
    iban: str | None = None
    iban_print: str | None = None
    bic: str | None = None
    bank: str | None = None
    phone: str = ""
    fax: str | None = None
    email: str = ""
    web: str | None = None
    registry: str | None = None
    national_id: tuple[str, str] | None = None
    director: str | None = None
    contact: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def address_lines(self) -> list[str]:
        if self.country == "CN":
            return [f"{self.city}市{self.street}"]
        return [self.street, self.postal_city]


_MAIL_NAMES = {
    "de": ("info", "rechnung", "buchhaltung"), "fr": ("contact", "factures", "compta"),
    "es": ("info", "facturas", "administracion"), "it": ("info", "amministrazione", "fatture"),
    "nl": ("info", "facturen", "administratie"),
}  # fmt: skip


def _domain(name: str, country: str) -> str:
    word = "".join(ch for ch in name.split()[0].lower() if ch.isascii() and ch.isalnum()) or "firma"
    return word + {"GB": ".co.uk", "US": ".com", "IE": ".ie"}.get(country, "." + country.lower())


_BANK_WORDS = {
    "DE": ("{b} Bank", "Sparkasse {c}", "Volksbank {c}", "{b}bank AG"), "AT": ("{b} Bank", "Raiffeisenbank {c}"),
    "CH": ("{b} Bank AG", "Kantonalbank {c}"), "FR": ("Banque {b}", "Crédit {b}", "Caisse d'Épargne {c}"),
    "BE": ("Banque {b}", "{b} Bank"), "ES": ("Banco {b}", "Caja {c}"), "IT": ("Banca {b}", "Banca Popolare di {c}"),
    "NL": ("{b} Bank", "{b}bank N.V."), "GB": ("{b} Bank plc", "{b} Building Society"), "IE": ("{b} Bank",),
    "PL": ("Bank {b}", "{b} Bank Polski"), "CZ": ("{b} banka", "Banka {b}"),
}  # fmt: skip


def _bank_name(rng: Random, country: str) -> str:
    return rng.choice(_BANK_WORDS.get(country, ("{b} Bank",))).format(
        b=brand(rng), c=rng.choice(COUNTRIES[country].cities)
    )


def make_company(rng: Random, country: str, language: str, *, with_bank: bool = True) -> Company:
    city = rng.choice(COUNTRIES[country].cities)
    name = company_name(rng, country, language)
    postal = postal_line(rng, country, city.split(",")[0]) if country != "US" else postal_line(rng, country, city)
    company = Company(name=name, country=country, street=street(rng, country), postal_city=postal,
                      city=city.split(",")[0], phone=ids.phone(rng, country))  # fmt: skip
    domain = _domain(name, country) if country != "CN" else f"{ids.digits(rng, 3)}{rng.choice(('hx', 'tc', 'zx'))}.cn"
    local = _MAIL_NAMES.get(language, ("info", "billing", "accounts", "office"))
    company.email = f"{rng.choice(local)}@{domain}"
    company.web = f"www.{domain}" if rng.random() < 0.6 else None
    company.fax = ids.phone(rng, country) if rng.random() < 0.3 else None
    if country == "CN":
        company.vat_id = ids.uscc_code(rng)
        company.vat_print = company.vat_id
        company.extra["account"] = f"{rng.choice(('中国工商银行', '招商银行', '中国建设银行', '中国银行'))}" + (
            f"{company.city}{rng.choice(('分行', '支行', '高新支行'))} {ids.digits(rng, 19, first_nonzero=True)}"
        )
        return company
    if country != "US":
        # about one in ten documents carries a placeholder or mistyped id, as real samples do
        company.vat_id = ids.placeholder_vat_id(rng, country) if rng.random() < 0.1 else ids.vat_id(rng, country)
        company.vat_print = ids.format_vat(rng, company.vat_id)
    if with_bank and country != "US":
        company.iban = ids.iban(rng, country)
        company.iban_print = ids.format_iban(company.iban) if rng.random() < 0.85 else company.iban
        company.bic = ids.bic(rng, company.iban)
        company.bank = _bank_name(rng, country)
    elif with_bank:
        company.extra["routing"] = ids.digits(rng, 9, first_nonzero=True)
        company.extra["account"] = ids.digits(rng, rng.randint(9, 12), first_nonzero=True)
        company.bank = f"{brand(rng)} {rng.choice(('Bank', 'Savings Bank', 'Credit Union'))}"
    company.registry = ids.registry(rng, country, company.city)
    company.national_id = ids.tax_number(rng, country)
    if country == "FR" and company.vat_id:
        company.national_id = ("siret", f"{company.vat_id[4:7]} {company.vat_id[7:10]} {company.vat_id[10:]} "
                                        f"{ids.digits(rng, 5)}")  # fmt: skip
    company.director = person(rng, language if language != "zh" else "en")
    return company
