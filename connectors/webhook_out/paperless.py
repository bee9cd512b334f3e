"""A paperless-ngx sink: each document of the outbox payload uploaded to paperless's REST API.

    POST {url}/api/documents/post_document/   multipart `document` (the file), `title`, `created`
                                             (the invoice date), `correspondent` (the vendor),
                                             `document_type`, `tags` (repeated), `custom_fields`
                                             (a JSON object: field id -> value)

Names become ids through the list endpoints (`/api/correspondents/?name__iexact=...`, the same
for tags, document types and custom fields); correspondents, tags and document types that do not
exist yet are created, custom fields must exist (their type is the admin's choice). The payload
carries the files (the outbox sets include_document for this sink), so a retry sends the same
bytes; paperless itself refuses to consume a file it already holds, which makes the redo after a
lost answer harmless. Authentication is `Authorization: Token <token>`.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import requests

from connectors.webhook_out.breaker import Breakers
from connectors.webhook_out.config import PaperlessSettings, WebhookConfig
from inbox_ocr.kernel.errors import DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.ports import Delivery

log = logging.getLogger("connectors.webhook_out.paperless")

RETRYABLE_STATUS = frozenset({408, 425, 429})


class PaperlessSink:
    def __init__(self, name: str, config: WebhookConfig, session: requests.Session | None = None,
                 breakers: Breakers | None = None) -> None:
        assert config.paperless is not None
        self.name = name
        self.config = config
        self.settings: PaperlessSettings = config.paperless
        self.base = config.url.rstrip("/")
        self.session = session or requests.Session()
        self.breaker = (breakers or Breakers()).for_url(config.url, config)
        self._ids: dict[tuple[str, str], int] = {}  # (endpoint, name) -> id, looked up once per sink
        self._types: dict[int, str] = {}  # custom field id -> its data_type

    def deliver(self, delivery: Delivery) -> str:
        payload = json.loads(delivery.payload)
        documents = [d for d in payload.get("documents", []) if d.get("content_base64")]
        if not documents:
            omitted = [d.get("content_omitted") for d in payload.get("documents", []) if d.get("content_omitted")]
            raise DeliveryRejected("no document file in the payload" + (f" ({omitted[0]})" if omitted else ""))
        self.breaker.before_request()
        try:
            tasks = [self._upload(doc) for doc in documents]
        except DeliveryFailed:
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return "paperless task " + ", ".join(tasks)

    def _upload(self, doc: dict[str, Any]) -> str:
        fields = doc.get("fields", {})
        form: list[tuple[str, str]] = []
        title = " ".join(str(v) for v in (fields.get("vendor_name"), fields.get("invoice_number")) if v)
        form.append(("title", title or str(doc.get("attachment") or "document")))
        if fields.get("invoice_date"):
            form.append(("created", str(fields["invoice_date"])))
        if fields.get("vendor_name"):
            form.append(("correspondent", str(self._id("correspondents", str(fields["vendor_name"]), create=True))))
        if self.settings.document_type:
            form.append(("document_type", str(self._id("document_types", self.settings.document_type, create=True))))
        form += [("tags", str(self._id("tags", tag, create=True))) for tag in self.settings.tags]
        custom = {}
        for ours, paperless_name in self.settings.custom_fields.items():
            if fields.get(ours) is not None:
                field_id = self._id("custom_fields", paperless_name, create=False)
                custom[str(field_id)] = _typed(fields[ours], self._types.get(field_id), fields.get("currency"))
        if custom:
            form.append(("custom_fields", json.dumps(custom)))
        data = base64.b64decode(doc["content_base64"])
        filename = str(doc.get("attachment") or "document.pdf")
        answer = self._call("POST", "/api/documents/post_document/", data=form,
                            files={"document": (filename, data, doc.get("content_type") or "application/octet-stream")})
        task = answer if isinstance(answer, str) else json.dumps(answer)
        log.info("event=paperless_uploaded webhook=%s file=%s task=%s", self.name, filename, task)
        return task

    def _id(self, endpoint: str, name: str, create: bool) -> int:
        key = (endpoint, name.casefold())
        if key in self._ids:
            return self._ids[key]
        found = self._call("GET", f"/api/{endpoint}/", params={"name__iexact": name})
        results = found.get("results", []) if isinstance(found, dict) else []
        match = next((r for r in results if str(r.get("name", "")).casefold() == name.casefold()), None)
        if match is None:
            if not create:
                raise DeliveryRejected(f"paperless has no {endpoint.rstrip('s').replace('_', ' ')} named {name!r}: "
                                       f"create it in paperless (its type is yours to choose)")
            match = self._call("POST", f"/api/{endpoint}/", json={"name": name})
            log.info("event=paperless_created webhook=%s kind=%s name=%s", self.name, endpoint, name)
        self._ids[key] = int(match["id"])
        if "data_type" in match:
            self._types[self._ids[key]] = str(match["data_type"])
        return self._ids[key]

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Token {self.settings.token.get_secret_value()}", "Accept": "application/json"}
        try:
            response = self.session.request(method, self.base + path, headers=headers, timeout=self.config.timeout,
                                            allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise DeliveryFailed(f"paperless {method} {path}: {type(exc).__name__}") from exc
        status = response.status_code
        if 200 <= status < 300:
            try:
                return response.json()
            except ValueError:
                return response.text.strip()
        if status >= 500 or status in RETRYABLE_STATUS:
            raise DeliveryFailed(f"paperless {method} {path}: HTTP {status}")
        if status in (401, 403):
            raise DeliveryRejected(f"paperless {method} {path}: HTTP {status}: the token is refused")
        raise DeliveryRejected(f"paperless {method} {path}: HTTP {status}: {' '.join(response.text.split())[:200]}")


def _typed(value: Any, data_type: str | None, currency: str | None) -> Any:
    """An extracted value (its JSON form) as a paperless custom field of `data_type` takes it:
    monetary as "EUR1234.56", numbers as numbers, the rest (text, dates in ISO) as they are."""
    if data_type == "monetary":
        return f"{currency or ''}{value}"
    if data_type == "float":
        return float(value)
    if data_type == "integer":
        return int(float(value))
    return value
