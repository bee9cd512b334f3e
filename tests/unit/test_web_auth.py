"""Web UI access: bcrypt users from the config and a users file, the non-loopback rule, CSRF
tokens, the session key, and where a login may send the browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_ocr.app.config import parse_config
from inbox_ocr.app.web.auth import check_password, csrf_ok, hash_password, load_users, session_secret
from inbox_ocr.app.web.views import _safe_next
from inbox_ocr.kernel.errors import ConfigError

SOURCE = [{"name": "box", "type": "maildir", "path": "unused"}]


def config(tmp_path: Path, **http: object):  # type: ignore[no-untyped-def]
    return parse_config({"state_dir": str(tmp_path / "var"), "sources": SOURCE, "http": http})


def test_users_from_the_config_and_a_htpasswd_file_log_in_with_their_password_only(tmp_path: Path) -> None:
    alice = hash_password("alice-pw", rounds=4)
    bob = hash_password("bob-pw", rounds=4).replace("$2b$", "$2y$", 1)  # as `htpasswd -B` writes it
    users_file = tmp_path / "users"
    users_file.write_text(f"# people of accounts payable\nbob:{bob}\n\n")
    users = load_users(config(tmp_path, users={"alice": alice}, users_file=str(users_file)))
    assert set(users) == {"alice", "bob"}
    assert check_password(users, "alice", "alice-pw") and check_password(users, "bob", "bob-pw")
    assert not check_password(users, "alice", "bob-pw")
    assert not check_password(users, "carol", "alice-pw")
    assert not check_password(users, "alice", "")


def test_a_password_instead_of_a_hash_and_a_bad_users_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="users.alice: not a bcrypt hash"):
        config(tmp_path, users={"alice": "hunter2"})
    users_file = tmp_path / "users"
    users_file.write_text("alice:hunter2\n")
    with pytest.raises(ConfigError, match="line 1: not `name:bcrypt-hash`"):
        load_users(config(tmp_path, users_file=str(users_file)))
    with pytest.raises(ConfigError, match="cannot read it"):
        load_users(config(tmp_path, users_file=str(tmp_path / "missing")))


def test_a_server_reachable_from_other_machines_needs_users_or_tokens(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="0.0.0.0 is reachable from other machines"):
        config(tmp_path, host="0.0.0.0", enabled=True)
    assert config(tmp_path, host="127.0.0.1", enabled=True).http.serves_ui is False
    assert config(tmp_path, host="::1").http.host == "::1"
    assert config(tmp_path, host="0.0.0.0", api_tokens=["t0ken-for-programs"]).http.serves_ui is False
    assert config(tmp_path, host="0.0.0.0", users={"a": hash_password("x", rounds=4)}).http.serves_ui


def test_csrf_tokens_must_match_and_exist() -> None:
    assert csrf_ok("abc", "abc")
    assert not csrf_ok("abc", "abd") and not csrf_ok("abc", None) and not csrf_ok(None, None)
    assert not csrf_ok("", "")


def test_the_session_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    first = session_secret(cfg)
    assert session_secret(cfg) == first and len(first) >= 48
    assert (Path(cfg.state_dir) / "session.key").stat().st_mode & 0o077 == 0
    assert session_secret(config(tmp_path, session_secret="configured-secret-value")) == "configured-secret-value"


@pytest.mark.parametrize(("target", "expected"), [
    ("/review/3", "/review/3"), ("/messages?q=acme", "/messages?q=acme"), (None, "/review"),
    ("https://evil.example/", "/review"), ("//evil.example/x", "/review"), ("/\\evil.example", "/review"),
])
def test_a_login_only_sends_the_browser_to_a_page_of_this_site(target: str | None, expected: str) -> None:
    assert _safe_next(target) == expected


def test_hash_password_prints_a_hash_that_logs_in(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from inbox_ocr.app.cli import main

    result = CliRunner().invoke(main, ["hash-password", "--rounds", "4"], input="s3cret pass\n")
    assert result.exit_code == 0, result.output
    hashed = result.output.strip()
    assert check_password({"alice": hashed.encode()}, "alice", "s3cret pass")
    assert CliRunner().invoke(main, ["hash-password"], input="\n").exit_code == 2


def test_check_config_names_a_review_rule_nobody_could_review(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from inbox_ocr.app.cli import main

    path = tmp_path / "c.yaml"
    path.write_text("sources: [{name: box, type: maildir, path: ./m}]\n"
                    "rules: [{name: big, when: {total_gt: 100}, then: [{review: big}]}]\n")
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 2 and "no http.users are configured" in result.output
