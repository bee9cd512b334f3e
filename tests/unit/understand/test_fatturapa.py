# ruff: noqa: E501  (XML fixtures are easier to read one element per line)
"""Italian FatturaPA: ordinary (FPR12) and simplified (FSM10) XML written here after the format's
specification (Agenzia delle Entrate, v1.2), as a plain file, signed in a .p7m, and attached to a mail."""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage

import pytest

from inbox_ocr.app.api import extract_bytes
from inbox_ocr.kernel.settings import Limits
from inbox_ocr.mime import parse_message
from inbox_ocr.mime.archives import ArchiveError, is_signed_file, signed_members
from inbox_ocr.read.einvoice import parse_einvoice
from inbox_ocr.understand import analyze

from .conftest import make_pdf, read_xml

ORDINARY = """<?xml version="1.0" encoding="UTF-8"?>
<p:FatturaElettronica versione="FPR12" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
  xmlns:p="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2">
 <FatturaElettronicaHeader>
  <DatiTrasmissione>
   <IdTrasmittente><IdPaese>IT</IdPaese><IdCodice>01234567890</IdCodice></IdTrasmittente>
   <ProgressivoInvio>00001</ProgressivoInvio><FormatoTrasmissione>FPR12</FormatoTrasmissione>
   <CodiceDestinatario>ABC1234</CodiceDestinatario>
  </DatiTrasmissione>
  <CedentePrestatore>
   <DatiAnagrafici>
    <IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>01234567890</IdCodice></IdFiscaleIVA>
    <CodiceFiscale>01234567890</CodiceFiscale>
    <Anagrafica><Denominazione>Forniture Ufficio Rossi S.r.l.</Denominazione></Anagrafica>
    <RegimeFiscale>RF01</RegimeFiscale>
   </DatiAnagrafici>
   <Sede><Indirizzo>Via Roma</Indirizzo><NumeroCivico>12</NumeroCivico><CAP>20121</CAP><Comune>Milano</Comune><Provincia>MI</Provincia><Nazione>IT</Nazione></Sede>
  </CedentePrestatore>
  <CessionarioCommittente>
   <DatiAnagrafici>
    <IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>09876543210</IdCodice></IdFiscaleIVA>
    <Anagrafica><Denominazione>Studio Bianchi &amp; Associati</Denominazione></Anagrafica>
   </DatiAnagrafici>
   <Sede><Indirizzo>Corso Francia</Indirizzo><CAP>10138</CAP><Comune>Torino</Comune><Nazione>IT</Nazione></Sede>
  </CessionarioCommittente>
 </FatturaElettronicaHeader>
 <FatturaElettronicaBody>
  <DatiGenerali>
   <DatiGeneraliDocumento>
    <TipoDocumento>{tipo}</TipoDocumento><Divisa>EUR</Divisa><Data>2024-03-15</Data><Numero>FPR 118/24</Numero>
    {totale}
    <Causale>Fornitura materiale di cancelleria</Causale>
   </DatiGeneraliDocumento>
   <DatiOrdineAcquisto><RiferimentoNumeroLinea>1</RiferimentoNumeroLinea><IdDocumento>ODA-2024-031</IdDocumento></DatiOrdineAcquisto>
  </DatiGenerali>
  <DatiBeniServizi>
   <DettaglioLinee><NumeroLinea>1</NumeroLinea><Descrizione>Carta A4 80g, risme</Descrizione><Quantita>20.00</Quantita><PrezzoUnitario>4.50</PrezzoUnitario><PrezzoTotale>90.00</PrezzoTotale><AliquotaIVA>22.00</AliquotaIVA></DettaglioLinee>
   <DettaglioLinee><NumeroLinea>2</NumeroLinea><Descrizione>Volumi di normativa</Descrizione><Quantita>2.00</Quantita><PrezzoUnitario>25.00</PrezzoUnitario><PrezzoTotale>50.00</PrezzoTotale><AliquotaIVA>4.00</AliquotaIVA></DettaglioLinee>
   <DatiRiepilogo><AliquotaIVA>22.00</AliquotaIVA><ImponibileImporto>90.00</ImponibileImporto><Imposta>19.80</Imposta><EsigibilitaIVA>I</EsigibilitaIVA></DatiRiepilogo>
   <DatiRiepilogo><AliquotaIVA>4.00</AliquotaIVA><ImponibileImporto>50.00</ImponibileImporto><Imposta>2.00</Imposta><EsigibilitaIVA>I</EsigibilitaIVA></DatiRiepilogo>
  </DatiBeniServizi>
  <DatiPagamento>
   <CondizioniPagamento>TP02</CondizioniPagamento>
   <DettaglioPagamento><ModalitaPagamento>MP05</ModalitaPagamento><DataScadenzaPagamento>2024-04-14</DataScadenzaPagamento><ImportoPagamento>161.80</ImportoPagamento><IBAN>IT60X0542811101000000123456</IBAN><CodicePagamento>RF18 0001 18</CodicePagamento></DettaglioPagamento>
  </DatiPagamento>
 </FatturaElettronicaBody>{second}
</p:FatturaElettronica>
"""
TOTALE = "<ImportoTotaleDocumento>161.80</ImportoTotaleDocumento>"

