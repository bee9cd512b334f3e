"""Label vocabulary of synthetic invoices: several ways each language names each field.

LABELS[field][language] is a tuple of variants; `{rate}` stands for a formatted tax rate, `{n}` for a
document number, `{i}`/`{k}` for page numbers. Fields named after truth keys label the truth value;
the others label distractors (order, delivery note, customer, contract numbers, other dates ...).
"""

from __future__ import annotations

from random import Random

Vocabulary = dict[str, dict[str, tuple[str, ...]]]

LABELS: Vocabulary = {
    "invoice_number": {
        "en": ("Invoice No.", "Invoice #", "Invoice Number", "Inv. No", "Invoice no:", "Invoice ID", "Document No."),
        "de": ("Rechnungsnummer", "Rechnungs-Nr.", "Rg.-Nr.", "Beleg-Nr.", "Rechnung Nr.", "Re.-Nr.", "Belegnummer"),
        "fr": ("N° de facture", "Facture n°", "nº", "Numéro de facture", "N° facture", "Réf. facture"),
        "es": ("Nº factura", "Número de factura", "Factura nº", "N.º de factura", "Nº de documento", "Factura núm."),
        "it": ("Fattura n.", "Numero fattura", "N. fattura", "Nr. documento", "Fattura nr.", "Numero documento"),
        "nl": ("Factuurnummer", "Factuur nr.", "Factuurnr.", "Factuur nummer", "Documentnummer"),
        "zh": ("发票号码", "发票编号", "单据编号", "发票号", "票据号码"),
    },
    "invoice_date": {
        "en": ("Invoice Date", "Date", "Date of issue", "Invoice date:", "Issue date", "Dated"),
        "de": ("Rechnungsdatum", "Datum", "Belegdatum", "Rg.-Datum", "Ausstellungsdatum", "Rechnungsdatum:"),
        "fr": ("Date de facture", "Date", "Date d'émission", "Date de facturation", "Le"),
        "es": ("Fecha factura", "Fecha", "Fecha de emisión", "Fecha de expedición", "Fecha de la factura"),
        "it": ("Data fattura", "Data", "Data documento", "Data emissione", "Del"),
        "nl": ("Factuurdatum", "Datum", "Factuur datum", "Datum factuur"),
        "zh": ("开票日期", "发票日期", "日期", "开具日期"),
    },
    "due_date": {
        "en": ("Due Date", "Payment due", "Due", "Pay by", "Payment Due Date", "Due by"),
        "de": ("Fällig am", "Fälligkeitsdatum", "Zahlbar bis", "Fälligkeit", "Zahlungsziel"),
        "fr": ("Date d'échéance", "Échéance", "À payer avant le", "Date limite de paiement"),
        "es": ("Fecha de vencimiento", "Vencimiento", "Pagar antes de", "Fecha vto."),
        "it": ("Scadenza", "Data scadenza", "Scadenza pagamento", "Da pagare entro il"),
        "nl": ("Vervaldatum", "Te betalen voor", "Uiterste betaaldatum", "Vervaldag"),
        "zh": ("到期日", "付款截止日期", "付款期限", "最迟付款日"),
    },
    "delivery_date": {
        "en": ("Delivery Date", "Date of supply", "Shipped", "Ship Date", "Tax point"),
        "de": ("Lieferdatum", "Leistungsdatum", "Liefertag", "Versanddatum", "Leistungserbringung am"),
        "fr": ("Date de livraison", "Livré le", "Date d'expédition", "Date de prestation"),
        "es": ("Fecha de entrega", "Fecha de envío", "Fecha de servicio", "Entregado el"),
        "it": ("Data consegna", "Data spedizione", "Data DDT", "Consegnato il"),
        "nl": ("Leverdatum", "Afleverdatum", "Datum levering", "Verzenddatum"),
        "zh": ("交货日期", "送货日期", "发货日期"),
    },
    "order_date": {
        "en": ("Order Date", "PO Date", "Ordered", "Date of order"),
        "de": ("Bestelldatum", "Auftragsdatum", "Bestellt am", "Datum Ihrer Bestellung"),
        "fr": ("Date de commande", "Commande du", "Commandé le"),
        "es": ("Fecha de pedido", "Pedido del", "Fecha pedido"),
        "it": ("Data ordine", "Ordine del", "Data ordinazione"),
        "nl": ("Besteldatum", "Orderdatum", "Datum bestelling"),
        "zh": ("订单日期", "下单日期", "订货日期"),
    },
    "service_period": {
        "en": ("Service period", "Billing period", "Period"),
        "de": ("Leistungszeitraum", "Abrechnungszeitraum", "Zeitraum"),
        "fr": ("Période", "Période de facturation", "Prestation du"),
        "es": ("Periodo", "Periodo de facturación", "Periodo de servicio"),
        "it": ("Periodo", "Periodo di fatturazione", "Competenza"),
        "nl": ("Periode", "Factuurperiode", "Leveringsperiode"),
        "zh": ("服务期间", "结算期间", "账期"),
    },
    "total": {
        "en": ("Total", "Grand Total", "Amount Due", "Total (incl. VAT)", "Invoice Total", "TOTAL", "Total amount",
               "Total due"),
        "de": ("Gesamtbetrag", "Rechnungsbetrag", "Gesamtsumme", "Endbetrag", "Bruttobetrag", "Summe brutto",
               "Rechnungsbetrag brutto", "Zu zahlender Betrag"),
        "fr": ("Total TTC", "Net à payer", "Montant TTC", "Total à payer", "TOTAL TTC", "Montant total"),
        "es": ("Importe total", "Total factura", "TOTAL", "Total a pagar", "Total (IVA incl.)", "Importe a pagar"),
        "it": ("Totale documento", "Totale fattura", "Totale da pagare", "TOTALE", "Importo totale", "Netto a pagare"),
        "nl": ("Totaal te betalen", "Totaal", "Totaalbedrag", "Totaal incl. BTW", "Te betalen", "TOTAAL"),
        "zh": ("价税合计", "总计", "应付金额", "合计金额", "含税总额"),
    },
    "amount_due": {
        "en": ("Balance Due", "Amount payable", "Remaining balance", "Balance"),
        "de": ("Zahlbetrag", "Noch zu zahlen", "Restbetrag", "Offener Betrag"),
        "fr": ("Reste à payer", "Solde à régler", "Solde dû"),
        "es": ("Pendiente de pago", "Saldo pendiente", "Resto a pagar"),
        "it": ("Saldo da pagare", "Residuo da pagare", "Saldo"),
        "nl": ("Openstaand bedrag", "Nog te betalen", "Restant"),
        "zh": ("尚欠金额", "应付余额", "待付金额"),
    },
    "subtotal": {
        "en": ("Subtotal", "Net", "Net amount", "Total excl. VAT", "Sub-total", "Net total"),
        "de": ("Nettobetrag", "Zwischensumme", "Summe netto", "Netto", "Warenwert netto", "Gesamt netto"),
        "fr": ("Total HT", "Montant HT", "Sous-total", "Base HT", "Total hors taxes"),
        "es": ("Base imponible", "Subtotal", "Importe neto", "Base"),
        "it": ("Imponibile", "Totale imponibile", "Subtotale", "Totale netto"),
        "nl": ("Subtotaal", "Totaal excl. BTW", "Netto bedrag", "Bedrag excl. btw"),
        "zh": ("金额合计", "不含税金额", "小计", "合计金额（不含税）"),
    },
    "items_total": {
        "en": ("Items total", "Total of items", "Gross amount"),
        "de": ("Summe Positionen", "Warenwert", "Positionssumme"),
        "fr": ("Total articles", "Montant brut HT"),
        "es": ("Suma", "Importe bruto"),
        "it": ("Totale merce", "Totale righe"),
        "nl": ("Totaal artikelen", "Brutobedrag"),
        "zh": ("货款合计", "商品金额"),
    },
    "discount": {
        "en": ("Discount {rate}", "Less discount {rate}", "Rebate {rate}"),
        "de": ("Rabatt {rate}", "abzgl. {rate} Rabatt", "Nachlass {rate}", "Skonto {rate}"),
        "fr": ("Remise {rate}", "Escompte {rate}", "Rabais {rate}"),
        "es": ("Descuento {rate}", "Dto. {rate}"),
        "it": ("Sconto {rate}", "Sconto incondizionato {rate}"),
        "nl": ("Korting {rate}", "Kortingsbedrag {rate}"),
        "zh": ("折扣 {rate}", "优惠 {rate}"),
    },
    "tax": {
        "en": ("VAT {rate}", "VAT @ {rate}", "Tax {rate}", "Sales Tax {rate}", "VAT ({rate})"),
        "de": ("MwSt. {rate}", "USt. {rate}", "zzgl. {rate} MwSt.", "Umsatzsteuer {rate}", "{rate} MwSt.",
               "Mehrwertsteuer {rate}"),
        "fr": ("TVA {rate}", "TVA à {rate}", "Montant TVA {rate}", "T.V.A. {rate}"),
        "es": ("IVA {rate}", "Cuota IVA {rate}", "I.V.A. {rate}", "IVA ({rate})"),
        "it": ("IVA {rate}", "Imposta {rate}", "IVA al {rate}", "Totale IVA {rate}"),
        "nl": ("BTW {rate}", "btw {rate}", "BTW-bedrag {rate}", "Omzetbelasting {rate}"),
        "zh": ("税额 {rate}", "增值税 {rate}", "税金 {rate}"),
    },
    "tax_total": {
        "en": ("Total VAT", "VAT total", "Total tax"),
        "de": ("Summe MwSt.", "USt. gesamt", "MwSt. gesamt"),
        "fr": ("Total TVA", "Montant TVA"),
        "es": ("Total IVA", "Cuota total IVA"),
        "it": ("Totale IVA", "Totale imposta"),
        "nl": ("Totaal BTW", "BTW totaal"),
        "zh": ("税额合计", "合计税额"),
    },
    "vat_id": {
        "en": ("VAT No.", "VAT Reg. No.", "VAT ID", "VAT number", "VAT Registration No."),
        "de": ("USt-IdNr.", "USt-ID", "UID-Nr.", "Umsatzsteuer-ID", "USt.-Id.-Nr.", "MwSt-Nr."),
        "fr": ("N° TVA intracommunautaire", "TVA intracom.", "N° TVA", "Numéro de TVA", "Identifiant TVA"),
        "es": ("NIF/CIF", "CIF", "NIF", "NIF-IVA", "N.I.F."),
        "it": ("P.IVA", "Partita IVA", "P. IVA", "Part. IVA", "VAT"),
        "nl": ("BTW-nummer", "BTW nr.", "Btw-id", "BTW-nr", "Btw-identificatienummer"),
        "zh": ("纳税人识别号", "统一社会信用代码", "税号", "纳税识别号"),
    },
    "customer_vat_id": {
        "en": ("Customer VAT No.", "Your VAT No.", "Buyer VAT ID", "Customer VAT ID"),
        "de": ("Ihre USt-IdNr.", "USt-IdNr. Kunde", "Kunden-USt-ID", "USt-IdNr. Leistungsempfänger"),
        "fr": ("N° TVA client", "Votre N° TVA", "TVA intracom. client"),
        "es": ("NIF cliente", "CIF cliente", "NIF del destinatario"),
        "it": ("P.IVA cliente", "Partita IVA cliente", "P.IVA committente"),
        "nl": ("BTW-nummer klant", "Uw BTW-nummer", "Btw-nr. afnemer"),
        "zh": ("购买方纳税人识别号", "客户税号", "购方税号"),
    },
    "iban": {
        "en": ("IBAN", "IBAN:", "Account (IBAN)"), "de": ("IBAN", "IBAN:", "Konto (IBAN)"),
        "fr": ("IBAN", "IBAN :", "RIB / IBAN"), "es": ("IBAN", "IBAN:", "Cuenta IBAN"),
        "it": ("IBAN", "IBAN:", "Coordinate IBAN"), "nl": ("IBAN", "IBAN:", "Rekening (IBAN)"),
        "zh": ("IBAN", "国际银行账号"),
    },
    "bic": {
        "en": ("BIC", "SWIFT", "BIC/SWIFT"), "de": ("BIC", "BIC:", "SWIFT-BIC"), "fr": ("BIC", "Code BIC", "SWIFT"),
        "es": ("BIC", "SWIFT", "BIC/SWIFT"), "it": ("BIC", "SWIFT", "BIC/SWIFT"), "nl": ("BIC", "BIC:", "SWIFT"),
        "zh": ("SWIFT", "BIC"),
    },
    "bank": {
        "en": ("Bank", "Bank name"), "de": ("Bank", "Bankverbindung", "Kreditinstitut"),
        "fr": ("Banque", "Domiciliation"), "es": ("Banco", "Entidad"), "it": ("Banca", "Banca d'appoggio"),
        "nl": ("Bank", "Bankrelatie"), "zh": ("开户行", "开户银行"),
    },
    "po_number": {
        "en": ("PO Number", "Purchase Order", "Your Order No.", "P.O. #", "Customer PO", "Your ref."),
        "de": ("Ihre Bestellung", "Bestell-Nr.", "Ihre Bestellnummer", "Bestellnummer", "Ihr Zeichen"),
        "fr": ("Bon de commande", "Votre commande", "N° de commande client", "Réf. commande"),
        "es": ("Su pedido", "Nº pedido cliente", "Pedido", "Orden de compra"),
        "it": ("Vs. ordine", "Ordine cliente n.", "Rif. ordine", "Vostro ordine"),
        "nl": ("Uw ordernummer", "Inkoopordernummer", "Uw referentie", "PO-nummer"),
        "zh": ("采购订单号", "客户订单号", "PO号", "采购单号"),
    },
    "order_number": {
        "en": ("Sales Order", "Our Order No.", "Order Ref.", "SO Number"),
        "de": ("Auftragsnummer", "Auftrags-Nr.", "Unsere Auftrags-Nr.", "Auftragsbestätigung"),
        "fr": ("N° de commande interne", "Notre réf.", "N° d'ordre"),
        "es": ("Nº pedido", "Nuestra ref.", "Nº de orden"),
        "it": ("Ns. ordine", "Conferma d'ordine", "Nostro rif."),
        "nl": ("Ordernummer", "Onze referentie", "Orderbevestiging"),
        "zh": ("销售订单号", "订单编号", "订单号"),
    },
    "customer_number": {
        "en": ("Customer No.", "Account No.", "Customer ID", "Client ID"),
        "de": ("Kundennummer", "Kunden-Nr.", "Kd.-Nr.", "Debitor"),
        "fr": ("N° client", "Code client", "Réf. client"),
        "es": ("Nº cliente", "Código cliente", "Cliente"),
        "it": ("Cod. cliente", "Codice cliente", "Cliente n."),
        "nl": ("Klantnummer", "Debiteurnummer", "Klantnr."),
        "zh": ("客户编号", "客户代码", "客户号"),
    },
    "delivery_note": {
        "en": ("Delivery Note", "Packing Slip", "Shipment No.", "DN No."),
        "de": ("Lieferschein-Nr.", "Lieferschein", "LS-Nr."),
        "fr": ("Bon de livraison", "BL n°", "N° BL"),
        "es": ("Albarán", "Nº albarán", "Albarán nº"),
        "it": ("DDT n.", "Documento di trasporto", "Bolla n."),
        "nl": ("Pakbon", "Leveringsbon", "Pakbonnummer"),
        "zh": ("送货单号", "发货单号", "出库单号"),
    },
    "contract_number": {
        "en": ("Contract No.", "Agreement", "Contract Ref."),
        "de": ("Vertragsnummer", "Vertrag", "Vertrags-Nr."),
        "fr": ("N° de contrat", "Contrat"), "es": ("Nº contrato", "Contrato"), "it": ("Contratto n.", "Rif. contratto"),
        "nl": ("Contractnummer", "Contract"), "zh": ("合同编号", "合同号"),
    },
    "associated_invoice": {
        "en": ("Original invoice:", "Related invoice", "Ref. invoice", "Corrects invoice"),
        "de": ("Bezug: Rechnung", "Ursprungsrechnung", "zu Rechnung Nr.", "Korrektur zu Rechnung"),
        "fr": ("N° de facture associée:", "Facture d'origine", "Facture initiale n°", "Réf. facture d'acompte"),
        "es": ("Factura rectificada", "Factura original nº", "Ref. factura"),
        "it": ("Fattura di riferimento", "Rif. fattura n.", "Fattura originaria"),
        "nl": ("Oorspronkelijke factuur", "Gerelateerde factuur", "Ref. factuur"),
        "zh": ("原发票号码", "关联发票号", "对应蓝字发票号码"),
    },
    "deposit": {
        "en": ("Less deposit paid", "Paid on account", "Amount paid", "Prepayment received"),
        "de": ("abzgl. Anzahlung", "Anzahlung erhalten", "Bereits bezahlt", "abzgl. Abschlagszahlung"),
        "fr": ("Acompte versé", "Déjà réglé", "Acompte reçu"),
        "es": ("Anticipo recibido", "Entregado a cuenta", "Ya pagado"),
        "it": ("Acconto versato", "Già pagato", "Anticipo ricevuto"),
        "nl": ("Reeds betaald", "Aanbetaling", "Vooruitbetaling ontvangen"),
        "zh": ("已付定金", "预付款", "已收款"),
    },
    "carried_forward": {
        "en": ("Carried forward", "Subtotal carried forward", "c/f"), "de": ("Übertrag", "Zwischensumme Übertrag"),
        "fr": ("À reporter", "Report"), "es": ("Suma y sigue", "A cuenta nueva"), "it": ("A riportare", "Riporto"),
        "nl": ("Transport", "Over te brengen"), "zh": ("转下页", "承前页"),
    },
    "brought_forward": {
        "en": ("Brought forward", "b/f"), "de": ("Übertrag", "Übertrag von Seite 1"), "fr": ("Report", "Reporté"),
        "es": ("Suma anterior", "Saldo anterior"), "it": ("Riporto", "Da riportare"), "nl": ("Transport", "Van vorige"),
        "zh": ("承前页", "上页合计"),
    },
    "page": {
        "en": ("Page {i} of {k}", "Page {i}/{k}", "{i}/{k}"), "de": ("Seite {i} von {k}", "Seite {i}/{k}", "- {i} -"),
        "fr": ("Page {i} sur {k}", "Page {i}/{k}"), "es": ("Página {i} de {k}", "Pág. {i}/{k}"),
        "it": ("Pagina {i} di {k}", "Pag. {i}/{k}"), "nl": ("Pagina {i} van {k}", "Blad {i}/{k}"),
        "zh": ("第{i}页 共{k}页", "第 {i} 页 / 共 {k} 页"),
    },
    "printed": {
        "en": ("Printed", "Printed on", "Generated"), "de": ("Gedruckt am", "Druckdatum", "Erstellt am"),
        "fr": ("Imprimé le", "Édité le"), "es": ("Impreso el", "Fecha de impresión"),
        "it": ("Stampato il", "Data stampa"), "nl": ("Afgedrukt op", "Printdatum"), "zh": ("打印时间", "打印日期"),
    },
    "phone": {
        "en": ("Tel", "Phone", "T"), "de": ("Tel.", "Telefon", "Fon"), "fr": ("Tél.", "Tél :", "Téléphone"),
        "es": ("Tel.", "Teléfono", "Tlf."), "it": ("Tel.", "Telefono"), "nl": ("Tel.", "Telefoon", "T"),
        "zh": ("电话", "联系电话"),
    },
    "fax": {"en": ("Fax",), "de": ("Fax", "Telefax"), "fr": ("Fax",), "es": ("Fax",), "it": ("Fax",),
            "nl": ("Fax",), "zh": ("传真",)},
    "email": {"en": ("Email", "E-mail"), "de": ("E-Mail", "Mail"), "fr": ("E-mail", "Courriel"),
              "es": ("Email", "Correo"), "it": ("Email", "E-mail"), "nl": ("E-mail", "Email"),
              "zh": ("邮箱", "电子邮件")},
    "bill_to": {
        "en": ("Bill To", "Invoice to", "Billed to", "Sold To", "Customer"),
        "de": ("Rechnungsempfänger", "Kunde", "An"),
        "fr": ("Facturé à", "Client", "Adresse de facturation"), "es": ("Facturar a", "Cliente", "Datos del cliente"),
        "it": ("Spett.le", "Cliente", "Intestatario", "Destinatario fattura"), "nl": ("Factuuradres", "Klant", "Aan"),
        "zh": ("购买方", "客户", "收票方"),
    },
    "party_name": {
        "en": ("Name", "Company", "Company name", "Registered name"), "de": ("Name", "Firma", "Firmenname"),
        "fr": ("Nom", "Raison sociale", "Dénomination"), "es": ("Nombre", "Razón social", "Denominación"),
        "it": ("Nome", "Ragione sociale", "Denominazione"), "nl": ("Naam", "Bedrijfsnaam", "Handelsnaam"),
        "zh": ("名称", "单位名称"),
    },
    "address": {
        "en": ("Address", "Postal address"), "de": ("Anschrift", "Adresse", "Sitz"), "fr": ("Adresse", "Siège"),
        "es": ("Dirección", "Domicilio"), "it": ("Indirizzo", "Sede"), "nl": ("Adres", "Vestigingsadres"),
        "zh": ("地址", "地址、电话"),
    },
    "seller_heading": {
        "en": ("Seller", "From", "Supplier", "Vendor", "Issued by"),
        "de": ("Verkäufer", "Lieferant", "Rechnungssteller", "Absender"),
        "fr": ("Vendeur", "Fournisseur", "Émetteur"), "es": ("Vendedor", "Proveedor", "Emisor"),
        "it": ("Fornitore", "Venditore", "Cedente"), "nl": ("Verkoper", "Leverancier", "Afzender"),
        "zh": ("销售方", "销方"),
    },
    "buyer_heading": {
        "en": ("Buyer", "Bill To", "Customer", "To"), "de": ("Käufer", "Kunde", "Rechnungsempfänger"),
        "fr": ("Acheteur", "Client", "Destinataire"), "es": ("Comprador", "Cliente"),
        "it": ("Cliente", "Committente", "Cessionario"), "nl": ("Koper", "Klant"), "zh": ("购买方", "购方"),
    },
    "ship_to": {
        "en": ("Ship To", "Deliver to", "Delivery address"), "de": ("Lieferanschrift", "Lieferadresse", "Versand an"),
        "fr": ("Livré à", "Adresse de livraison"), "es": ("Enviar a", "Dirección de entrega"),
        "it": ("Luogo di consegna", "Destinazione merce"), "nl": ("Afleveradres", "Leveradres"),
        "zh": ("收货方", "送货地址"),
    },
    "director": {
        "en": ("Director", "Directors"), "de": ("Geschäftsführer", "Geschäftsführung", "GF"),
        "fr": ("Gérant", "Président"), "es": ("Administrador", "Administrador único"),
        "it": ("Amministratore", "Legale rappresentante"), "nl": ("Directeur", "Directie"), "zh": ("法定代表人",),
    },
}  # fmt: skip

