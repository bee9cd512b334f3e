"""Country facts the synthetic invoices need: currency, VAT rates, cities with postal codes, legal forms,
country names per language, which countries write in which language."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from random import Random

from .ids import digits

D = Decimal


@dataclass(frozen=True)
class Country:
    code: str
    currency: str
    rates: tuple[Decimal, ...]  # the standard rate first
    legal_forms: tuple[str, ...]
    cities: tuple[str, ...]
    eu: bool = True


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("DE", "EUR", (D(19), D(7)),
                ("GmbH", "GmbH", "AG", "GmbH & Co. KG", "e.K.", "UG (haftungsbeschränkt)", "KG"),
                ("Berlin", "München", "Hamburg", "Köln", "Stuttgart", "Leipzig", "Nürnberg", "Bremen", "Dortmund",
                 "Freiburg im Breisgau", "Würzburg", "Kiel")),
        Country("AT", "EUR", (D(20), D(10), D(13)), ("GmbH", "AG", "KG", "OG"),
                ("Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt")),
        Country("CH", "CHF", (D("8.1"), D("2.6"), D("3.8")), ("AG", "GmbH", "SA", "Sàrl"),
                ("Zürich", "Bern", "Basel", "Luzern", "St. Gallen", "Winterthur"), eu=False),
        Country("FR", "EUR", (D(20), D("5.5"), D(10)), ("SARL", "SAS", "SA", "EURL", "SASU"),
                ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Bordeaux", "Lille", "Strasbourg", "Rennes")),
        Country("BE", "EUR", (D(21), D(6), D(12)), ("SA", "SRL", "NV", "BV", "SPRL"),
                ("Bruxelles", "Antwerpen", "Gent", "Liège", "Namur", "Leuven")),
        Country("ES", "EUR", (D(21), D(10), D(4)), ("S.L.", "S.A.", "S.L.U.", "S.Coop."),
                ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Zaragoza", "Málaga")),
        Country("IT", "EUR", (D(22), D(10), D(4)), ("S.r.l.", "S.p.A.", "S.a.s.", "S.n.c.", "S.r.l.s."),
                ("Milano", "Roma", "Torino", "Bologna", "Firenze", "Napoli", "Verona", "Padova")),
        Country("NL", "EUR", (D(21), D(9)), ("B.V.", "B.V.", "N.V.", "V.O.F."),
                ("Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Groningen", "Zwolle")),
        Country("GB", "GBP", (D(20), D(5)), ("Ltd", "Limited", "PLC", "LLP"),
                ("London", "Manchester", "Leeds", "Bristol", "Birmingham", "Edinburgh", "Glasgow"), eu=False),
        Country("IE", "EUR", (D(23), D("13.5")), ("Ltd", "Limited", "DAC"),
                ("Dublin", "Cork", "Galway", "Limerick")),
        Country("US", "USD", (D("7.25"), D("8.875"), D("6.25"), D(6), D("9.5")), ("Inc.", "LLC", "Corp.", "Co."),
                ("New York, NY", "Austin, TX", "Denver, CO", "Seattle, WA", "Chicago, IL", "Boston, MA"), eu=False),
        Country("PL", "PLN", (D(23), D(8)), ("sp. z o.o.", "S.A.", "sp.k."),
                ("Warszawa", "Kraków", "Wrocław", "Poznań", "Gdańsk", "Łódź")),
        Country("CZ", "CZK", (D(21), D(12)), ("s.r.o.", "a.s.", "v.o.s."), ("Praha", "Brno", "Ostrava", "Plzeň")),
        Country("CN", "CNY", (D(13), D(9), D(6)), ("有限公司",), ("北京", "上海", "深圳", "杭州", "广州", "成都"),
                eu=False),
    )
}  # fmt: skip

# which vendor countries write invoices in a language, most frequent first
VENDOR_COUNTRIES: dict[str, tuple[str, ...]] = {
    "en": ("GB", "US", "US", "GB", "IE", "NL", "DE", "PL", "CZ", "BE", "AT"),
    "de": ("DE", "DE", "DE", "AT", "CH"),
    "fr": ("FR", "FR", "FR", "BE", "CH"),
    "es": ("ES",),
    "it": ("IT",),
    "nl": ("NL", "NL", "BE"),
    "zh": ("CN",),
}

COUNTRY_NAMES: dict[str, tuple[str, ...]] = {  # en, de, fr, es, it, nl, zh
    "DE": ("Germany", "Deutschland", "Allemagne", "Alemania", "Germania", "Duitsland", "德国"),
    "AT": ("Austria", "Österreich", "Autriche", "Austria", "Austria", "Oostenrijk", "奥地利"),
    "CH": ("Switzerland", "Schweiz", "Suisse", "Suiza", "Svizzera", "Zwitserland", "瑞士"),
    "FR": ("France", "Frankreich", "France", "Francia", "Francia", "Frankrijk", "法国"),
    "BE": ("Belgium", "Belgien", "Belgique", "Bélgica", "Belgio", "België", "比利时"),
    "ES": ("Spain", "Spanien", "Espagne", "España", "Spagna", "Spanje", "西班牙"),
    "IT": ("Italy", "Italien", "Italie", "Italia", "Italia", "Italië", "意大利"),
    "NL": ("Netherlands", "Niederlande", "Pays-Bas", "Países Bajos", "Paesi Bassi", "Nederland", "荷兰"),
    "GB": ("United Kingdom", "Vereinigtes Königreich", "Royaume-Uni", "Reino Unido", "Regno Unito",
           "Verenigd Koninkrijk", "英国"),
    "IE": ("Ireland", "Irland", "Irlande", "Irlanda", "Irlanda", "Ierland", "爱尔兰"),
    "US": ("USA", "USA", "États-Unis", "EE. UU.", "USA", "VS", "美国"),
    "PL": ("Poland", "Polen", "Pologne", "Polonia", "Polonia", "Polen", "波兰"),
    "CZ": ("Czech Republic", "Tschechien", "Tchéquie", "Chequia", "Repubblica Ceca", "Tsjechië", "捷克"),
    "CN": ("China", "China", "Chine", "China", "Cina", "China", "中国"),
}  # fmt: skip
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "zh")


def country_name(code: str, language: str) -> str:
    return COUNTRY_NAMES[code][LANGUAGES.index(language)]


def postal_line(rng: Random, code: str, city: str) -> str:
    """The postal-code-and-city line in that country's order."""
    if code in ("DE", "FR", "ES", "IT"):
        return f"{digits(rng, 5, first_nonzero=True)} {city}"
    if code in ("AT", "CH", "BE"):
        return f"{rng.randint(1000, 9999)} {city}"
    if code == "NL":
        return (
            f"{rng.randint(1000, 9999)} {rng.choice('ABCDEGHJKLMNPRSTVWXZ')}{rng.choice('ABCDEGHJKLMNPRSTVWXZ')} {city}"
        )
    if code == "PL":
        return f"{digits(rng, 2)}-{digits(rng, 3)} {city}"
    if code == "CZ":
        return f"{digits(rng, 3, first_nonzero=True)} {digits(rng, 2)} {city}"
    if code == "US":
        return f"{city} {digits(rng, 5, first_nonzero=True)}"
    letters = "ABCDEFGHJKLMNPRSTUWY"
    if code == "GB":
        area = rng.choice(("EC1A", "SW1", "M1", "LS2", "BS1", "B3", "EH2", "G1", "N7", "SE10"))
        return f"{city} {area} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    if code == "IE":
        area = rng.choice(("D02", "D04", "T12", "H91", "V94", "D15"))
        return f"{city} {area} {rng.choice(letters)}{rng.randint(1, 9)}{rng.choice(letters)}{rng.randint(1, 9)}"
    return city


