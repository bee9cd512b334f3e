"""One IMAP connection for the IMAP source: TLS, login, hierarchy, reconnects with backoff.

Everything imapclient, socket and ssl raise stops here: callers see `SourceUnavailable` (with the
original as `__cause__`) or the result of their operation.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from collections.abc import Callable
from typing import Any, TypeVar

import tenacity
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from connectors.imap.auth import TokenProvider
from connectors.imap.config import ImapSourceConfig
from inbox_ocr.kernel import metrics
from inbox_ocr.kernel.errors import SourceUnavailable

log = logging.getLogger("connectors.imap")
# imapclient's DEBUG protocol trace carries whole messages (and mailbox contents): never wanted in
# our logs, even when the daemon runs at DEBUG.
logging.getLogger("imapclient").setLevel(logging.INFO)
T = TypeVar("T")

# What a broken connection looks like through imapclient (IMAP4.abort is an IMAP4.error, so it
# has to be told apart from a server's NO/BAD answer, which is IMAPClientError).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (imaplib.IMAP4.abort, OSError, EOFError)


class ImapSession:
    """The connection of one source, opened on first use and reopened after a drop."""

    def __init__(
        self,
        config: ImapSourceConfig,
        tokens: TokenProvider | None,
        client_factory: Callable[..., IMAPClient] = IMAPClient,
    ) -> None:
        self.config = config
        self.name = config.name
        self._tokens = tokens
        self._client_factory = client_factory
        self._client: IMAPClient | None = None
        self.selected: str | None = None
        self.select_info: dict[bytes, Any] = {}
        self._capabilities: frozenset[bytes] = frozenset()
        self._delimiter: str | None = "/"
        self._prefix = ""
        self._connected_before = False  # a later connection is a reconnect (metrics)

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)
        if not self.config.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _open(self) -> IMAPClient:
        cfg = self.config
        ctx = self.ssl_context() if cfg.security != "none" else None
        client = self._client_factory(
            cfg.host, port=cfg.server_port, ssl=cfg.security == "ssl", ssl_context=ctx, timeout=cfg.timeout
        )
        try:
            if cfg.security == "starttls":
                client.starttls(ctx)
            self._login(client)
            self._capabilities = frozenset(c.upper() for c in client.capabilities())
            self._learn_hierarchy(client)
        except BaseException:
            _quietly(client.shutdown)
            raise
        log.info(
            "event=imap_connected source=%s host=%s port=%d security=%s move=%s uidplus=%s",
            self.name,
            cfg.host,
            cfg.server_port,
            cfg.security,
            self.has(b"MOVE"),
            self.has(b"UIDPLUS"),
        )
        return client

    def _login(self, client: IMAPClient) -> None:
        cfg = self.config
        if cfg.auth == "password":
            assert cfg.password is not None
            client.login(cfg.username, cfg.password.get_secret_value())
            return
        assert self._tokens is not None
        try:
            client.oauth2_login(cfg.username, self._tokens.access_token())
        except LoginError:
            # A cached token the server no longer likes: one fresh token, then give up.
            client.oauth2_login(cfg.username, self._tokens.access_token(force_refresh=True))

    def _learn_hierarchy(self, client: IMAPClient) -> None:
        listing = client.list_folders("", "")
        delim = listing[0][1] if listing else b"/"
        self._delimiter = delim.decode() if isinstance(delim, bytes) else delim
        self._prefix = ""
        if self.has(b"NAMESPACE"):
            personal = client.namespace().personal
            if personal:
                self._prefix = personal[0][0] if isinstance(personal[0][0], str) else personal[0][0].decode()

    def has(self, capability: bytes) -> bool:
        return capability in self._capabilities

    def connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.config.reconnect_attempts),
            wait=tenacity.wait_random_exponential(
                multiplier=self.config.reconnect_backoff, max=self.config.reconnect_max_backoff
            ),
            # A certificate that does not verify will not verify on the next attempt either.
            retry=tenacity.retry_if_exception(
                lambda e: isinstance(e, CONNECTION_ERRORS) and not isinstance(e, ssl.SSLCertVerificationError)
            ),
            before_sleep=lambda rs: log.warning(
                "event=imap_reconnect_wait source=%s attempt=%d error=%s",
                self.name,
                rs.attempt_number,
                type(rs.outcome.exception()).__name__ if rs.outcome else "?",
            ),
            reraise=True,
        )
        try:
            self._client = retrying(self._open)
        except LoginError as exc:
            raise SourceUnavailable(f"{self.name}: login refused for {self.config.username}: {brief(exc)}") from exc
        except ssl.SSLError as exc:
            raise SourceUnavailable(f"{self.name}: TLS failed with {self.config.host}: {brief(exc)}") from exc
        except CONNECTION_ERRORS as exc:
            raise SourceUnavailable(
                f"{self.name}: cannot reach {self.config.host}:{self.config.server_port}: {brief(exc)}"
            ) from exc
        except IMAPClientError as exc:
            raise SourceUnavailable(f"{self.name}: server refused the session: {brief(exc)}") from exc
        self.selected = None
        if self._connected_before:
            metrics.IMAP_RECONNECTS.labels(self.name).inc()
        self._connected_before = True
        return self._client

    def drop(self) -> None:
        if self._client is not None:
            _quietly(self._client.shutdown)
        self._client = None
        self.selected = None

    def run(self, what: str, op: Callable[[IMAPClient], T]) -> T:
        """Run one operation; on a dropped connection reconnect (with backoff) and retry it once."""
        for attempt in (1, 2):
            client = self.connect()
            try:
                return op(client)
            except CONNECTION_ERRORS as exc:
                self.drop()
                if attempt == 2:
                    raise SourceUnavailable(f"{self.name}: connection lost during {what}: {brief(exc)}") from exc
                log.warning("event=imap_connection_lost source=%s during=%s error=%s", self.name, what, brief(exc))
            except IMAPClientError as exc:
                raise SourceUnavailable(f"{self.name}: {what} refused: {brief(exc)}") from exc
        raise AssertionError("unreachable")

    def select(self, client: IMAPClient, folder: str, fresh: bool = False) -> dict[bytes, Any]:
        """SELECT `folder` unless it is selected; `fresh` for current UIDVALIDITY/UIDNEXT/PERMANENTFLAGS."""
        if fresh or self.selected != folder:
            self.select_info = client.select_folder(self.server_name(folder))
            self.selected = folder
        return self.select_info

    def server_name(self, folder: str) -> str:
        """Config name ('Invoices/2024') to the server's ('INBOX.Invoices.2024' on Courier); imapclient
        then encodes it in modified UTF-7."""
        if folder.upper() == "INBOX":
            return "INBOX"
        name = folder.replace("/", self._delimiter) if self._delimiter else folder
        if self._prefix and not name.startswith(self._prefix):
            name = self._prefix + name
        return name

    def close(self) -> None:
        if self._client is not None:
            _quietly(self._client.logout)
        self.drop()


def brief(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]


def _quietly(fn: Callable[[], Any]) -> None:
    with contextlib.suppress(Exception):  # closing a connection that is already gone
        fn()
