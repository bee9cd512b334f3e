"""Rule matching and its explanation: a pure function of the message and its documents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inbox_ocr.app.config import parse_config
from inbox_ocr.kernel.models import (
    AnalyzedDocument,
    Attachment,
    Classification,
    Document,
    InvoiceFields,
    MailboxChanges,
    ParsedMessage,
)
from routing.engine import decide
from routing.rules import RoutingInput, match

RULES_YAML = {
    "sources": [{"name": "finance", "type": "maildir", "path": "x"}],
    "webhooks": {"erp": {"url": "http://127.0.0.1:9/hook"}},
    "rules": [
        {"name": "large invoices need approval", "when": {"doc_type": "invoice", "total_gt": 10000},
         "then": [{"move": "Invoices/Approval"}, {"keyword": "needs-approval"}, {"webhook": "erp"}], "stop": True},
        {"name": "invoices and credit notes", "when": {"doc_type": ["invoice", "credit_note"]},
         "then": [{"move": "Invoices"}, {"webhook": "erp"}]},
        {"name": "from acme", "when": {"sender": "*@acme.example"}, "then": [{"keyword": "acme"}, "flag"]},
        {"name": "disabled", "enabled": False, "then": ["mark_seen"]},
    ],
    "default": [{"keyword": "not-invoice"}],
}


def make_doc(name: str, doc_type: str, confidence: float = 0.9, **fields: object) -> AnalyzedDocument:
    return AnalyzedDocument(
        document=Document(filename=name, part="2", content_type="application/pdf", sha256="0" * 64,
                          reading="text_layer"),
        classification=Classification(doc_type=doc_type, confidence=confidence),  # type: ignore[arg-type]
        fields=InvoiceFields(**fields),  # type: ignore[arg-type]
    )


def make_input(*docs: AnalyzedDocument, sender: str = "billing@vendor.example", subject: str = "Invoice 42",
               source: str = "finance", body: str = "") -> RoutingInput:
    atts = tuple(
        Attachment(part=d.document.part or "1", filename=d.document.filename, declared_type="application/pdf",
                   content_type="application/pdf", data=b"%PDF-1.4") for d in docs
    )
    msg = ParsedMessage(subject=subject, sender=sender, recipients=("ap@example.com",), attachments=atts,
                        body_text=body)
    return RoutingInput(source=source, message=msg, documents=docs)


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return parse_config(RULES_YAML)


def test_large_invoice_stops_at_approval(config) -> None:  # type: ignore[no-untyped-def]
    inp = make_input(make_doc("a.pdf", "invoice", total=Decimal("12000.00"), currency="EUR"))
    d = decide(inp, config.rules, config.default)
    assert d.rule == "large invoices need approval"
    assert [str(a) for a in d.actions] == ["move: Invoices/Approval", "keyword: needs-approval", "webhook: erp"]
    assert any("has stop" in line for line in d.explanation)


def test_small_invoice_falls_through_and_collects_later_rules(config) -> None:  # type: ignore[no-untyped-def]
    inp = make_input(make_doc("a.pdf", "invoice", total=Decimal("99.50")), sender="Billing@ACME.example")
    d = decide(inp, config.rules, config.default)
    assert d.matched_rules == ("invoices and credit notes", "from acme")
    assert [str(a) for a in d.actions] == ["move: Invoices", "webhook: erp", "keyword: acme", "flag"]
    assert d.mailbox == MailboxChanges(move_to="Invoices", keywords=("acme",), flag=True)
    assert d.webhooks == ("erp",)


def test_total_boundary_is_strict(config) -> None:  # type: ignore[no-untyped-def]
    d = decide(make_input(make_doc("a.pdf", "invoice", total=Decimal("10000"))), config.rules, config.default)
    assert d.rule == "invoices and credit notes"


def test_invoice_without_total_does_not_match_total_gt(config) -> None:  # type: ignore[no-untyped-def]
    result = match(config.rules[0], make_input(make_doc("a.pdf", "invoice")))
    assert not result.matched
    assert any("total_gt: no" in line for line in result.checks)


def test_no_match_applies_default_and_explains(config) -> None:  # type: ignore[no-untyped-def]
    d = decide(make_input(make_doc("agenda.pdf", "other")), config.rules, config.default)
    assert d.rule is None
    assert d.actions == ("keyword: not-invoice",)
    assert d.mailbox == MailboxChanges(keywords=("not-invoice",)) and d.webhooks == ()
    text = "\n".join(d.explanation)
    assert "doc_type: no (other" in text
    assert "rule 'disabled': disabled" in text
    assert "no rule matched" in text


def test_message_without_documents_fails_document_conditions(config) -> None:  # type: ignore[no-untyped-def]
    result = match(config.rules[1], make_input())
    assert not result.matched
    assert "no readable document" in result.checks[-1]


def test_document_conditions_hold_for_one_document() -> None:
    cfg = parse_config({**RULES_YAML, "rules": [
        {"name": "big credit", "when": {"doc_type": "credit_note", "total_gt": 100}, "then": ["flag"]}]})
    # one credit note of 50 and one invoice of 500: no single document satisfies both conditions
    inp = make_input(make_doc("cn.pdf", "credit_note", total=Decimal(50)), make_doc("inv.pdf", "invoice",
                                                                                    total=Decimal(500)))
    assert not match(cfg.rules[0], inp).matched
    inp2 = make_input(make_doc("inv.pdf", "invoice", total=Decimal(500)),
                      make_doc("cn.pdf", "credit_note", total=Decimal(150)))
    result = match(cfg.rules[0], inp2)
    assert result.matched and result.document is not None and result.document.document.filename == "cn.pdf"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"subject": "*invoice*"}, True),
        ({"subject": "invoice"}, False),  # a glob matches the whole subject
        ({"subject": {"regex": r"invoice \d+"}}, True),
        ({"subject": {"regex": r"^rechnung"}}, False),
        ({"recipients": "ap@*"}, True),
        ({"source": ["other", "fin*"]}, True),
        ({"has_attachment": False}, False),
        ({"attachment_name": "*.PDF"}, True),
        ({"attachment_name": "*.xml"}, False),
        ({"min_confidence": 0.95}, False),
        ({"currency": "EUR"}, True),
        ({"currency": ["USD", "GBP"]}, False),
        ({"vendor": "acme*"}, True),
        ({"vendor": "GB123*"}, True),
        ({"missing": "po_number"}, True),
        ({"missing": ["po_number", "iban"]}, False),
        ({"total_lt": 1000}, True),
    ],
)
def test_conditions(when: dict, expected: bool) -> None:
    cfg = parse_config({**RULES_YAML, "rules": [{"name": "r", "when": when, "then": ["flag"]}]})
    doc = make_doc("Invoice-42.pdf", "invoice", 0.9, total=Decimal("120.00"), currency="EUR",
                   vendor_name="ACME Supplies Ltd", vendor_vat_id="GB123456789", iban="DE89370400440532013000")
    assert match(cfg.rules[0], make_input(doc)).matched is expected


def test_min_confidence_uses_doc_type_confidence() -> None:
    cfg = parse_config({**RULES_YAML, "rules": [
        {"name": "sure invoices", "when": {"doc_type": "invoice", "min_confidence": 0.8}, "then": ["flag"]}]})
    assert match(cfg.rules[0], make_input(make_doc("a.pdf", "invoice", 0.85))).matched
    assert not match(cfg.rules[0], make_input(make_doc("a.pdf", "invoice", 0.6))).matched


def test_first_move_wins_when_rules_disagree() -> None:
    cfg = parse_config({**RULES_YAML, "rules": [
        {"name": "a", "then": [{"move": "A"}]}, {"name": "b", "then": [{"move": "B"}, {"keyword": "k"}]}]})
    d = decide(make_input(), cfg.rules, cfg.default)
    assert [str(a) for a in d.actions] == ["move: A", "keyword: k"]
    assert d.mailbox.move_to == "A"
    assert "several moves decided; the first one wins: A" in d.explanation


def test_every_declared_condition_is_a_config_key_in_declaration_order() -> None:
    from routing.conditions import CONDITIONS
    from routing.rules import RuleWhen

    assert list(RuleWhen.model_fields) == [c.name for c in CONDITIONS]
    assert all(c.doc for c in CONDITIONS)  # each documents its key


def test_missing_accepts_every_invoice_field() -> None:
    cfg = parse_config({**RULES_YAML, "rules": [
        {"name": "r", "when": {"missing": ["amount_due", "payment_reference", "customer_vat_id"]}, "then": ["flag"]}]})
    assert match(cfg.rules[0], make_input(make_doc("a.pdf", "invoice"))).matched


def test_unknown_field_in_missing_is_a_config_error_listing_the_fields() -> None:
    from inbox_ocr.kernel.errors import ConfigError

    with pytest.raises(ConfigError, match=r"rules\[0\]\.when\.missing: unknown field 'totl'.*amount_due"):
        parse_config({**RULES_YAML, "rules": [{"name": "r", "when": {"missing": "totl"}, "then": ["flag"]}]})


@pytest.mark.parametrize(
    ("body_condition", "expected"),
    [
        ("*please pay*", True),  # a glob matches the whole body, case-insensitively
        ("please pay", False),
        ({"regex": r"IBAN\s+DE\d{2}"}, True),
        ({"regex": r"^mahnung"}, False),
    ],
)
def test_body_condition(body_condition: object, expected: bool) -> None:
    cfg = parse_config({**RULES_YAML, "rules": [{"name": "r", "when": {"body": body_condition}, "then": ["flag"]}]})
    inp = make_input(body="Hello,\nplease pay the attached invoice to IBAN DE89 3704 0044 0532 0130 00.\nThanks")
    result = match(cfg.rules[0], inp)
    assert result.matched is expected
    assert result.checks[0].startswith(f"body: {'yes' if expected else 'no'}")


def test_a_long_body_is_shortened_in_the_explanation() -> None:
    cfg = parse_config({**RULES_YAML, "rules": [{"name": "r", "when": {"body": "*nothing*"}, "then": ["flag"]}]})
    result = match(cfg.rules[0], make_input(body="x" * 5000))
    assert not result.matched and len(result.checks[0]) < 300


def test_attachment_name_takes_several_patterns_and_not() -> None:
    """`not:` patterns must match no attachment; the others, one of them, some attachment."""
    from inbox_ocr.kernel.models import Attachment, ParsedMessage
    from routing.conditions import RoutingInput
    from routing.rules import Rule, match

    def message(*names: str) -> RoutingInput:
        atts = tuple(Attachment(part=str(i), filename=n, declared_type="application/pdf",
                                content_type="application/pdf", data=b"x") for i, n in enumerate(names))
        return RoutingInput(source="s", message=ParsedMessage(attachments=atts))

    def holds(when: object, inp: RoutingInput) -> bool:
        rule = Rule.model_validate({"name": "r", "when": {"attachment_name": when}, "then": [{"keyword": "k"}]})
        return match(rule, inp).matched

    assert holds(["*.pdf", "*.xml"], message("scan.jpg", "invoice.XML"))
    assert not holds(["*.pdf", "*.xml"], message("scan.jpg"))
    assert holds(["*.pdf", "not:*.p7s"], message("invoice.pdf"))
    assert not holds(["*.pdf", "not:*.p7s"], message("invoice.pdf", "smime.p7s"))
    assert holds("not:*.zip", message("invoice.pdf"))
    assert holds("not:*.zip", message())
    assert not holds({"regex": r"^winmail\.dat$", "not": True}, message("winmail.dat"))
    explained = match(Rule.model_validate({"name": "r", "when": {"attachment_name": ["*.pdf", "not:*.p7s"]},
                                           "then": [{"keyword": "k"}]}), message("a.pdf", "smime.p7s")).checks
    assert any("'smime.p7s' matches it" in line for line in explained)


def test_delete_is_an_action_and_goes_to_the_maildir_trash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from connectors.maildir import MaildirSource, MaildirSourceConfig
    from connectors.memory import MemoryState
    from inbox_ocr.kernel.models import ParsedMessage
    from routing.conditions import RoutingInput
    from routing.engine import decide
    from routing.rules import Rule

    rule = Rule.model_validate({"name": "spam", "when": {"subject": "*lottery*"}, "then": ["delete", {"move": "X"}]})
    decision = decide(RoutingInput(source="s", message=ParsedMessage(subject="You won the lottery")), [rule])
    assert decision.mailbox.delete and decision.mailbox.describe()[0] == "delete"
    root = tmp_path / "Maildir"
    (root / "new").mkdir(parents=True)
    (root / "cur").mkdir()
    (root / "new" / "1700000000.M1.test").write_bytes(b"Subject: You won the lottery\r\n\r\nbody\r\n")
    source = MaildirSource(MaildirSourceConfig(type="maildir", name="s", path=root), MemoryState())
    source.ack(next(iter(source.fetch())), decision.mailbox)
    assert [p.name for p in (root / ".Trash" / "cur").iterdir()] == ["1700000000.M1.test:2,T"]
    assert not (root / ".X").exists()
