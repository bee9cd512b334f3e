"""Who may use the web UI: users with bcrypt password hashes, sessions in signed cookies, and a
CSRF token in every form.

Users come from `http.users` (name -> hash) and `http.users_file` (`name:hash` lines, the format
of `htpasswd -B`). A login puts the user's name and a random CSRF token into the session, a
cookie that Starlette's SessionMiddleware signs (itsdangerous) with `http.session_secret` or a key
generated once into state_dir/session.key; every POST of the UI must send the token back.
Passwords and hashes never reach a log line (the hashes are config secrets, masked like the rest).
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path

from inbox_ocr.app.config import BCRYPT_HASH, Config
from inbox_ocr.kernel.errors import ConfigError

log = logging.getLogger("inbox_ocr.web")

# checked when the name is unknown, so that a wrong name costs the same time as a wrong password
_DUMMY = b"$2b$12$C6UzMDM.H6dfI/f/IKxGhuUMOeDl0DbjTADdp1v1FUK3PQYkb1nWu"


def hash_password(password: str, rounds: int = 12) -> str:
    """A bcrypt hash of `password` for http.users."""
    import bcrypt

    if len(password.encode()) > 72:
        raise ValueError("bcrypt reads at most 72 bytes of a password; choose a shorter one")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def load_users(config: Config) -> dict[str, bytes]:
    """Every user of the web UI with their hash. Raises ConfigError for an unreadable users_file
    or a line in it that is not `name:bcrypt-hash`."""
    users = {name: hashed.get_secret_value().encode() for name, hashed in config.http.users.items()}
    path = config.http.users_file
    if path is None:
        return users
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(str(path), [f"http.users_file: cannot read it: {exc.strerror or exc}"]) from exc
    problems = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, hashed = line.partition(":")
        if not name or not BCRYPT_HASH.match(hashed):
            problems.append(f"line {number}: not `name:bcrypt-hash` (make a hash with `inbox-ocr hash-password`)")
            continue
        users[name] = hashed.encode()
    if problems:
        raise ConfigError(str(path), problems)
    return users


def check_password(users: dict[str, bytes], name: str, password: str) -> bool:
    import bcrypt

    hashed = users.get(name)
    try:
        ok = bcrypt.checkpw(password.encode()[:72], hashed or _DUMMY)
    except ValueError:  # a malformed hash
        ok = False
    return ok and hashed is not None


def session_secret(config: Config) -> str:
    """The key that signs session cookies: the configured one, else one generated into the state
    directory (0600) on first use, so that logins survive a restart."""
    if config.http.session_secret is not None:
        return config.http.session_secret.get_secret_value()
    path = Path(config.state_dir) / "session.key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it meanwhile
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    log.info("event=session_key_created path=%s", path)
    return key


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(session_token: object, sent: object) -> bool:
    return (isinstance(session_token, str) and isinstance(sent, str) and bool(session_token)
            and hmac.compare_digest(session_token.encode(), sent.encode()))
