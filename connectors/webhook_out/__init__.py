"""Outbound webhooks (`webhooks:` in the config): the sinks the outbox delivers through.

    config.py     WebhookConfig, WebhookAuth
    sinks.py      HttpSink (HTTP(S) POST), FileSink (file:// drop folder), make_sink
    templates.py  PayloadTemplate: the payload through a Jinja2 template; the shipped ones in templates/
    breaker.py    a circuit breaker per target host
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.webhook_out.breaker import Breakers, CircuitBreaker
    from connectors.webhook_out.config import WebhookAuth, WebhookConfig
    from connectors.webhook_out.sinks import FileSink, HttpSink, make_sink, signature
    from connectors.webhook_out.templates import PayloadTemplate, shipped_templates, template_context

# imported on first use (connectors/lazy.py)
_EXPORTS = {
    "Breakers": "breaker",
    "CircuitBreaker": "breaker",
    "WebhookAuth": "config",
    "WebhookConfig": "config",
    "FileSink": "sinks",
    "HttpSink": "sinks",
    "make_sink": "sinks",
    "signature": "sinks",
    "PayloadTemplate": "templates",
    "shipped_templates": "templates",
    "template_context": "templates",
}
__all__ = [
    "Breakers",
    "CircuitBreaker",
    "FileSink",
    "HttpSink",
    "PayloadTemplate",
    "WebhookAuth",
    "WebhookConfig",
    "make_sink",
    "shipped_templates",
    "signature",
    "template_context",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
