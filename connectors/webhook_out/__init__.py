"""Outbound webhooks (`webhooks:` in the config): the sinks the outbox delivers through.

    config.py     WebhookConfig, WebhookAuth
    sinks.py      HttpSink (HTTP(S) POST), FileSink (file:// drop folder), make_sink
    templates.py  PayloadTemplate: the payload through a Jinja2 template; the shipped ones in templates/
    breaker.py    a circuit breaker per target host
"""

from connectors.webhook_out.breaker import Breakers, CircuitBreaker
from connectors.webhook_out.config import WebhookAuth, WebhookConfig
from connectors.webhook_out.sinks import FileSink, HttpSink, make_sink, signature
from connectors.webhook_out.templates import PayloadTemplate, shipped_templates, template_context

__all__ = [
    "Breakers", "CircuitBreaker", "FileSink", "HttpSink", "PayloadTemplate", "WebhookAuth", "WebhookConfig",
    "make_sink", "shipped_templates", "signature", "template_context",
]
