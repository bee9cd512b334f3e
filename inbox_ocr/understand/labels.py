"""The words invoices print next to their values, in English, German, French, Spanish, Italian,
Dutch and Chinese. Patterns are case-insensitive regexes; Latin ones are matched on word
boundaries. The weight says how sure a label alone makes us (a bare "Nr." is weak, "Rechnungsnummer"
strong). Where two labels overlap, the longer one wins, so "Total HT" is a subtotal, not a total.
"""

from __future__ import annotations

NO = r"(?:n[oº°r]?\.?|nr\.?|nummer|number|num\.?|#|numéro|numero|número|nº|n°)"

FIELD_LABELS: dict[str, list[tuple[str, float]]] = {
    "invoice_number": [
        (rf"invoice\s*{NO}", 1.0), (r"invoice\s*id", 0.9), (rf"inv\.?\s*{NO}", 0.9), (rf"bill\s*{NO}", 0.7),
        (rf"receipt\s*{NO}", 0.8), (rf"document\s*{NO}", 0.6), (rf"credit\s*note\s*{NO}", 1.0), (rf"doc\.?\s*{NO}", 0.5),
        (r"rechnungs?\s*-?\s*(?:nummer|nr\.?)", 1.0), (rf"rechnung\s*{NO}", 1.0), (r"beleg\s*-?\s*(?:nr\.?|nummer)", 0.8),
        (r"gutschrift(?:s)?\s*-?\s*(?:nr\.?|nummer)", 1.0), (r"rechnungs-?nr\.?", 1.0), (r"korrektur\s*-?\s*nr\.?", 0.8),
        (rf"{NO}\s*(?:de\s*)?(?:la\s*)?facture", 1.0), (rf"facture\s*{NO}", 1.0), (rf"avoir\s*{NO}", 1.0),
        (r"numéro\s*d[eu]\s*(?:la\s*)?facture", 1.0), (r"réf(?:érence)?\.?\s*facture", 0.8),
        (rf"{NO}\s*(?:de\s*)?factura", 1.0), (rf"factura\s*{NO}", 1.0), (r"nº\s*factura", 1.0),
        (rf"{NO}\s*(?:di\s*)?fattura", 1.0), (rf"fattura\s*{NO}", 1.0), (r"numero\s*documento", 0.7),
        (rf"factuur\s*-?\s*{NO}", 1.0), (r"factuurnummer", 1.0), (r"factuurnr\.?", 1.0),
        (r"发票号码", 1.0), (r"发票号", 0.9), (r"票据号码", 0.8), (r"单据号", 0.7),
        (r"bill\s*#", 0.7), (r"cash\s*bill\s*#?", 0.5), (r"invoice(?=\s*[:#]?\s*[A-Z0-9-]*\d)", 0.55),
        (r"rechnung(?=\s*[:#]?\s*[A-Z0-9-]*\d)", 0.5), (r"facture(?=\s*[:#]?\s*[A-Z0-9-]*\d)", 0.5),
        (r"avoir(?=\s*[:#]?\s*[A-Z0-9-]*\d)", 0.5), (r"factura(?=\s*[:#]?\s*[A-Z0-9-]*\d)", 0.5),
        (r"fattura(?=\s*[:#]?\s*[A-Z0-9-]*\d)", 0.5), (r"factuur(?=\s*[:#]?\s*[A-Z0-9-]*\d)", 0.5),
        (r"nr\.?(?=\s*[A-Z0-9-]*\d)", 0.35), (r"no\.?(?=\s*[A-Z0-9-]*\d)", 0.3),
    ],
    "invoice_date": [
        (r"invoice\s*date", 1.0), (r"date\s*of\s*(?:invoice|issue)", 1.0), (r"issue\s*date", 0.9), (r"date\s*issued", 0.9),
        (r"billing\s*date", 0.8), (r"date", 0.5), (r"dated", 0.5), (r"issued\s*(?:at|on)", 0.7),
        (r"rechnungs?\s*-?\s*datum", 1.0), (r"beleg\s*-?\s*datum", 0.9), (r"ausstellungsdatum", 0.9), (r"datum", 0.5),
        (r"vom", 0.4), (r"von", 0.25),
        (r"date\s*(?:de\s*)?(?:la\s*)?factur(?:e|ation)", 1.0), (r"date\s*d['’]émission", 0.9), (r"émise?\s*le", 0.7), (r"le", 0.15),
        (r"fecha\s*(?:de\s*)?(?:la\s*)?factura", 1.0), (r"fecha\s*(?:de\s*)?(?:emisi[oó]n|expedici[oó]n)", 0.9), (r"fecha", 0.5),
        (r"data\s*(?:della\s*)?fattura", 1.0), (r"data\s*(?:di\s*)?emissione", 0.9), (r"data\s*documento", 0.8), (r"data", 0.45), (r"del", 0.2),
        (r"factuurdatum", 1.0), (r"factuur\s*datum", 1.0),
        (r"开票日期", 1.0), (r"发票日期", 1.0), (r"日期", 0.5),
    ],
    "due_date": [
        (r"due\s*date", 1.0), (r"payment\s*due(?:\s*date)?", 1.0), (r"due\s*(?:by|on)", 0.9), (r"pay(?:able)?\s*by", 0.8),
        (r"please\s*(?:remit|pay)\s*(?:until|by)", 0.8),
        (r"fällig(?:keit|keitsdatum)?(?:\s*am)?", 1.0), (r"zahlbar\s*bis(?:\s*zum)?", 0.9), (r"zahlungsziel", 0.7),
        (r"überweisen\s*sie\s*bis(?:\s*zum)?", 0.8), (r"bis\s*zum", 0.3),
        (r"(?:date\s*d['’])?échéance", 1.0), (r"à\s*payer\s*(?:avant|au\s*plus\s*tard)\s*le", 0.9), (r"payable\s*(?:avant\s*)?le", 0.8),
        (r"(?:fecha\s*de\s*)?vencimiento", 1.0), (r"(?:data\s*(?:di\s*)?)?scadenza", 1.0),
        (r"vervaldatum", 1.0), (r"uiterste\s*betaaldatum", 1.0), (r"te\s*betalen\s*voor", 0.9),
        (r"到期日", 1.0), (r"付款期限", 0.9),
    ],
    "total": [
        (r"grand\s*total", 1.0), (r"total\s*(?:amount\s*)?(?:due|payable)", 1.0), (r"amount\s*(?:due|payable)", 0.95),
        (r"balance\s*due", 0.9), (r"invoice\s*total", 1.0), (r"total\s*amount", 0.95), (r"total\s*to\s*pay", 1.0),
        (r"total\s*(?:incl|including|inc|inclusive)\.?,?\s*(?:of\s*)?(?:vat|tax|gst|mwst|ust)?", 1.0), (r"rounded\s*total", 1.0), (r"total\s*rounded", 1.0), (r"total\s*amt\.?", 0.85), (r"total\s*payable", 1.0), (r"total", 0.7), (r"t[o0a]t[a4][l1i]", 0.6),  # the second: OCR's "Tatal", "Totai"
        (r"net\s*total\s*(?:payable|due)", 0.9), (r"due\s*payable", 0.9),
        (r"gesamtbetrag", 0.95), (r"gesamtsumme", 0.9), (r"rechnungsbetrag", 1.0), (r"bruttobetrag", 0.95), (r"bruttosumme", 1.0),
        (r"endbetrag", 1.0), (r"rechnungsbeitrag", 0.9), (r"zahlbetrag", 0.95), (r"zu\s*zahlen(?:der\s*betrag)?", 0.9), (r"summe\s*brutto", 1.0),
        (r"gesamt(?:\s*brutto)?", 0.6), (r"rechnungssumme", 0.9), (r"summe", 0.5), (r"gesamtpreis", 0.6),
        (r"total\s*ttc", 1.0), (r"montant\s*ttc", 1.0), (r"net\s*à\s*payer", 1.0), (r"montant\s*total", 0.9),
        (r"total\s*à\s*payer", 1.0), (r"montant\s*dû", 0.9), (r"total\s*facture", 0.9),
        (r"importe\s*total", 1.0), (r"total\s*(?:factura|a\s*pagar)", 1.0), (r"total\s*con\s*iva", 1.0), (r"total\s*importe", 0.9),
        (r"totale(?:\s*(?:fattura|documento|da\s*pagare|ivato|complessivo))?", 0.9), (r"importo\s*totale", 1.0), (r"netto\s*a\s*pagare", 1.0),
        (r"totaal(?:bedrag)?", 0.85), (r"totaal\s*incl\.?\s*btw", 1.0), (r"te\s*betalen", 0.9),
        (r"价税合计", 1.0), (r"合计金额", 0.8), (r"总计", 0.8), (r"应付金额", 0.9), (r"总金额", 0.8),
    ],
    "rounding": [(r"rounding(?:\s*adj(?:ustment|\.)?)?", 1.0), (r"rundung(?:sdifferenz)?", 1.0), (r"arrondi", 1.0), (r"redondeo", 1.0), (r"arrotondamento", 1.0), (r"afronding", 1.0)],
    "subtotal": [
        (r"sub\s*-?\s*total", 1.0), (r"net\s*(?:amount|total|amout)", 1.0), (r"amount\s*before\s*tax", 1.0),
        (r"total\s*(?:excl\.?|excluding|before|ex\.?|w/o|without)\s*(?:vat|tax|gst)?", 1.0), (r"total\s*net", 1.0),
        (r"taxable\s*amount", 0.9), (r"net", 0.3),
        (r"nettobetrag", 1.0), (r"netto\s*-?\s*(?:summe|betrag|wert)", 1.0), (r"summe\s*netto", 1.0), (r"gesamt\s*netto", 1.0),
        (r"zwischensumme", 0.9), (r"rechnungssumme\s*ohne\s*(?:ust|mwst)\.?", 1.0), (r"(?:gesamt)?summe\s*ohne\s*(?:ust|mwst)\.?", 1.0),
        (r"gesamtbetrag\s*netto", 1.0), (r"netto", 0.6), (r"warenwert", 0.5), (r"positionssumme", 0.5), (r"basisbetrag", 0.5),
        (r"steuerbasis", 0.6),
        (r"total\s*ht", 1.0), (r"montant\s*ht", 1.0), (r"sous\s*-?\s*total", 1.0), (r"total\s*hors\s*taxes?", 1.0), (r"base\s*ht", 0.8),
        (r"base\s*imponible", 1.0), (r"subtotal", 1.0), (r"total\s*sin\s*iva", 1.0), (r"importe\s*neto", 1.0),
        (r"imponibile", 1.0), (r"totale\s*imponibile", 1.0), (r"subtotale", 1.0), (r"totale\s*netto", 1.0),
        (r"subtotaal", 1.0), (r"totaal\s*excl\.?\s*btw", 1.0), (r"netto\s*bedrag", 1.0),
        (r"不含税金额", 1.0), (r"金额合计", 0.8),
    ],
    "tax": [
        (r"(?:total\s*)?(?:vat|tax|gst|sst)(?:\s*amount|\s*total)?", 0.8), (r"sales\s*tax", 0.9), (r"total\s*tax(?:es)?", 1.0),
        (r"plus\s*vat", 0.3),
        (r"(?:umsatz)?steuerbetrag", 1.0), (r"mwst\.?\s*-?\s*betrag", 1.0), (r"ust\.?\s*-?\s*betrag", 1.0), (r"mwst\.?", 0.7),
        (r"ust\.?(?:\s*gesamt)?", 0.7), (r"mehrwertsteuer", 0.8), (r"versicherungs?steuer", 0.8), (r"umsatzsteuer", 0.7), (r"steuer", 0.4), (r"summe\s*(?:mwst|ust)", 1.0),
        (r"(?:montant\s*)?tva", 0.8), (r"total\s*tva", 1.0), (r"total\s*taxes", 1.0),
        (r"(?:cuota\s*)?iva", 0.8), (r"importe\s*iva", 1.0), (r"total\s*iva", 1.0),
        (r"(?:importo\s*)?iva", 0.8), (r"totale\s*iva", 1.0), (r"imposta", 0.8),
        (r"btw(?:\s*bedrag)?", 0.8), (r"totaal\s*btw", 1.0),
        (r"税额", 1.0), (r"合计税额", 1.0),
    ],
    "tax_rate_label": [
        (r"steuersatz", 1.0), (r"mwst\.?\s*-?\s*%", 1.0), (r"ust\.?\s*satz", 1.0), (r"tax\s*rate", 1.0), (r"vat\s*rate", 1.0),
        (r"taux(?:\s*tva)?", 1.0), (r"tipo\s*iva", 1.0), (r"aliquota", 1.0), (r"btw\s*-?\s*tarief", 1.0), (r"税率", 1.0),
    ],
    "vat_id": [
        (r"ust\.?\s*-?\s*id\.?\s*-?\s*nr\.?", 1.0), (r"ust\.?\s*-?\s*idnr\.?", 1.0), (r"ust\.?\s*-?\s*id", 1.0), (r"ust\.?\s*-?\s*ident\s*-?\s*nr\.?", 1.0),
        (r"umsatzsteuer\s*-?\s*id(?:entifikations)?(?:nummer|-?nr\.?)?", 1.0), (r"steuer\s*-?\s*id(?:\s*-?\s*nr\.?)?", 0.6),
        (r"vat\s*(?:reg(?:istration)?\.?\s*)?(?:no\.?|number|id|#)", 1.0), (r"vat-?id", 1.0), (r"vat", 0.4),
        (r"(?:n[º°o]\s*)?tva\s*intra(?:communautaire|com\.?)?", 1.0), (r"n[º°o]\s*(?:de\s*)?tva", 1.0), (r"numéro\s*de\s*tva", 1.0),
        (r"tva\s*client", 1.0), (r"(?:n[º°]\s*)?(?:nif|cif)(?:\s*/\s*nif)?", 0.9), (r"partita\s*iva", 1.0), (r"p\.?\s*iva", 1.0),
        (r"btw\s*-?\s*(?:nr\.?|nummer|id)", 1.0), (r"btw-?identificatienummer", 1.0), (r"gst\s*(?:reg\.?\s*)?(?:no|id)\.?", 0.9),
        (r"税号", 1.0), (r"纳税人识别号", 1.0),
    ],
    "tax_number": [
        (r"steuer\s*-?\s*(?:nummer|nr\.?)", 1.0), (r"st\.?\s*-?\s*nr\.?", 0.9), (r"tax\s*(?:number|no\.?)", 0.8),
        (r"siret", 0.9), (r"siren", 0.9), (r"codice\s*fiscale", 0.9), (r"kvk(?:\s*-?\s*nummer)?", 0.8),
    ],
    "iban_label": [(r"iban", 1.0)],
    "bic": [(r"bic(?:\s*/\s*swift)?", 1.0), (r"swift(?:\s*code)?", 1.0), (r"swift\s*/\s*bic", 1.0)],
    "po_number": [
        (rf"purchase\s*order(?:\s*{NO})?", 1.0), (rf"p\.?\s*o\.?\s*{NO}", 1.0), (rf"order\s*{NO}", 0.8), (r"your\s*order", 0.8),
        (r"order\s*ref(?:erence)?", 0.8), (r"bestell\s*-?\s*(?:nr\.?|nummer)", 1.0), (r"bestellung(?:\s*nr\.?)?", 0.8),
        (r"ihre\s*bestellung", 0.9), (r"auftrags?\s*-?\s*nr\.?", 0.6),
        (r"bon\s*de\s*commande", 1.0), (r"(?:n[º°o]\s*(?:de\s*)?)?commande", 0.8), (r"votre\s*référence", 0.7),
        (r"(?:n[º°o]\s*(?:de\s*)?)?pedido", 0.9), (r"(?:n\.?\s*)?ordine", 0.8), (r"bestelnummer", 1.0), (r"uw\s*referentie", 0.6),
        (r"订单号", 1.0),
    ],
    "payment_terms": [
        (r"payment\s*terms", 1.0), (r"terms(?:\s*of\s*payment)?", 0.6), (r"zahlungsbedingungen", 1.0), (r"zahlungsziel", 0.6),
        (r"conditions\s*de\s*(?:paiement|règlement)", 1.0), (r"condiciones\s*de\s*pago", 1.0), (r"forma\s*de\s*pago", 0.8),
        (r"(?:termini|condizioni)\s*di\s*pagamento", 1.0), (r"betalingsvoorwaarden", 1.0), (r"付款条件", 1.0),
    ],
    "payment_reference": [
        (r"payment\s*reference", 1.0), (r"verwendungszweck", 1.0), (r"zahlungsreferenz", 1.0),
        (r"référence\s*(?:de\s*)?paiement", 1.0), (r"referencia\s*(?:de\s*)?pago", 1.0), (r"causale", 0.8),
        (r"betalingskenmerk", 1.0), (r"betalingsreferentie", 1.0),
    ],
    "service_period": [
        (r"leistungszeitraum", 1.0), (r"abrechnungszeitraum", 1.0), (r"liefer\s*-?\s*(?:und\s*leistungs)?\s*-?\s*datum", 0.8),
        (r"leistungs\s*-?\s*datum", 0.8), (r"lieferdatum", 0.7), (r"service\s*period", 1.0), (r"billing\s*period", 1.0),
        (r"period", 0.6), (r"date\s*of\s*(?:delivery|supply|service)", 0.8), (r"delivery\s*date", 0.7),
        (r"période(?:\s*de\s*facturation)?", 0.9), (r"date\s*de\s*livraison", 0.7), (r"periodo(?:\s*de\s*facturaci[oó]n)?", 0.9),
        (r"periodo\s*di\s*fatturazione", 1.0), (r"(?:factuur)?periode", 0.9), (r"leverdatum", 0.7),
    ],
    "vendor_name": [
        (r"seller", 0.8), (r"vendor", 0.8), (r"supplier", 0.8), (r"verkäufer", 0.8), (r"lieferant", 0.8),
        (r"rechnungs?-?(?:er)?steller", 0.9), (r"fournisseur", 0.8), (r"vendeur", 0.8), (r"émetteur", 0.8), (r"proveedor", 0.8),
        (r"emisor", 0.8), (r"fornitore", 0.8), (r"cedente", 0.8), (r"leverancier", 0.8), (r"销售方", 1.0), (r"销方", 0.9),
    ],
    "customer_name": [
        (r"bill(?:ed)?\s*to", 0.9), (r"sold\s*to", 0.9), (r"customer", 0.6), (r"buyer", 0.8), (r"invoice\s*to", 0.9),
        (r"käufer", 0.8), (r"rechnungsempfänger", 0.9), (r"leistungsempfänger", 0.8), (r"kunde", 0.5),
        (r"acheteur", 0.8), (r"destinataire", 0.7), (r"facturé\s*à", 0.9), (r"client", 0.6),
        (r"cliente", 0.6), (r"comprador", 0.8), (r"cessionario", 0.8), (r"klant", 0.6), (r"afnemer", 0.8),
        (r"购买方", 1.0), (r"购方", 0.9),
    ],
    "name": [(r"name", 0.6), (r"firma", 0.6), (r"nom", 0.5), (r"nombre", 0.5), (r"nome", 0.5), (r"naam", 0.5), (r"名称", 0.8)],
}