COLUMNS: Vocabulary = {
    "pos": {"en": ("#", "Item", "No."), "de": ("Pos.", "Pos", "Nr."), "fr": ("N°", "Réf."), "es": ("Nº", "Lín."),
            "it": ("N.", "Riga"), "nl": ("Nr.", "#"), "zh": ("序号",)},
    "sku": {"en": ("Item code", "SKU", "Part No."), "de": ("Art.-Nr.", "Artikel", "Artikelnummer"),
            "fr": ("Référence", "Code article"), "es": ("Código", "Referencia"), "it": ("Codice", "Cod. art."),
            "nl": ("Artikelnr.", "Code"), "zh": ("商品编码", "物料号")},
    "description": {"en": ("Description", "Item", "Product / Service", "Details"),
                    "de": ("Bezeichnung", "Beschreibung", "Artikel / Leistung", "Leistung"),
                    "fr": ("Désignation", "Description", "Libellé"), "es": ("Descripción", "Concepto", "Artículo"),
                    "it": ("Descrizione", "Descrizione articolo", "Prodotto"), "nl": ("Omschrijving", "Artikel"),
                    "zh": ("货物或应税劳务名称", "商品名称", "项目名称")},
    "qty": {"en": ("Qty", "Quantity", "Hrs/Qty"), "de": ("Menge", "Anz.", "Anzahl"), "fr": ("Qté", "Quantité"),
            "es": ("Cant.", "Cantidad", "Uds."), "it": ("Q.tà", "Quantità", "Qtà"), "nl": ("Aantal", "Aant."),
            "zh": ("数量",)},
    "unit": {"en": ("Unit", "UoM"), "de": ("Einheit", "ME"), "fr": ("Unité", "U."), "es": ("Unidad", "Ud."),
             "it": ("U.M.", "Unità"), "nl": ("Eenheid", "Eenh."), "zh": ("单位",)},
    "unit_price": {"en": ("Unit Price", "Rate", "Price", "Unit Cost"), "de": ("Einzelpreis", "E-Preis", "Preis/ME"),
                   "fr": ("Prix unitaire", "P.U. HT", "PU"), "es": ("Precio", "Precio unit.", "P. unitario"),
                   "it": ("Prezzo", "Prezzo unit.", "Prezzo unitario"), "nl": ("Prijs", "Stukprijs", "Eenheidsprijs"),
                   "zh": ("单价",)},
    "rate": {"en": ("VAT", "VAT %", "Tax"), "de": ("MwSt.", "USt.", "St.-%"), "fr": ("TVA", "Taux TVA"),
             "es": ("IVA", "% IVA"), "it": ("IVA", "Aliq."), "nl": ("BTW", "Btw %"), "zh": ("税率",)},
    "disc": {"en": ("Disc.", "Discount"), "de": ("Rabatt", "Rab."), "fr": ("Remise", "Rem."), "es": ("Dto.", "Desc."),
             "it": ("Sconto", "Sc."), "nl": ("Korting",), "zh": ("折扣",)},
    "amount": {"en": ("Amount", "Total", "Line Total", "Net"), "de": ("Gesamt", "Betrag", "Gesamtpreis", "Summe"),
               "fr": ("Montant HT", "Total HT", "Montant"), "es": ("Importe", "Total"),
               "it": ("Importo", "Totale"), "nl": ("Bedrag", "Totaal"), "zh": ("金额",)},
}  # fmt: skip