_STREET_WORDS = {
    "de": ("Linden", "Berg", "Garten", "Mühlen", "Schiller", "Goethe", "Kirch", "Wald", "Hafen", "Industrie", "Rosen"),
    "fr": ("des Lilas", "de la Paix", "Victor Hugo", "du Commerce", "des Écoles", "de la Gare", "Pasteur",
           "Jean Jaurès"),
    "es": ("Mayor", "de la Constitución", "del Sol", "de Alcalá", "de Goya", "San Vicente", "de la Industria"),
    "it": ("Roma", "Garibaldi", "Mazzini", "dei Mille", "Verdi", "della Repubblica", "Dante", "XX Settembre"),
    "nl": ("Keizers", "Heren", "Prinsen", "Molen", "Kerk", "Stations", "Dorps", "Industrie", "Haven"),
    "en": ("High", "Station", "Church", "Park", "Victoria", "Mill", "King", "Oak", "Maple", "Market", "Bridge"),
    "pl": ("Marszałkowska", "Długa", "Polna", "Lipowa", "Kościuszki", "Mickiewicza"),
    "cz": ("Vinohradská", "Národní", "Dlouhá", "Husova", "Palackého", "Masarykova"),
}  # fmt: skip


def street(rng: Random, code: str) -> str:
    n = rng.randint(1, 180)
    w = _STREET_WORDS
    if code in ("DE", "AT", "CH"):
        suffix = rng.choice(("straße", "str.", "weg", "allee", "ring", "gasse", "platz"))
        extra = rng.choice(("", "", "", "a", "b", "-12"))
        return f"{rng.choice(w['de'])}{suffix} {n}{extra}"
    if code == "FR" or (code == "BE" and rng.random() < 0.5):
        kind = rng.choice(("rue", "avenue", "boulevard", "place", "allée"))
        return f"{n}{rng.choice(('', '', ' bis'))} {kind} {rng.choice(w['fr'])}"
    if code in ("NL", "BE"):
        return f"{rng.choice(w['nl'])}{rng.choice(('straat', 'gracht', 'weg', 'laan', 'kade'))} {n}"
    if code == "ES":
        return f"{rng.choice(('Calle', 'C/', 'Avda.', 'Paseo', 'Plaza'))} {rng.choice(w['es'])}, {n}"
    if code == "IT":
        return f"{rng.choice(('Via', 'Viale', 'Corso', 'Piazza'))} {rng.choice(w['it'])}, {n}"
    if code == "PL":
        return f"ul. {rng.choice(w['pl'])} {n}"
    if code == "CZ":
        return f"{rng.choice(w['cz'])} {n}/{rng.randint(1, 40)}"
    if code == "CN":
        return (
            f"{rng.choice(('朝阳', '浦东新', '南山', '西湖', '天河', '武侯'))}区"
            f"{rng.choice(('建国', '科技', '人民', '中山', '学院', '滨江'))}{rng.choice(('路', '大道', '街'))}{n}号"
        )
    kind = rng.choice(("Street", "Road", "Avenue", "Lane", "Way", "Drive"))
    suite = rng.choice(("", "", f", Suite {rng.randint(100, 950)}", f", Unit {rng.randint(1, 30)}"))
    return f"{n * rng.choice((1, 10, 11))} {rng.choice(w['en'])} {kind}{suite}"
