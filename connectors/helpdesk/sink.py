"""The outbox's sink for helpdesk calls: one outbox row is one `HelpdeskCall`."""

from __future__ import annotations

import json
import logging

from connectors.helpdesk.api import ApiClient, Helpdesk, basic, bearer
from connectors.helpdesk.services import Front, HelpScout, Zendesk, check_id
from connectors.webhook_in.config import WebhookSourceConfig
from inbox_ocr.kernel.errors import DeliveryRejected
from inbox_ocr.kernel.models import HelpdeskCall
from inbox_ocr.kernel.ports import Delivery

log = logging.getLogger("connectors.helpdesk")

DEFAULT_API = {"front": "https://api2.frontapp.com", "helpscout": "https://api.helpscout.net/v2"}
SERVICES: dict[str, type[Helpdesk]] = {"front": Front, "zendesk": Zendesk, "helpscout": HelpScout}


def helpdesk_for(config: WebhookSourceConfig) -> Helpdesk:
    """The API client of a helpdesk source (its api_url, api_token and, for Zendesk, api_user)."""
    if config.api_token is None:
        raise ValueError(f"source {config.name}: api_token is needed to act in {config.provider}")
    token = config.api_token.get_secret_value()
    auth = basic(f"{config.api_user}", token) if config.api_user else bearer(token)
    base = config.api_url or DEFAULT_API.get(config.provider)
    if base is None:
        raise ValueError(f"source {config.name}: api_url is needed for {config.provider} "
                         "(https://<subdomain>.zendesk.com/api/v2)")
    return SERVICES[config.provider](ApiClient(base, auth, timeout=config.fetch_timeout))


class HelpdeskSink:
    """Makes the helpdesk call an outbox row holds; every call can be repeated harmlessly (a
    comment carries its row's idempotency key as a marker and is not posted twice)."""

    def __init__(self, name: str, helpdesk: Helpdesk) -> None:
        self.name = name
        self.helpdesk = helpdesk

    def deliver(self, delivery: Delivery) -> str:
        try:
            data = json.loads(delivery.payload)
            call = HelpdeskCall(op=data["op"], conversation=check_id(str(data["conversation"])), arg=data.get("arg"))
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryRejected(f"not a helpdesk call: {exc}") from exc
        receipt = self.helpdesk.perform(call, delivery.idempotency_key)
        log.info("event=helpdesk_call sink=%s op=%s conversation=%s receipt=%s",
                 self.name, call.op, call.conversation, receipt)
        return f"{self.helpdesk.name}: {receipt}"
