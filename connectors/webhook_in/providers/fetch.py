"""Attachment URLs (Front, Zendesk, Help Scout, Mailgun stored messages): fetched over https from
allowed hosts and ports only, with the source's API token, bounded in size and time."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterable
from urllib.parse import urljoin

import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from connectors.httpguard import HostRule, Resolver, UnsafeUrl, check_allowed, system_resolver
from connectors.webhook_in.config import WebhookSourceConfig
from connectors.webhook_in.providers import WebhookError
from connectors.webhook_in.providers.common import AttachmentData, clean

log = logging.getLogger("connectors.webhook_in")

USER_AGENT = "inbox-ocr/0.1 (attachment fetch)"


class AttachmentFetcher:
    """GET an attachment URL with the source's API token, bounded in size and time. The URL must be
    https, on a host and port of `allowed_hosts` (connectors/httpguard.py: decided on what the HTTP
    client connects to, a name resolving to public addresses only). The token goes with the first
    request only: a redirect (object stores answer with pre-signed ones) is followed, to an allowed
    host again, without it."""

    MAX_REDIRECTS = 3

    def __init__(
        self,
        config: WebhookSourceConfig,
        session: requests.Session | None = None,
        resolve: Resolver = system_resolver,
    ) -> None:
        self.config = config
        self.rules = [HostRule.parse(entry) for entry in config.allowed_hosts]
        self.resolve = resolve
        self.session = session or requests.Session()
        self.session.trust_env = False  # no proxy from the environment for URLs a provider handed us
        if config.ca_file is not None:
            self.session.verify = str(config.ca_file)

    def host_allowed(self, url: str) -> bool:
        try:
            check_allowed(url, self.rules, self.resolve)
        except UnsafeUrl:
            return False
        return True

    def _auth_headers(self) -> dict[str, str]:
        if self.config.api_token is None:
            return {}
        token = self.config.api_token.get_secret_value()
        if self.config.api_user:
            pair = base64.b64encode(f"{self.config.api_user}:{token}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {"Authorization": f"Bearer {token}"}

    def fetch(self, url: str, accept: str = "*/*") -> tuple[bytes, str]:
        """The bytes and Content-Type at `url`. Raises WebhookError: 422 for a URL we must not
        fetch or a file over the limit (retrying will not help), 503 for a failure worth retrying."""
        try:
            check_allowed(url, self.rules, self.resolve)
        except UnsafeUrl as exc:
            raise WebhookError(422, f"attachment URL {_redact(url)} refused: {exc}") from exc
        deadline = time.monotonic() + self.config.fetch_timeout
        for hop in range(self.MAX_REDIRECTS + 1):
            headers = {"User-Agent": USER_AGENT, "Accept": accept}
            if hop == 0:
                headers.update(self._auth_headers())
            try:
                response = self.session.get(
                    url,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(min(10.0, self.config.fetch_timeout), self.config.fetch_timeout),
                )
            except requests.RequestException as exc:
                raise WebhookError(503, f"attachment fetch failed: {type(exc).__name__}", retry_after=30) from exc
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location", ""))
                    try:
                        check_allowed(url, self.rules, self.resolve)
                    except UnsafeUrl as exc:
                        raise WebhookError(422, f"attachment redirect to {_redact(url)} refused: {exc}") from exc
                    continue
                if response.status_code >= 500 or response.status_code in (408, 429):
                    raise WebhookError(503, f"attachment fetch: HTTP {response.status_code}", retry_after=30)
                if response.status_code != 200:
                    raise WebhookError(422, f"attachment fetch: HTTP {response.status_code} for {_redact(url)}")
                return self._read(response, deadline), response.headers.get("Content-Type", "")
        raise WebhookError(422, f"attachment fetch: more than {self.MAX_REDIRECTS} redirects")

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        limit = self.config.max_fetch_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise WebhookError(422, f"attachment of {declared} bytes is over max_fetch_bytes ({limit})")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise WebhookError(422, f"attachment is over max_fetch_bytes ({limit})")
                if time.monotonic() > deadline:
                    raise WebhookError(503, "attachment fetch took longer than fetch_timeout", retry_after=60)
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise WebhookError(503, f"attachment fetch failed: {type(exc).__name__}", retry_after=30) from exc
        return b"".join(chunks)

    def fetch_all(self, items: Iterable[tuple[str, str, str]]) -> tuple[list[AttachmentData], list[str]]:
        """Fetch (url, filename, content_type) items. An attachment we must not fetch (host not
        allowed, over the size limit) is left out with a note, so the message still arrives and
        rules can send it to a person; a failure worth retrying raises (the provider retries)."""
        out: list[AttachmentData] = []
        notes: list[str] = []
        for url, filename, content_type in items:
            try:
                data, got_type = self.fetch(url)
            except WebhookError as exc:
                if exc.status == 503:
                    raise
                log.warning(
                    "event=attachment_skipped source=%s file=%s reason=%s",
                    self.config.name,
                    clean(filename)[:80],
                    exc.reason,
                )
                notes.append(f"attachment {filename!r} skipped: {exc.reason}")
                continue
            out.append(AttachmentData(filename or "attachment", content_type or got_type.split(";")[0], data))
        return out, notes


def _redact(url: str) -> str:
    """Scheme, host and path only: query strings of pre-signed URLs carry credentials."""
    try:
        parts = parse_url(url)
    except LocationParseError:
        return "(unparseable URL)"
    return f"{parts.scheme}://{parts.host or '?'}{parts.path or ''}"
