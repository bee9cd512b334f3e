"""Sentences and words around the fields: month names, payment terms, notes, salutations,
place-date lines, line-item descriptions and units, per language."""

from __future__ import annotations

from random import Random

Phrases = dict[str, tuple[str, ...]]

MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
           "Dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
           "novembre", "dicembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
}  # fmt: skip
MONTHS_SHORT: dict[str, tuple[str, ...]] = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "de": ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sep.", "Okt.", "Nov.", "Dez."),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
    "it": ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"),
    "nl": ("jan.", "feb.", "mrt.", "apr.", "mei", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec."),
}  # fmt: skip

PHRASES: dict[str, Phrases] = {
    "terms_days": {
        "en": ("Payment terms: {days} days net", "Please pay within {days} days.", "Net {days}", "Terms: Net {days}"),
        "de": ("Zahlbar innerhalb von {days} Tagen ohne Abzug.", "Zahlungsbedingungen: {days} Tage netto",
               "Bitte überweisen Sie den Betrag innerhalb von {days} Tagen."),
        "fr": ("Paiement à {days} jours.", "Conditions de paiement : {days} jours net", "Règlement à {days} jours"),
        "es": ("Forma de pago: transferencia a {days} días.", "Pago a {days} días", "Vencimiento a {days} días"),
        "it": ("Pagamento: bonifico bancario {days} gg d.f.", "Pagamento a {days} giorni", "Termini: {days} gg"),
        "nl": ("Betaling binnen {days} dagen.", "Betalingstermijn: {days} dagen",
               "Gelieve te betalen binnen {days} dagen."),
        "zh": ("请于{days}天内付款。", "付款方式：银行转账，{days}天内", "账期：{days}天"),
    },
    "terms_date": {
        "en": ("Please pay by {date}.", "Payment is due on {date}.", "Due on {date}"),
        "de": ("Zahlbar bis zum {date} ohne Abzug.", "Bitte begleichen Sie den Betrag bis {date}.",
               "Fällig am {date}."),
        "fr": ("À régler avant le {date}.", "Date limite de paiement : {date}", "Échéance le {date}."),
        "es": ("Fecha límite de pago: {date}.", "Pagar antes del {date}.", "Vence el {date}."),
        "it": ("Pagamento entro il {date}.", "Scadenza: {date}", "Da saldare entro il {date}."),
        "nl": ("Te betalen vóór {date}.", "Gelieve uiterlijk {date} te betalen.", "Vervalt op {date}."),
        "zh": ("请于{date}前付款。", "付款截止日期：{date}", "最迟付款日：{date}"),
    },
    "transfer": {
        "en": ("Please transfer {amount} to IBAN {iban}.", "Kindly remit {amount} to our account {iban}."),
        "de": ("Bitte überweisen Sie {amount} auf das Konto IBAN {iban}.", "Überweisung von {amount} an IBAN {iban}."),
        "fr": ("Merci de virer {amount} sur le compte IBAN {iban}.", "Virement de {amount} à l'IBAN {iban}."),
        "es": ("Rogamos transfieran {amount} a la cuenta IBAN {iban}.", "Ingreso de {amount} en IBAN {iban}."),
        "it": ("Si prega di bonificare {amount} su IBAN {iban}.", "Bonifico di {amount} su IBAN {iban}."),
        "nl": ("Gelieve {amount} over te maken naar IBAN {iban}.", "Betaling van {amount} op IBAN {iban}."),
        "zh": ("请将{amount}汇入账户 IBAN {iban}。",),
    },
    "total_sentence": {
        "en": ("Total due: {amount}", "The total amount due is {amount}.", "Amount due: {amount}"),
        "de": ("Gesamtbetrag: {amount}", "Der Rechnungsbetrag beträgt {amount}.", "Zu zahlender Betrag: {amount}"),
        "fr": ("Net à payer : {amount}", "Le montant total TTC s'élève à {amount}.", "Total TTC : {amount}"),
        "es": ("Importe total: {amount}", "El importe total de la factura asciende a {amount}."),
        "it": ("Totale documento: {amount}", "L'importo totale da pagare è di {amount}."),
        "nl": ("Totaal te betalen: {amount}", "Het totaalbedrag van deze factuur is {amount}."),
        "zh": ("价税合计：{amount}", "本发票应付总额为{amount}。"),
    },
    "net_sentence": {
        "en": ("Net amount {amount} plus VAT {rate} {tax}.", "Subtotal {amount}, VAT {rate}: {tax}."),
        "de": ("Nettobetrag {amount} zzgl. {rate} MwSt. {tax}.", "Netto {amount}, USt. {rate}: {tax}."),
        "fr": ("Montant HT {amount}, TVA {rate} : {tax}.", "Total HT {amount} + TVA {rate} {tax}."),
        "es": ("Base imponible {amount}, IVA {rate}: {tax}.", "Base {amount} más IVA {rate} {tax}."),
        "it": ("Imponibile {amount}, IVA {rate}: {tax}.", "Imponibile {amount} + IVA {rate} {tax}."),
        "nl": ("Subtotaal {amount}, BTW {rate}: {tax}.", "Bedrag excl. btw {amount}, btw {rate}: {tax}."),
        "zh": ("不含税金额{amount}，税率{rate}，税额{tax}。",),
    },
    "reverse_charge": {
        "en": ("Reverse charge: VAT to be accounted for by the recipient.",
               "VAT reverse charge, Art. 196 Directive 2006/112/EC"),
        "de": ("Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge).",
               "Innergemeinschaftliche Lieferung, steuerfrei nach § 4 Nr. 1b UStG."),
        "fr": ("Autoliquidation - article 283-2 du CGI.", "Exonération de TVA, article 262 ter I du CGI."),
        "es": ("Inversión del sujeto pasivo.", "Operación exenta, art. 25 Ley 37/1992 del IVA."),
        "it": ("Inversione contabile - art. 7-ter DPR 633/72.", "Operazione non imponibile art. 41 DL 331/93."),
        "nl": ("BTW verlegd.", "Btw verlegd naar afnemer, art. 12 Wet OB."),
        "zh": ("本项业务适用零税率。",),
    },
    "exempt": {
        "en": ("No VAT charged.", "Sales tax not applicable.", "Tax exempt."),
        "de": ("Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.", "Umsatzsteuerfrei (Kleinunternehmerregelung)."),
        "fr": ("TVA non applicable, art. 293 B du CGI.",), "es": ("Operación exenta de IVA.",),
        "it": ("Operazione in franchigia da IVA.",), "nl": ("Vrijgesteld van btw (KOR).",), "zh": ("免税项目。",),
    },
    "hero_due": {
        "en": ("{amount} due {date}", "{amount} due by {date}"),
        "de": ("{amount} fällig am {date}", "{amount} zahlbar bis {date}"),
        "fr": ("{amount} à payer avant le {date}", "{amount} dû le {date}"),
        "es": ("{amount} a pagar antes del {date}",),
        "it": ("{amount} da pagare entro il {date}",), "nl": ("{amount} te betalen vóór {date}",),
        "zh": ("{amount}，{date}前到期",),
    },
    "thanks": {
        "en": ("Thank you for your business!", "Thank you for your order.", "We appreciate your business."),
        "de": ("Vielen Dank für Ihren Auftrag!", "Wir danken für Ihr Vertrauen.", "Vielen Dank für Ihre Bestellung."),
        "fr": ("Merci de votre confiance.", "Nous vous remercions pour votre commande."),
        "es": ("Gracias por su confianza.", "Gracias por su pedido."),
        "it": ("Grazie per la fiducia accordataci.", "Grazie per il vostro ordine."),
        "nl": ("Bedankt voor uw opdracht!", "Hartelijk dank voor uw bestelling."),
        "zh": ("感谢您的惠顾！", "谢谢合作。"),
    },
    "intro": {
        "en": ("We hereby invoice you for the following:", "As agreed, we charge you for:", "Our services:"),
        "de": ("Wir erlauben uns, Ihnen folgende Leistungen in Rechnung zu stellen:",
               "Für unsere Leistungen berechnen wir Ihnen:", "Vereinbarungsgemäß berechnen wir:"),
        "fr": ("Nous vous prions de trouver ci-dessous le détail de notre facturation :",
               "Veuillez trouver ci-après notre facture :"),
        "es": ("Le facturamos los siguientes conceptos:", "Detalle de los servicios prestados:"),
        "it": ("Vi addebitiamo quanto segue:", "Con la presente vi fatturiamo:"),
        "nl": ("Hierbij brengen wij u het volgende in rekening:", "Voor onze werkzaamheden berekenen wij:"),
        "zh": ("现就以下项目向贵公司开具发票：", "明细如下："),
    },
    "salutation": {
        "en": ("Dear Sir or Madam,", "Dear customer,", "Hello,"),
        "de": ("Sehr geehrte Damen und Herren,", "Guten Tag,"),
        "fr": ("Madame, Monsieur,", "Bonjour,"), "es": ("Estimados señores:", "Estimado cliente:"),
        "it": ("Spettabile cliente,", "Gentili signori,"), "nl": ("Geachte heer/mevrouw,", "Beste klant,"),
        "zh": ("尊敬的客户：",),
    },
    "closing": {
        "en": ("Kind regards", "Yours faithfully", "Best regards"),
        "de": ("Mit freundlichen Grüßen", "Freundliche Grüße"),
        "fr": ("Cordialement,", "Salutations distinguées"), "es": ("Atentamente,", "Un saludo,"),
        "it": ("Cordiali saluti", "Distinti saluti"), "nl": ("Met vriendelijke groet,", "Hoogachtend,"),
        "zh": ("此致敬礼",),
    },
    "place_date": {
        "en": ("{city}, {date}", "{city}, {date}"), "de": ("{city}, den {date}", "{city}, {date}", "{city}, am {date}"),
        "fr": ("{city}, le {date}", "Fait à {city}, le {date}"), "es": ("{city}, a {date}", "En {city}, a {date}"),
        "it": ("{city}, lì {date}", "{city}, {date}"), "nl": ("{city}, {date}", "{city}, d.d. {date}"),
        "zh": ("{city}，{date}",),
    },
    "attention": {
        "en": ("Attn: {p}", "Attention: {p}", "c/o {p}"), "de": ("z. Hd. {p}", "Frau/Herr {p}", "Ansprechpartner: {p}"),
        "fr": ("À l'attention de {p}", "Att. {p}"), "es": ("A la atención de {p}", "Att.: {p}"),
        "it": ("Alla c.a. {p}", "C.a. {p}"), "nl": ("T.a.v. {p}", "Ter attentie van {p}"), "zh": ("联系人：{p}",),
    },
    "contact": {
        "en": ("Your contact: {p}", "Sales rep: {p}"), "de": ("Ihr Ansprechpartner: {p}", "Bearbeiter: {p}"),
        "fr": ("Votre contact : {p}", "Interlocuteur : {p}"), "es": ("Su contacto: {p}", "Comercial: {p}"),
        "it": ("Referente: {p}", "Vs. contatto: {p}"), "nl": ("Contactpersoon: {p}", "Behandeld door: {p}"),
        "zh": ("业务员：{p}", "联系人：{p}"),
    },
}  # fmt: skip