# Headings that open a party block; fields below them belong to that party.
SELLER_WORDS = r"seller|vendor|supplier|from|verkäufer|lieferant|rechnungssteller|absender|fournisseur|vendeur|émetteur|proveedor|emisor|fornitore|cedente|leverancier|销售方|销方"
BUYER_WORDS = r"buyer|customer|bill(?:ed)?\s*to|sold\s*to|ship\s*to|invoice\s*to|käufer|kunde|kunden|rechnungsempfänger|leistungsempfänger|warenempfänger|empfänger|client|acheteur|destinataire|facturé\s*à|cliente|comprador|cessionario|klant|afnemer|购买方|购方"

# Legal forms that mark a company name.
LEGAL_FORMS = (
    r"gmbh|ag|kg|ohg|ug|e\.\s?k\.|a\.\s?g\.|gbr|mbh|ltd|limited|llc|l\.l\.c\.|inc|corp|corporation|plc|llp|co\.|company|"
    r"sarl|s\.a\.r\.l\.|sas|s\.a\.s\.|s\.a\.|eurl|sasu|s\.l\.|s\.l\.u\.|s\.r\.l\.|srl|s\.p\.a\.|spa|s\.n\.c\.|"
    r"b\.v\.|bv|n\.v\.|nv|vof|sdn\.?\s?bhd\.?|bhd|s/b|有限公司|公司"
)
# Words that mark a business name without ending it ("RESTAURANT SIN DU", "SAM SAM TRADING CO").
COMPANY_WORDS = (
    r"enterprises?|trading|store|stores|restaurant|restoran|mart|market|supermarket|minimarket|café|cafe|bakery|"
    r"pharmacy|hotel|shop|boutique|hardware|stationery|services?|industries|holdings?|group"
)