TITLES: Vocabulary = {
    "title": {"en": ("INVOICE", "Invoice", "TAX INVOICE", "Sales Invoice", "VAT Invoice"),
              "de": ("Rechnung", "RECHNUNG", "Rechnung", "Leistungsrechnung"),
              "fr": ("FACTURE", "Facture"), "es": ("FACTURA", "Factura"), "it": ("FATTURA", "Fattura"),
              "nl": ("FACTUUR", "Factuur"), "zh": ("发票", "销售发票", "商业发票")},
    "title_number": {"en": ("INVOICE #{n}", "Invoice {n}", "INVOICE NO. {n}", "Tax Invoice {n}"),
                     "de": ("Rechnung Nr. {n}", "Rechnung {n}", "RECHNUNG Nr. {n}", "Rechnung-Nr. {n}"),
                     "fr": ("Facture n° {n}", "FACTURE N° {n}", "Facture {n}"),
                     "es": ("Factura nº {n}", "FACTURA {n}", "Factura n.º {n}"),
                     "it": ("Fattura n. {n}", "Fattura nr. {n}", "FATTURA N° {n}"),
                     "nl": ("Factuur {n}", "Factuur nr. {n}", "FACTUUR {n}"),
                     "zh": ("发票 No. {n}", "销售发票 {n}", "发票号：{n}")},
}  # fmt: skip


def label(rng: Random, field: str, language: str, table: Vocabulary | None = None) -> str:
    """One variant of a field's label in a language."""
    return rng.choice((table or LABELS)[field][language])


def variant_counts() -> dict[str, dict[str, int]]:
    """How many variants each field has per language (for reports)."""
    out: dict[str, dict[str, int]] = {}
    for table in (LABELS, COLUMNS, TITLES):
        for field, per_language in table.items():
            out[field] = {language: len(variants) for language, variants in per_language.items()}
    return out
