"""Payload templates: the outbox's standard JSON payload rendered through a webhook's Jinja2 template
(sandboxed) at delivery time. Shipped templates live beside this module in templates/: generic,
jira, zendesk, freshdesk, erp_invoice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inbox_ocr.kernel.errors import ConfigError, DeliveryRejected

SHIPPED_TEMPLATES = Path(__file__).resolve().parent / "templates"
INVOICE_TYPES = ("invoice", "credit_note")


class PayloadTemplate:
    """A webhook's payload template, compiled once (a syntax error is a config error at start)."""

    def __init__(self, webhook: str, spec: str, variables: dict[str, str], content_type: str) -> None:
        from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        path = _template_path(spec)
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError("<config>", [f"webhooks.{webhook}.template: cannot read {path}: {exc.strerror}"]) from exc
        # undefined lookups (a field the extraction did not find) chain to null instead of failing
        env = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=False)

        def to_json(value: Any) -> str:
            return json.dumps(None if isinstance(value, Undefined) else value, ensure_ascii=False, default=str)

        env.filters["tojson"] = to_json
        try:
            self.template = env.from_string(source)
        except TemplateSyntaxError as exc:
            raise ConfigError(
                "<config>", [f"webhooks.{webhook}.template: {path.name} line {exc.lineno}: {exc.message}"]
            ) from exc
        self.name = path.name
        self.webhook = webhook
        self.variables = dict(variables)
        self.is_json = "json" in content_type

    def render(self, payload: bytes) -> bytes:
        """The body for one delivery. A template that fails or renders invalid JSON makes the
        delivery a dead letter (DeliveryRejected): retrying the same template would not help."""
        from jinja2 import TemplateError

        try:
            data = json.loads(payload)
            text = self.template.render(template_context(data, self.variables, self.webhook))
        except (ValueError, TemplateError) as exc:
            raise DeliveryRejected(f"template {self.name} failed: {type(exc).__name__}: {exc}") from exc
        if self.is_json:
            try:
                json.loads(text)
            except ValueError as exc:
                raise DeliveryRejected(f"template {self.name} rendered invalid JSON: {exc}") from exc
        return text.encode("utf-8")


def template_context(payload: dict[str, Any], variables: dict[str, str], webhook: str) -> dict[str, Any]:
    """What a template sees: the payload's keys, plus `payload` itself, `vars`, and the first
    invoice or credit note (else the first document) as `document`, its `fields` and `doc_type`."""
    documents = [d for d in payload.get("documents") or [] if isinstance(d, dict)]
    document = next((d for d in documents if d.get("doc_type") in INVOICE_TYPES), documents[0] if documents else None)
    return {
        **payload,
        "payload": payload,
        "vars": variables,
        "webhook": webhook,
        "documents": documents,
        "document": document,
        "fields": (document or {}).get("fields") or {},
        "doc_type": (document or {}).get("doc_type"),
    }


def _template_path(spec: str) -> Path:
    shipped = SHIPPED_TEMPLATES / f"{spec}.json.j2"
    return shipped if "/" not in spec and shipped.exists() else Path(spec)


def shipped_templates() -> list[str]:
    return sorted(p.name.removesuffix(".json.j2") for p in SHIPPED_TEMPLATES.glob("*.json.j2"))