ITEMS: dict[str, tuple[str, ...]] = {
    "en": ("Consulting services", "Software licence (annual)", "Maintenance contract", "Installation labour",
           "Steel bracket", "Printer toner cartridge", "Office chair", "Website hosting", "Shipping and handling",
           "Training workshop", "Copy paper A4, 80 g", "Network switch 24-port", "Design work", "Cable set",
           "Support hours", "LED panel", "Cleaning service", "Project management"),
    "de": ("Beratungsleistung", "Softwarelizenz (jährlich)", "Wartungsvertrag", "Montagearbeiten", "Schrauben M6 x 40",
           "Tonerkartusche schwarz", "Bürostuhl", "Webhosting", "Versandkosten", "Schulung", "Kopierpapier A4",
           "Netzwerk-Switch 24 Port", "Grafikdesign", "Kabelsatz", "Supportstunden", "Fahrtkosten", "Gebäudereinigung",
           "Projektleitung", "Rohrleitung DN 50"),
    "fr": ("Prestation de conseil", "Licence logicielle annuelle", "Contrat de maintenance", "Main d'œuvre",
           "Équerre acier", "Cartouche de toner", "Fauteuil de bureau", "Hébergement web", "Frais de port",
           "Formation", "Ramette papier A4", "Commutateur réseau", "Travaux de graphisme", "Déplacement",
           "Heures de support", "Nettoyage des locaux"),
    "es": ("Servicios de consultoría", "Licencia de software anual", "Contrato de mantenimiento", "Mano de obra",
           "Soporte de acero", "Cartucho de tóner", "Silla de oficina", "Alojamiento web", "Gastos de envío",
           "Curso de formación", "Papel A4 80 g", "Switch de red", "Diseño gráfico", "Horas de soporte",
           "Servicio de limpieza"),
    "it": ("Consulenza tecnica", "Licenza software annuale", "Contratto di manutenzione", "Manodopera",
           "Staffa in acciaio", "Cartuccia toner", "Sedia da ufficio", "Hosting sito web", "Spese di trasporto",
           "Corso di formazione", "Carta A4 80 g", "Switch di rete", "Progettazione grafica", "Ore di assistenza",
           "Servizio di pulizia"),
    "nl": ("Advieswerkzaamheden", "Softwarelicentie (jaarlijks)", "Onderhoudscontract", "Arbeidsloon",
           "Stalen beugel", "Tonercartridge", "Bureaustoel", "Webhosting", "Verzendkosten", "Training",
           "Kopieerpapier A4", "Netwerkswitch", "Ontwerpwerk", "Supporturen", "Schoonmaakdienst"),
    "zh": ("*信息技术服务*软件开发服务", "*现代服务*咨询服务", "*计算机配套产品*打印机硒鼓", "*纸制品*复印纸",
           "*办公设备*办公椅", "*运输服务*国内运输费", "*电子元件*电容器", "*经纪代理服务*代理服务费",
           "*餐饮服务*餐费", "*鉴证咨询服务*技术咨询费", "*金属制品*不锈钢支架", "*软件*软件维护费"),
}  # fmt: skip
UNITS: dict[str, tuple[str, ...]] = {
    "en": ("pcs", "ea", "h", "hrs", "box", "month", "kg", "set"),
    "de": ("Stk.", "Std.", "St", "h", "Pauschal", "kg", "Mon."),
    "fr": ("pce", "u.", "h", "forfait", "kg", "mois"), "es": ("ud.", "uds.", "h", "kg", "mes"),
    "it": ("pz.", "nr", "h", "kg", "mese", "a corpo"), "nl": ("st.", "stuks", "uur", "kg", "mnd"),
    "zh": ("个", "台", "件", "次", "项", "套", "箱", "小时"),
}  # fmt: skip


def phrase(rng: Random, key: str, language: str) -> str:
    return rng.choice(PHRASES[key][language])


def item_text(rng: Random, language: str) -> str:
    """A line-item description, sometimes with a model code or a size so that no two look alike."""
    base = rng.choice(ITEMS[language])
    roll = rng.random()
    if language == "zh" or roll < 0.55:
        return base
    if roll < 0.8:
        letters = "ABCDEFGHKLMNPRSTVXZ"
        return f"{base} {rng.choice(letters)}{rng.choice(letters)}-{rng.randint(10, 990)}"
    return f"{base} ({rng.choice(('Typ', 'Model', 'ref.', 'mod.', 'v'))} {rng.randint(1, 12)})"
