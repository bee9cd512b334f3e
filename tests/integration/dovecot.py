"""A real, throwaway Dovecot for the integration tests.

`Dovecot.start(...)` writes a config into a fresh temporary directory (passwd-file user, Maildir
under that directory, a CA and a server certificate generated here with `cryptography`), starts
`dovecot -F` on free loopback ports and waits until it greets. `restart()` keeps the mail and the
ports, which is what the reconnect tests need.

Debian's Dovecot started as root refuses to start imap-login unless the login and internal users
exist (`dovenull`, `dovecot`) and the mail is owned by an unprivileged user; run as an ordinary
user, everything runs as that user.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "finance"
PASSWORD = "s3cret-Pa55"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1/localhost signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "inbox-ocr test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


@dataclass
class Dovecot:
    """One running Dovecot. `port` is plain IMAP (STARTTLS offered), `ssl_port` implicit TLS."""

    root: Path
    port: int
    ssl_port: int
    ca_file: Path
    capabilities: str | None = None  # an explicit capability list, e.g. one without MOVE
    oauth_url: str | None = None  # XOAUTH2 tokens checked by GET with "Authorization: Bearer" here
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    user: str = USER
    password: str = PASSWORD

    @classmethod
    def start(cls, capabilities: str | None = None, oauth_url: str | None = None) -> Dovecot:
        if not Path(DOVECOT).exists():
            raise FileNotFoundError(f"{DOVECOT} not found: apt-get install dovecot-imapd")
        # Not under pytest's 0700 tmp dirs: the unprivileged Dovecot processes must reach the mail.
        root = Path(tempfile.mkdtemp(prefix="inbox-ocr-dovecot-"))
        root.chmod(0o755)
        ca_file, _, _ = _write_certificates(root)
        server = cls(
            root=root,
            port=free_port(),
            ssl_port=free_port(),
            ca_file=ca_file,
            capabilities=capabilities,
            oauth_url=oauth_url,
        )
        server._write_config()
        server._spawn()
        return server

    @property
    def mail_dir(self) -> Path:
        return self.root / "mail" / self.user

    @property
    def log_file(self) -> Path:
        return self.root / "dovecot.log"

    def _write_config(self) -> None:
        if os.geteuid() == 0:
            mail_user = pwd.getpwnam("dovecot")
            login_user, internal_user = "dovenull", "dovecot"
        else:
            mail_user = pwd.getpwuid(os.geteuid())
            login_user = internal_user = mail_user.pw_name
        # Rootless Dovecot cannot chroot its login processes (Dovecot's "rootless installation").
        no_chroot = "" if os.geteuid() == 0 else "  chroot =\n"
        (self.root / "run").mkdir(exist_ok=True)
        (self.root / "state").mkdir(exist_ok=True)
        mail = self.root / "mail"
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        for path in (mail, self.mail_dir):
            os.chown(path, mail_user.pw_uid, mail_user.pw_gid)
        (self.root / "passwd").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{mail_user.pw_uid}:{mail_user.pw_gid}::{self.mail_dir}::\n"
        )
        dh = Path("/usr/share/dovecot/dh.pem")
        caps = f"imap_capability = {self.capabilities}\n" if self.capabilities else ""
        oauth = ""
        if self.oauth_url:
            (self.root / "oauth2.conf").write_text(
                f"introspection_mode = auth\nintrospection_url = {self.oauth_url}\nusername_attribute = email\n"
            )
            oauth = (
                f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {self.root}/oauth2.conf\n}}\n"
            )
        (self.root / "dovecot.conf").write_text(f"""\
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = inbox-ocr-test-{self.port}
log_path = {self.log_file}
protocols = imap
listen = 127.0.0.1
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {min(mail_user.pw_uid, 100)}
first_valid_gid = {min(mail_user.pw_gid, 100)}
mail_location = maildir:{self.mail_dir}
mail_max_userip_connections = 200
# throwaway mail: no fsync per message (thousands are appended in the tests)
mail_fsync = never
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.oauth_url else ""}
ssl = yes
ssl_cert = <{self.root}/server.pem
ssl_key = <{self.root}/server.key
{f"ssl_dh = <{dh}" if dh.exists() else ""}
{caps}
imap_idle_notify_interval = 1 secs
{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {self.root}/passwd
}}
namespace inbox {{
  inbox = yes
  separator = .
}}
service anvil {{
{no_chroot}}}
service imap-login {{
{no_chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.ssl_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Its own process group: imap processes outlive the master, and a restart must drop them.
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited with {self.process.returncode}: {err}\n{self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(2)
                    if s.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not greet on port {self.port}\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server; clients see their connections drop."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the group of the master we started
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self._spawn()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
