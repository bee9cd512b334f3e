"""What the fault tests share: a cuttable TCP proxy, a daemon run as a real process, a mailbox of
invoices and plain mail on a real Dovecot, and the exactly-once audit that every fault test ends with.

`TcpProxy` sits on loopback between the daemon and a server (Dovecot, a webhook receiver). It can
be taken down and brought back on the same port, and it can cut every connection the moment the
client sends a command matching a pattern (`cut_on(b"UID FETCH")`), either before the server sees
the command or after the server has executed it but before the client reads the answer — the
nastiest moment for a MOVE.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import requests
import yaml
from imapclient import IMAPClient

from inbox_ocr.app.samples import SampleMessage, build_message, invoice_doc, render_pdf

ROOT = Path(__file__).resolve().parents[2]
SOAK = os.environ.get("INBOX_OCR_SOAK") == "1"


def srv(folder: str) -> str:
    """Config folder name ('T1/Eingang') to Dovecot's ('T1.Eingang', separator '.')."""
    return folder.replace("/", ".")


# --------------------------------------------------------------------------- TCP proxy


@dataclass
class TcpProxy:
    """A loopback TCP proxy to `target_port` that a test can cut or take down."""

    target_port: int
    port: int = 0
    cuts: int = 0
    connections: int = 0
    _rules: list[list[Any]] = field(default_factory=list)  # [pattern, remaining, after_server]
    _listener: socket.socket | None = None
    _open: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        """Stop listening and drop every open connection: the server looks gone."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self.cut_all()

    def up(self) -> None:
        """Listen again on the same port."""
        if self._listener is None:
            self.start()

    def cut_on(self, pattern: bytes, times: int = 1, after_server: bool = False) -> None:
        """Cut the connection when the client sends `pattern`: before the server gets the command,
        or (`after_server`) once the server has answered it, before the client sees the answer."""
        with self._lock:
            self._rules.append([pattern, times, after_server])

    def cut_all(self) -> None:
        with self._lock:
            socks, self._open = list(self._open), set()
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, server}
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _match(self, data: bytes) -> list[Any] | None:
        with self._lock:
            for rule in self._rules:
                if rule[1] > 0 and rule[0] in data:
                    rule[1] -= 1
                    return rule
        return None

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        cut_after: float | None = None  # when set: drop once the server had this long to answer
        try:
            while True:
                timeout = None if cut_after is None else max(0.0, cut_after - time.monotonic())
                ready, _, _ = select.select([client, server], [], [], timeout)
                if cut_after is not None and time.monotonic() >= cut_after:
                    break
                if client in ready:
                    data = client.recv(65536)
                    if not data:
                        break
                    rule = self._match(data)
                    if rule is not None and not rule[2]:
                        self.cuts += 1
                        break  # the server never sees this command
                    server.sendall(data)
                    if rule is not None:
                        self.cuts += 1
                        # let the server execute the command; its answer is swallowed
                        time.sleep(0.3)
                        break
                if server in ready:
                    data = server.recv(65536)
                    if not data:
                        break
                    client.sendall(data)
        except OSError:
            pass
        finally:
            for s in (client, server):
                with self._lock:
                    self._open.discard(s)
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


# --------------------------------------------------------------------------- mailbox


@dataclass(frozen=True)
class Mailbox:
    """The folders of one fault test on the shared Dovecot, and what was put into them."""

    base: str
    invoices: dict[str, bytes]  # Message-ID -> message: routed to Invoices with a webhook
    others: dict[str, bytes]  # Message-ID -> message: routed to Processed, no webhook

    @property
    def inbox(self) -> str:
        return f"{self.base}/Eingang"


def make_mailbox(base: str, invoices: int, others: int) -> Mailbox:
    pdf = render_pdf(invoice_doc(number=f"INV-{base}"))
    inv: dict[str, bytes] = {}
    for i in range(invoices):
        attachment = ((f"INV-{base}-{i}.pdf", "application/pdf", pdf),)
        raw = build_message(SampleMessage(f"{base}-inv-{i}", f"Invoice {base}-{i}", "Acme <billing@acme.example>",
                                          "Our invoice is attached.", attachment))
        inv[_message_id(raw)] = raw
    oth: dict[str, bytes] = {}
    for i in range(others):
        raw = build_message(SampleMessage(f"{base}-note-{i}", f"Lunch {base}-{i}", "Colleague <c@company.example>",
                                          "See you at noon.", ()))
        oth[_message_id(raw)] = raw
    return Mailbox(base, inv, oth)


def _message_id(raw: bytes) -> str:
    mid = BytesHeaderParser().parsebytes(raw)["Message-ID"]
    assert mid, "sample messages carry a Message-ID"
    return str(mid).strip()


def fill(admin: IMAPClient, box: Mailbox) -> None:
    folder = srv(box.inbox)
    if not admin.folder_exists(folder):
        admin.create_folder(folder)
    mails = list(box.invoices.values()) + list(box.others.values())
    random.Random(box.base).shuffle(mails)
    for i in range(0, len(mails), 100):
        admin.multiappend(folder, mails[i:i + 100])


def message_ids(admin: IMAPClient, folder: str) -> list[str]:
    """Message-IDs of the undeleted messages in a folder, with repeats (a duplicate shows twice)."""
    if not admin.folder_exists(srv(folder)):
        return []
    admin.select_folder(srv(folder), readonly=True)
    uids = admin.search(["UNDELETED"])
    if not uids:
        return []
    data = admin.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    out = []
    for item in data.values():
        header = item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"]
        out.append(str(BytesHeaderParser().parsebytes(header)["Message-ID"]).strip())
    return out


# --------------------------------------------------------------------------- config and daemon


def write_config(path: Path, *, state_dir: Path, imap_port: int, ca_file: Path | None, box: Mailbox,
                 webhook_url: str, secret: str, password_env: str = "FAULT_IMAP_PASSWORD",
                 security: str = "ssl", extra: dict[str, Any] | None = None, **source: Any) -> Path:
    data: dict[str, Any] = {
        "state_dir": str(state_dir),
        "sources": [{
            "name": "finance", "type": "imap", "host": "127.0.0.1", "port": imap_port, "security": security,
            "username": "finance", "password": "${" + password_env + "}",
            **({"ca_file": str(ca_file)} if ca_file else {}),
            "folders": [box.inbox], "mode": "poll", "poll_every": "1s", "batch_size": 5, "fetch_batch": 5,
            "reconnect_backoff": "100ms", "reconnect_max_backoff": "1s", "reconnect_attempts": 20, "timeout": 10,
            "quarantine_folder": f"{box.base}/Quarantine", **source,
        }],
        "webhooks": {"erp": {"url": webhook_url, "secret": secret, "backoff": "200ms", "max_backoff": "2s",
                             "max_attempts": 1000, "breaker_failures": 1000, "breaker_cooldown": "1s",
                             "timeout": "5s"}},
        "rules": [{"name": "invoices", "when": {"subject": "Invoice *", "has_attachment": True},
                   "then": [{"move": f"{box.base}/Invoices"}, {"keyword": "invoice"}, {"webhook": "erp"}],
                   "stop": True}],
        "default": [{"move": f"{box.base}/Processed"}],
        "ocr": {"enabled": False},
        "log": {"level": "INFO"},
        **(extra or {}),
    }
    path.write_text(yaml.safe_dump(data))
    return path


def daemon_env(password: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "FAULT_IMAP_PASSWORD": password}


_SPAWNED: list[subprocess.Popen[bytes]] = []


def spawn_daemon(config: Path, env: dict[str, str], log: Path, once: bool = False) -> subprocess.Popen[bytes]:
    """A daemon in a process group of its own; `kill_leftovers` (an autouse fixture of the fault
    tests) ends any that a failing or timed-out test leaves behind."""
    args = [sys.executable, str(ROOT / "run_daemon.py"), "--config", str(config)] + (["--once"] if once else [])
    with log.open("ab") as out:
        proc = subprocess.Popen(args, cwd=config.parent, env=env, stdout=out, stderr=out, start_new_session=True)
    _SPAWNED.append(proc)
    return proc


def kill_leftovers() -> int:
    """SIGKILL every daemon spawned here that still runs (with its reader workers); returns how many."""
    left = [p for p in _SPAWNED if p.poll() is None]
    for proc in left:
        kill9(proc)
    _SPAWNED.clear()
    return len(left)


def kill9(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the daemon's whole process group (it and any reader worker), as a crash would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def ledger_rows(state_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    path = state_dir / "ledger.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:  # schema not created yet (killed during start-up)
        return []
    finally:
        db.close()


def integrity(state_dir: Path) -> str:
    db = sqlite3.connect(state_dir / "ledger.sqlite3")
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def last_run(config: Path, env: dict[str, str], log: Path, done: Callable[[], bool], what: str) -> None:
    """After the kills: start the daemon once more, wait (at most 240 s) until `done()`, then stop
    it with SIGTERM as a service manager would."""
    proc = spawn_daemon(config, env, log)
    try:
        wait_until(done, 240, what)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def outbox_drained(state_dir: Path) -> bool:
    """Every outbox row of the ledger is delivered."""
    return not ledger_rows(state_dir, "SELECT 1 FROM outbox WHERE status != 'delivered'")



# --------------------------------------------------------------------------- the audit


@dataclass
class Audit:
    lost: list[str]
    duplicated: list[str]
    misrouted: list[str]
    deliveries_missing: list[str]
    deliveries_unexpected: list[str]
    routed: int
    accepted: int

    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.misrouted or self.deliveries_missing
                    or self.deliveries_unexpected)


def audit(admin: IMAPClient, box: Mailbox, state_dir: Path, accepted: dict[str, Any],
          rows: Callable[[str], list[tuple[Any, ...]]] | None = None) -> Audit:
    """Every message exactly once in the folder its rule chose; every webhook action accepted once.

    `accepted` is the receiver's map Idempotency-Key -> first accepted request: a receiver dedupes,
    so a key delivered twice (a crash after the POST, before the ledger noted it) counts once; what
    must hold is that the keys accepted are exactly the outbox rows of the routed invoices."""
    placed: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for folder in (box.inbox, f"{box.base}/Invoices", f"{box.base}/Processed", f"{box.base}/Quarantine"):
        for mid in message_ids(admin, folder):
            placed[mid] += 1
            where.setdefault(mid, []).append(folder)
    everything = {**box.invoices, **box.others}
    lost = [m for m in everything if placed[m] == 0 or where[m] == [box.inbox]]
    duplicated = [m for m, n in placed.items() if n > 1]
    misrouted = [m for m in box.invoices if where.get(m) not in (None, [f"{box.base}/Invoices"])]
    misrouted += [m for m in box.others if where.get(m) not in (None, [f"{box.base}/Processed"])]
    query = rows or (lambda sql: ledger_rows(state_dir, sql))  # `rows`: another ledger (PostgreSQL)
    expected = {r[0]: r[1] for r in query(
        "SELECT o.idempotency_key, m.message_id FROM outbox o JOIN messages m ON m.id = o.message")}
    # one outbox row per invoice, none for the others
    per_message = Counter(expected.values())
    deliveries_missing = [k for k in expected if k not in accepted]
    deliveries_missing += [m for m in box.invoices if per_message[m] != 1]
    deliveries_unexpected = [k for k in accepted if k not in expected]
    deliveries_unexpected += [m for m in box.others if per_message[m]]
    return Audit(lost, duplicated, sorted(set(misrouted)), deliveries_missing, deliveries_unexpected,
                 routed=sum(placed.values()) - len([m for m in placed if where[m] == [box.inbox]]),
                 accepted=len(accepted))


def free_port() -> int:
    """A loopback port nothing listens on right now (for a daemon's HTTP server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_up(port: int) -> bool:
    """Whether the daemon's HTTP server on `port` answers /healthz."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False