SIMPLIFIED = """<?xml version="1.0" encoding="UTF-8"?>
<p:FatturaElettronicaSemplificata versione="FSM10" xmlns:p="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.0">
 <FatturaElettronicaHeader>
  <DatiTrasmissione><IdTrasmittente><IdPaese>IT</IdPaese><IdCodice>05556667778</IdCodice></IdTrasmittente><ProgressivoInvio>7</ProgressivoInvio><FormatoTrasmissione>FSM10</FormatoTrasmissione><CodiceDestinatario>0000000</CodiceDestinatario></DatiTrasmissione>
  <CedentePrestatore>
   <IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>05556667778</IdCodice></IdFiscaleIVA>
   <Nome>Mario</Nome><Cognome>Verdi</Cognome>
   <Sede><Indirizzo>Piazza Duomo 1</Indirizzo><CAP>50122</CAP><Comune>Firenze</Comune><Nazione>IT</Nazione></Sede>
   <RegimeFiscale>RF19</RegimeFiscale>
  </CedentePrestatore>
  <CessionarioCommittente><IdentificativiFiscali><IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>09876543210</IdCodice></IdFiscaleIVA></IdentificativiFiscali>
   <AltriDatiIdentificativi><Denominazione>Studio Bianchi</Denominazione></AltriDatiIdentificativi></CessionarioCommittente>
 </FatturaElettronicaHeader>
 <FatturaElettronicaBody>
  <DatiGenerali><DatiGeneraliDocumento><TipoDocumento>TD07</TipoDocumento><Divisa>EUR</Divisa><Data>2024-05-02</Data><Numero>S-31</Numero></DatiGeneraliDocumento></DatiGenerali>
  <DatiBeniServizi><Descrizione>Riparazione stampante</Descrizione><Importo>122.00</Importo><DatiIVA><Imposta>22.00</Imposta></DatiIVA></DatiBeniServizi>
  <DatiBeniServizi><Descrizione>Cartuccia toner</Descrizione><Importo>61.00</Importo><DatiIVA><Aliquota>22.00</Aliquota><Imposta>11.00</Imposta></DatiIVA></DatiBeniServizi>
 </FatturaElettronicaBody>
</p:FatturaElettronicaSemplificata>
"""


def ordinary(tipo: str = "TD01", totale: str = TOTALE, second: str = "") -> bytes:
    return ORDINARY.format(tipo=tipo, totale=totale, second=second).encode()


