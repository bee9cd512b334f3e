"""Labels of the parties (names, addresses, VAT and tax ids), the bank and payment references, and
the words that open a seller's or a buyer's block; merged into labels.FIELD_LABELS."""

from __future__ import annotations

# "number" in every label language ("Nr.", "No", "nº", "numéro" ...); labels.py uses it too
NO = r"(?:n[oº°r]?\.?|nr\.?|nummer|number|num\.?|#|numéro|numero|número|nº|n°)"

PARTY_FIELD_LABELS: dict[str, list[tuple[str, float]]] = {
    "vat_id": [
        (r"ust\.?\s*-?\s*id\.?\s*-?\s*nr\.?", 1.0),
        (r"ust\.?\s*-?\s*idnr\.?", 1.0),
        (r"ust\.?\s*-?\s*id", 1.0),
        (r"ust\.?\s*-?\s*ident\s*-?\s*nr\.?", 1.0),
        (r"umsatzsteuer\s*-?\s*id(?:entifikations)?(?:nummer|-?nr\.?)?", 1.0),
        (r"steuer\s*-?\s*id(?:\s*-?\s*nr\.?)?", 0.6),
        (r"vat\s*(?:reg(?:istration)?\.?\s*)?(?:no\.?|number|id|#)", 1.0),
        (r"vat-?id", 1.0),
        (r"vat", 0.4),
        (r"(?:n[º°o]\s*)?tva\s*intra(?:communautaire|com\.?)?", 1.0),
        (r"n[º°o]\s*(?:de\s*)?tva", 1.0),
        (r"numéro\s*de\s*tva", 1.0),
        (r"tva\s*client", 1.0),
        (r"(?:n[º°]\s*)?(?:nif|cif)(?:\s*/\s*nif)?", 0.9),
        (r"partita\s*iva", 1.0),
        (r"p\.?\s*iva", 1.0),
        (r"btw\s*-?\s*(?:nr\.?|nummer|id)", 1.0),
        (r"btw-?identificatienummer", 1.0),
        (r"gst\s*(?:reg\.?\s*)?(?:no|id)\.?", 0.9),
        (r"税号", 1.0),
        (r"纳税人识别号", 1.0),
    ],
    "tax_number": [
        (r"steuer\s*-?\s*(?:nummer|nr\.?)", 1.0),
        (r"st\.?\s*-?\s*nr\.?", 0.9),
        (r"tax\s*(?:number|no\.?)", 0.8),
        (r"siret", 0.9),
        (r"siren", 0.9),
        (r"codice\s*fiscale", 0.9),
        (r"kvk(?:\s*-?\s*nummer)?", 0.8),
    ],
    "iban_label": [(r"iban", 1.0)],
    "bic": [(r"bic(?:\s*/\s*swift)?", 1.0), (r"swift(?:\s*code)?", 1.0), (r"swift\s*/\s*bic", 1.0)],
    "po_number": [
        (rf"purchase\s*order(?:\s*{NO})?", 1.0),
        (rf"p\.?\s*o\.?\s*{NO}", 1.0),
        (rf"order\s*{NO}", 0.8),
        (r"your\s*order", 0.8),
        (r"order\s*ref(?:erence)?", 0.8),
        (r"bestell\s*-?\s*(?:nr\.?|nummer)", 1.0),
        (r"bestellung(?:\s*nr\.?)?", 0.8),
        (r"ihre\s*bestellung", 0.9),
        (r"auftrags?\s*-?\s*nr\.?", 0.6),
        (r"bon\s*de\s*commande", 1.0),
        (r"(?:n[º°o]\s*(?:de\s*)?)?commande", 0.8),
        (r"votre\s*référence", 0.7),
        (r"(?:n[º°o]\s*(?:de\s*)?)?pedido", 0.9),
        (r"(?:n\.?\s*)?ordine", 0.8),
        (r"bestelnummer", 1.0),
        (r"uw\s*referentie", 0.6),
        (r"订单号", 1.0),
    ],
    "payment_terms": [
        (r"payment\s*terms", 1.0),
        (r"terms(?:\s*of\s*payment)?", 0.6),
        (r"zahlungsbedingungen", 1.0),
        (r"zahlungsziel", 0.6),
        (r"conditions\s*de\s*(?:paiement|règlement)", 1.0),
        (r"condiciones\s*de\s*pago", 1.0),
        (r"forma\s*de\s*pago", 0.8),
        (r"(?:termini|condizioni)\s*di\s*pagamento", 1.0),
        (r"betalingsvoorwaarden", 1.0),
        (r"付款条件", 1.0),
    ],
    "payment_reference": [
        (r"payment\s*reference", 1.0),
        (r"verwendungszweck", 1.0),
        (r"zahlungsreferenz", 1.0),
        (r"référence\s*(?:de\s*)?paiement", 1.0),
        (r"referencia\s*(?:de\s*)?pago", 1.0),
        (r"causale", 0.8),
        (r"betalingskenmerk", 1.0),
        (r"betalingsreferentie", 1.0),
    ],
    "service_period": [
        (r"leistungszeitraum", 1.0),
        (r"abrechnungszeitraum", 1.0),
        (r"liefer\s*-?\s*(?:und\s*leistungs)?\s*-?\s*datum", 0.8),
        (r"leistungs\s*-?\s*datum", 0.8),
        (r"lieferdatum", 0.7),
        (r"service\s*period", 1.0),
        (r"billing\s*period", 1.0),
        (r"period", 0.6),
        (r"date\s*of\s*(?:delivery|supply|service)", 0.8),
        (r"delivery\s*date", 0.7),
        (r"période(?:\s*de\s*facturation)?", 0.9),
        (r"date\s*de\s*livraison", 0.7),
        (r"periodo(?:\s*de\s*facturaci[oó]n)?", 0.9),
        (r"periodo\s*di\s*fatturazione", 1.0),
        (r"(?:factuur)?periode", 0.9),
        (r"leverdatum", 0.7),
    ],
    "vendor_name": [
        (r"seller", 0.8),
        (r"vendor", 0.8),
        (r"supplier", 0.8),
        (r"verkäufer", 0.8),
        (r"lieferant", 0.8),
        (r"rechnungs?-?(?:er)?steller", 0.9),
        (r"fournisseur", 0.8),
        (r"vendeur", 0.8),
        (r"émetteur", 0.8),
        (r"proveedor", 0.8),
        (r"emisor", 0.8),
        (r"fornitore", 0.8),
        (r"cedente", 0.8),
        (r"leverancier", 0.8),
        (r"销售方", 1.0),
        (r"销方", 0.9),
    ],
    "customer_name": [
        (r"bill(?:ed)?\s*to", 0.9),
        (r"sold\s*to", 0.9),
        (r"customer", 0.6),
        (r"buyer", 0.8),
        (r"invoice\s*to", 0.9),
        (r"käufer", 0.8),
        (r"rechnungsempfänger", 0.9),
        (r"leistungsempfänger", 0.8),
        (r"kunde", 0.5),
        (r"acheteur", 0.8),
        (r"destinataire", 0.7),
        (r"facturé\s*à", 0.9),
        (r"client", 0.6),
        (r"cliente", 0.6),
        (r"comprador", 0.8),
        (r"cessionario", 0.8),
        (r"klant", 0.6),
        (r"afnemer", 0.8),
        (r"购买方", 1.0),
        (r"购方", 0.9),
    ],
    "address": [
        (r"address", 0.8),
        (r"anschrift", 0.9),
        (r"adresse", 0.8),
        (r"dirección", 0.8),
        (r"domicilio", 0.7),
        (r"indirizzo", 0.8),
        (r"adres", 0.8),
        (r"地址", 0.8),
    ],
    "name": [
        (r"name", 0.6),
        (r"firma", 0.6),
        (r"nom", 0.5),
        (r"nombre", 0.5),
        (r"nome", 0.5),
        (r"naam", 0.5),
        (r"名称", 0.8),
    ],
}

# Headings that open a party block; fields below them belong to that party.
SELLER_WORDS = (
    r"seller|vendor|supplier|from|verkäufer|lieferant|rechnungssteller|absender|fournisseur|vendeur|émetteur|"
    r"proveedor|emisor|fornitore|cedente|leverancier|销售方|销方"
)
BUYER_WORDS = (
    r"buyer|customer|bill(?:ed)?\s*to|sold\s*to|ship\s*to|invoice\s*to|käufer|kunde|kunden|rechnungsempfänger|"
    r"leistungsempfänger|warenempfänger|empfänger|client|acheteur|destinataire|facturé\s*à|cliente|comprador|"
    r"cessionario|klant|afnemer|购买方|购方"
)

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
