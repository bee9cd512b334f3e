"""Templates learned from one correction: the vendor's next invoice comes out right."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from inbox_ocr.app import samples
from inbox_ocr.app.api import extract_bytes
from inbox_ocr.understand import load_templates
from inbox_ocr.understand.learning import NotLearnable, learn_template, save_template


def voucher_invoice(voucher: str, total: str = "1,234.56", net: str = "1,028.80", tax: str = "205.76") -> bytes:
    """A vendor that prints its invoice number as 'Voucher' under a contract number: the generic
    extractor takes the contract number (the labelled identifier it trusts more)."""
    base = samples.invoice_doc(total=total, net=net, tax=tax)
    doc = dataclasses.replace(base, header=(("Contract:", "C-2026-55"), ("Voucher:", voucher),
                                            ("Date:", "02/11/2026"), ("VAT ID:", "GB123456789")))
    return samples.render_pdf(doc)


def test_one_correction_teaches_the_vendors_next_invoice(tmp_path: Path) -> None:
    [first] = extract_bytes(voucher_invoice("V-117"), "first.pdf")
    assert first.fields.invoice_number == "C-2026-55"  # the generic extractor's mistake on this vendor
    corrected = first.fields.model_copy(update={"invoice_number": "V-117"})
    learned = learn_template(first.document, corrected, ["invoice_number"])
    assert learned.learned == ["invoice_number"] and learned.name == "acme-office-supplies-ltd"
    path = save_template(tmp_path / "templates", learned)
    data = yaml.safe_load(path.read_text())
    assert data["issuer"] == "Acme Office Supplies Ltd" and "Voucher" in data["fields"]["invoice_number"]["regex"]

    templates = load_templates(tmp_path / "templates")
    [second] = extract_bytes(voucher_invoice("V-118", total="2,400.00", net="2,000.00", tax="400.00"), "second.pdf",
                             )
    assert second.fields.invoice_number == "C-2026-55"  # without the template: the same mistake
    from inbox_ocr.understand import analyze

    with_template = analyze(second.document, None, templates)
    assert with_template.template == "acme-office-supplies-ltd"
    assert with_template.fields.invoice_number == "V-118"
    assert str(with_template.fields.total) == "2400.00"  # the generic fields stay


def test_a_folder_of_templates_is_read_again_when_a_template_is_added(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    templates = load_templates(folder)
    assert templates.items == ()
    [first] = extract_bytes(voucher_invoice("V-117"), "first.pdf")
    save_template(folder, learn_template(first.document, first.fields.model_copy(update={"invoice_number": "V-117"}),
                                         ["invoice_number"]))
    assert [t.name for t in templates.items] == ["acme-office-supplies-ltd"]


def test_what_cannot_be_learned_is_said() -> None:
    [first] = extract_bytes(voucher_invoice("V-117"), "first.pdf")
    with pytest.raises(NotLearnable, match="vendor's name is not known"):
        learn_template(first.document, first.fields.model_copy(update={"vendor_name": None}), ["invoice_number"])
    with pytest.raises(NotLearnable, match="not printed after or under a label"):
        learn_template(first.document, first.fields.model_copy(update={"invoice_number": "NOT-THERE-1"}),
                       ["invoice_number"])