def test_an_ordinary_fattura_is_read_exactly() -> None:
    fields, fmt = parse_einvoice(ordinary())
    assert fmt == "FatturaPA FPR12"
    assert (fields.invoice_number, fields.invoice_date, fields.due_date) == ("FPR 118/24", date(2024, 3, 15), date(2024, 4, 14))
    assert (fields.total, fields.subtotal, fields.tax, fields.amount_due, fields.currency) == (
        Decimal("161.80"), Decimal("140.00"), Decimal("21.80"), Decimal("161.80"), "EUR")
    assert fields.tax_rates == (Decimal("22.00"), Decimal("4.00"))
    assert (fields.vendor_name, fields.vendor_vat_id, fields.vendor_tax_number) == (
        "Forniture Ufficio Rossi S.r.l.", "IT01234567890", "01234567890")
    assert fields.vendor_address == "Via Roma, 12, 20121, Milano, MI, IT"
    assert (fields.customer_name, fields.customer_vat_id) == ("Studio Bianchi & Associati", "IT09876543210")
    assert (fields.iban, fields.payment_reference, fields.po_number, fields.type_code) == (
        "IT60X0542811101000000123456", "RF18 0001 18", "ODA-2024-031", "380")
    assert [(i.description, i.quantity, i.unit_price, i.amount, i.tax_rate) for i in fields.line_items] == [
        ("Carta A4 80g, risme", Decimal("20.00"), Decimal("4.50"), Decimal("90.00"), Decimal("22.00")),
        ("Volumi di normativa", Decimal("2.00"), Decimal("25.00"), Decimal("50.00"), Decimal("4.00")),
    ]


def test_without_importo_totale_the_total_is_the_summaries_sum_and_td04_is_a_credit_note() -> None:
    fields, _ = parse_einvoice(ordinary(tipo="TD04", totale=""))
    assert fields.total == Decimal("161.80") and fields.type_code == "381"
    result = analyze(read_xml(ordinary(tipo="TD04"), "IT01234567890_0001A.xml"))
    assert result.classification.doc_type == "credit_note"
    assert result.document.reading == "einvoice_xml" and result.field_confidence["total"] == 1.0


def test_a_lotto_of_two_invoices_reads_the_first_and_says_so() -> None:
    body = ORDINARY.split("<FatturaElettronicaBody>")[1].split("</FatturaElettronicaBody>")[0]
    warnings: list[str] = []
    fields, _ = parse_einvoice(ordinary(second=f"\n <FatturaElettronicaBody>{body}</FatturaElettronicaBody>"), warnings)
    assert fields.invoice_number == "FPR 118/24"
    assert warnings == ["the FatturaPA file holds 2 invoices (a lotto); only the first is read"]


def test_a_simplified_fattura() -> None:
    fields, fmt = parse_einvoice(SIMPLIFIED.encode())
    assert fmt == "FatturaPA FSM10"
    assert (fields.invoice_number, fields.invoice_date, fields.total, fields.tax, fields.subtotal) == (
        "S-31", date(2024, 5, 2), Decimal("183.00"), Decimal("33.00"), Decimal("150.00"))
    assert (fields.vendor_name, fields.vendor_vat_id, fields.customer_name, fields.customer_vat_id) == (
        "Mario Verdi", "IT05556667778", "Studio Bianchi", "IT09876543210")
    assert [(i.description, i.amount) for i in fields.line_items] == [
        ("Riparazione stampante", Decimal("122.00")), ("Cartuccia toner", Decimal("61.00"))]


def test_a_broken_amount_is_a_warning_not_a_lost_document() -> None:
    warnings: list[str] = []
    fields, _ = parse_einvoice(ordinary(totale="<ImportoTotaleDocumento>NaN</ImportoTotaleDocumento>"), warnings)
    assert fields.total == Decimal("161.80")  # from the summaries
    assert any("ImportoTotaleDocumento 'NaN' is not a usable amount" in w for w in warnings)


# ---------------------------------------------------------------------------- signed .p7m


def sign(content: bytes) -> bytes:
    """A CMS SignedData envelope holding `content` (what Italian signing tools write as .p7m)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Firma di prova")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(datetime(2024, 1, 1)).not_valid_after(datetime(2034, 1, 1))
            .sign(key, hashes.SHA256()))
    return (pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))


@pytest.mark.parametrize("encoding", ["der", "base64"])
def test_the_file_inside_a_p7m_is_taken_out(encoding: str) -> None:
    signed = sign(ordinary())
    data = signed if encoding == "der" else base64.encodebytes(signed)
    assert is_signed_file(data, "application/octet-stream", "IT01234567890_0001A.xml.p7m")
    assert is_signed_file(data, "application/pkcs7-mime", None)
    [member] = signed_members(data, Limits(), "IT01234567890_0001A.xml.p7m")
    assert not isinstance(member, ArchiveError)
    assert (member.name, member.data) == ("IT01234567890_0001A.xml", ordinary())


def test_a_detached_signature_is_not_a_signed_file() -> None:
    assert not is_signed_file(b"%PDF-1.7 not signed", "application/pkcs7-mime", "a.pdf.p7m")
    assert not is_signed_file(sign(b"body"), "application/pkcs7-signature", "smime.p7s")  # S/MIME's signature part
    with pytest.raises(ArchiveError, match="not a readable signed file"):
        list(signed_members(bytes.fromhex("3080") + bytes.fromhex("06092a864886f70d010702") + b"\xff" * 20,
                            Limits(), "x.p7m"))


def test_an_s_mime_signed_mail_is_not_an_error() -> None:
    """S/MIME's detached signature part (smime.p7s) is the same kind of envelope, without content:
    neither a document nor an error."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.it", "ap@example.it", "Firmato"
    msg.set_content("Testo firmato.")
    msg.add_attachment(sign(b"Testo firmato."), maintype="application", subtype="pkcs7-signature",
                       filename="smime.p7s")
    parsed = parse_message(msg.as_bytes())
    assert parsed.errors == ()
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("smime.p7s", "application/pkcs7-signature")]


def test_a_mail_with_a_signed_fattura_and_a_signed_pdf() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "sdi@pec.fatturapa.it", "ap@example.it", "Invio File IT01234567890_0001A"
    msg["Message-ID"] = "<sdi-1@pec.fatturapa.it>"
    msg.set_content("In allegato la fattura.")
    msg.add_attachment(sign(ordinary()), maintype="application", subtype="octet-stream",
                       filename="IT01234567890_0001A.xml.p7m")
    pdf = make_pdf([(50, 60, "Fattura n. 77 del 01/02/2024"), (50, 90, "Totale documento 244,00 EUR")])
    msg.add_attachment(sign(pdf), maintype="application", subtype="pkcs7-mime", filename="copia.pdf.p7m")
    raw = msg.as_bytes()
    parsed = parse_message(raw)
    assert parsed.errors == ()
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("IT01234567890_0001A.xml.p7m", "application/pkcs7-mime"),
        ("IT01234567890_0001A.xml", "application/xml"),
        ("copia.pdf.p7m", "application/pkcs7-mime"),
        ("copia.pdf", "application/pdf"),
    ]
    documents = extract_bytes(raw, "mail.eml")
    by_name = {d.document.filename: d for d in documents}
    assert set(by_name) == {"IT01234567890_0001A.xml", "copia.pdf"}
    fattura = by_name["IT01234567890_0001A.xml"]
    assert (fattura.fields.invoice_number, fattura.fields.total, fattura.document.einvoice_format) == (
        "FPR 118/24", Decimal("161.80"), "FatturaPA FPR12")
    assert by_name["copia.pdf"].fields.total == Decimal("244.00")


def test_extract_reads_a_p7m_file_given_directly() -> None:
    [result] = extract_bytes(sign(ordinary()), "IT01234567890_0001A.xml.p7m")
    assert result.document.filename == "IT01234567890_0001A.xml"
    assert result.fields.vendor_vat_id == "IT01234567890"
