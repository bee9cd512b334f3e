"""Config loading: every error names the file and the key path; secrets come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from inbox_ocr.app.cli import main
from inbox_ocr.app.config import load_config, parse_config, secret_values
from inbox_ocr.kernel.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
BASE = {"sources": [{"name": "drop", "type": "maildir", "path": "./Maildir"}]}


def problems(data: object, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "cfg.yaml", env or {})
    assert info.value.file == "cfg.yaml"
    return info.value.problems


def test_shipped_configs_are_valid() -> None:
    env = {"FINANCE_IMAP_PASSWORD": "pw-123456", "ERP_HMAC_SECRET": "s3cret-value"}
    example = load_config(ROOT / "config" / "example.yaml", env)
    assert [s.name for s in example.sources] == ["finance", "drop"]
    assert example.sources[0].poll_every == 60.0
    assert example.rules[0].when.total_gt == 10000
    assert set(secret_values(example)) == {
        "pw-123456", "s3cret-value",
        "ap@example.com:pw-123456", "\0ap@example.com\0pw-123456",  # as IMAP PLAIN and Basic send them
    }
    demo = load_config(ROOT / "config" / "demo.yaml", {})
    assert demo.webhooks["erp"].url.startswith("file://")


def test_unknown_key_names_its_path() -> None:
    data = {**BASE, "rules": [{"name": "r", "when": {"doc_typ": "invoice"}, "then": ["flag"]}]}
    assert problems(data) == ["rules[0].when.doc_typ: unknown key (did you mean 'doc_type'?)"]


def test_bad_value_names_its_path() -> None:
    data = {**BASE, "rules": [{"name": "a", "then": ["flag"]}, {"name": "b", "then": ["flag"]},
                              {"name": "c", "when": {"total_gt": "lots"}, "then": ["flag"]}]}
    (problem,) = problems(data)
    assert problem.startswith("rules[2].when.total_gt: ")


def test_unknown_source_field_inside_union_has_clean_path() -> None:
    data = {"sources": [{"name": "f", "type": "imap", "host": "h", "username": "u", "pasword": "x"}]}
    assert problems(data) == ["sources[0].pasword: unknown key (did you mean 'password'?)"]


def test_unknown_source_type() -> None:
    (problem,) = problems({"sources": [{"name": "f", "type": "pop3"}]})
    assert problem.startswith("sources[0]") and "pop3" in problem


def test_several_problems_reported_together() -> None:
    data = {**BASE, "bogus": 1, "rules": [{"name": "r", "then": [{"frob": "x"}]}]}
    got = problems(data)
    assert "bogus: unknown key" in got
    assert any(p.startswith("rules[0].then[0]: unknown action 'frob'") for p in got)


def test_action_reference_to_missing_webhook() -> None:
    data = {**BASE, "webhooks": {"erp": {"url": "https://erp.example/x"}},
            "rules": [{"name": "r", "then": [{"webhook": "ticket"}]}]}
    assert problems(data) == ["rules[0].then[0].webhook: no webhook named 'ticket' (defined: erp)"]


def test_default_reference_to_missing_webhook() -> None:
    data = {**BASE, "webhooks": {"erp": {"url": "https://erp.example/x"}}, "default": ["flag", {"webhook": "crm"}]}
    assert problems(data) == ["default[1].webhook: no webhook named 'crm' (defined: erp)"]


def test_env_var_substitution_and_missing_var() -> None:
    data = {**BASE, "webhooks": {"erp": {"url": "https://erp.example/x", "secret": "${ERP_SECRET}"}}}
    cfg = parse_config(data, "cfg.yaml", {"ERP_SECRET": "abc123xyz"})
    assert cfg.webhooks["erp"].secret is not None
    assert cfg.webhooks["erp"].secret.get_secret_value() == "abc123xyz"
    assert "abc123xyz" not in repr(cfg)  # secrets never show in reprs (and so in logs)
    assert problems(data) == ["webhooks.erp.secret: environment variable ERP_SECRET is not set"]
    with_default = {**BASE, "state_dir": "${STATE:-/tmp/x}"}
    assert str(parse_config(with_default, "c", {}).state_dir) == "/tmp/x"


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90.0), ("5m", 300.0), ("1h", 3600.0), (45, 45.0),
                                               ("250ms", 0.25)])
def test_durations(text: object, seconds: float) -> None:
    cfg = parse_config({"sources": [{**BASE["sources"][0], "poll_every": text}]}, "c", {})
    assert cfg.sources[0].poll_every == seconds


def test_bad_duration_and_bad_regex() -> None:
    data = {"sources": [{**BASE["sources"][0], "poll_every": "soon"}],
            "rules": [{"name": "r", "when": {"subject": {"regex": "(unclosed"}}, "then": ["flag"]}]}
    got = problems(data)
    assert any(p.startswith("sources[0].poll_every: not a duration") for p in got)
    assert any(p.startswith("rules[0].when.subject[0]: bad regex") for p in got)


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("sources:\n  - name: x\n    type: [maildir\n")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    assert "line" in str(info.value) and str(f) in str(info.value)


def test_check_config_command(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("sources:\n  - {name: drop, type: maildir, path: ./M}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - {name: drop, type: maildir, path: ./M}\nrules:\n  - {name: r, then: [flag], "
                   "when: {total_gt: x}}\n")
    runner = CliRunner()
    ok = runner.invoke(main, ["check-config", str(good)])
    assert ok.exit_code == 0 and "OK" in ok.output
    ko = runner.invoke(main, ["check-config", str(bad)])
    assert ko.exit_code != 0
    assert f"{bad}: rules[0].when.total_gt" in ko.output


def test_the_default_state_directory_is_systemds_or_the_users_not_the_working_one(tmp_path: Path) -> None:
    from inbox_ocr.app.config import default_state_dir

    assert default_state_dir({"STATE_DIRECTORY": "/var/lib/inbox-ocr:/var/lib/other"}) == Path("/var/lib/inbox-ocr")
    assert default_state_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "inbox-ocr"
    assert default_state_dir({}) == Path.home() / ".local" / "share" / "inbox-ocr"


def test_a_shared_folder_is_not_taken_as_the_state_directory(tmp_path: Path) -> None:
    import os
    import stat

    from inbox_ocr.app.wiring import open_ledger

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    (shared / "someone-elses.txt").write_text("x")
    os.chmod(shared, 0o755)
    config = parse_config({"state_dir": str(shared), "sources": [{"name": "m", "type": "maildir", "path": "x"}]})
    with pytest.raises(ConfigError, match="holds other files"):
        open_ledger(config)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    source = {"name": "m", "type": "maildir", "path": "x"}
    ours = parse_config({"state_dir": str(tmp_path / "new"), "sources": [source]})
    open_ledger(ours).close()
    open_ledger(ours).close()  # its own ledger is there: fine the second time
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_relative_paths_are_relative_to_the_config_file_not_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "hook.secret").write_text("s3cret-from-file\n")
    (folder / "config.yaml").write_text(
        "state_dir: state\n"
        "sources:\n  - {name: m, type: maildir, path: ./Maildir}\n"
        "  - {name: i, type: imap, host: imap.example.com, username: u, password: p, ca_file: ca.pem}\n"
        "webhooks:\n  erp: {url: 'file://./drop/erp', secret: '${file:hook.secret}'}\n"
        "  far: {url: 'file:///srv/drop'}\n"
        "understanding: {templates_dir: templates}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path("../etc/config.yaml"))
    home = folder.resolve()
    assert config.state_dir == home / "state"
    assert config.sources[0].path == home / "Maildir"  # type: ignore[union-attr]
    assert config.sources[1].ca_file == home / "ca.pem"  # type: ignore[union-attr]
    assert config.understanding.templates_dir == home / "templates"
    assert config.webhooks["erp"].url == (home / "drop" / "erp").as_uri()
    assert config.webhooks["far"].url == "file:///srv/drop"
    assert config.webhooks["erp"].secret is not None
    assert config.webhooks["erp"].secret.get_secret_value() == "s3cret-from-file"


def test_the_config_schema_accepts_the_shipped_configs_and_rejects_mistakes() -> None:
    import json

    import jsonschema
    import yaml

    result = CliRunner().invoke(main, ["config", "schema"])
    assert result.exit_code == 0
    validator = jsonschema.Draft202012Validator(json.loads(result.output))
    shipped = ["config/example.yaml", "config/demo.yaml", "deploy/config.container.yaml",
               *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "config" / "examples").glob("*.yaml"))]
    for name in shipped:
        data = yaml.safe_load((ROOT / name).read_text())
        assert [e.message for e in validator.iter_errors(data)] == [], name
    assert not validator.is_valid({"sources": [{"name": "m", "type": "maildir", "path": "x", "pth": "y"}]})
    assert not validator.is_valid({**BASE, "rules": [{"name": "r", "then": [{"moov": "X"}]}]})
    assert not validator.is_valid({**BASE, "limits": {"document_seconds": []}})
    assert validator.is_valid({**BASE, "limits": {"document_seconds": "30s", "max_message_bytes": "25MB"},
                               "rules": [{"name": "r", "when": {"doc_type": "invoice", "sender": "*@x.example"},
                                          "then": ["flag", {"move": "Invoices"}]}]})


def _schema_keys(schema: dict) -> set[str]:
    """Every option name the schema knows, at any depth (sources of every type, rule conditions,
    actions, webhook auth ...)."""
    defs = schema.get("$defs", {})
    keys: set[str] = set()
    seen: set[str] = set()

    def walk(node: dict) -> None:
        while "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return
            seen.add(name)
            node = defs[name]
        for alternative in (*node.get("anyOf", ()), *node.get("oneOf", ()), *node.get("allOf", ())):
            walk(alternative)
        for key, value in node.get("properties", {}).items():
            keys.add(key)
            walk(value)
        for nested in (node.get("additionalProperties"), node.get("items")):
            if isinstance(nested, dict):
                walk(nested)

    walk(schema)
    return keys


def test_the_example_config_shows_every_option_of_the_schema() -> None:
    """config/example.yaml says it documents every option: each key of the schema is written there
    (set, or commented out with its default), and each kind of source has a config of its own in
    config/examples/ that loads."""
    import json
    import re

    schema = json.loads(CliRunner().invoke(main, ["config", "schema"]).output)
    keys = _schema_keys(schema)
    assert {"sources", "oauth", "token_command", "rec_space_boost", "tls_key", "total_lt"} <= keys  # the walk works
    text = (ROOT / "config" / "example.yaml").read_text()
    missing = sorted(k for k in keys if not re.search(rf"(?m)(?:^[\s#-]*|[{{,]\s*){re.escape(k)}:", text))
    assert missing == [], f"config/example.yaml does not show: {missing}"
    examples = {p.stem: p for p in (ROOT / "config" / "examples").glob("*.yaml")}
    assert {"imap-password", "gmail-oauth", "microsoft365-oauth", "postmark", "mailgun", "sendgrid", "mime",
            "front", "zendesk", "helpscout"} <= set(examples)
    for name, path in examples.items():
        env = {var: "placeholder" for var in re.findall(r"\$\{([A-Z0-9_]+)\}", path.read_text())}
        config = load_config(path, env=env)
        assert config.sources, name


def test_every_problem_of_the_file_is_named_at_once_with_the_bad_value_and_a_suggestion() -> None:
    data = {"sources": [{"name": "f", "type": "imap", "host": "h", "username": "u", "security": "sll",
                         "password": "${IMAP_PASSWORD}"},
                        {"name": "g", "type": "imapp", "host": "h"}],
            "rules": [{"name": "r", "when": {"doc_type": "invoise", "total_gt": "lots"}, "then": [{"moov": "X"}]}],
            "limits": {"document_seconds": "10 minutes"}}
    got = problems(data)
    assert "sources[0].password: environment variable IMAP_PASSWORD is not set" in got  # not alone any more
    assert any(p.startswith("sources[0].security:") and "(got 'sll')" in p for p in got)
    assert "sources[1]: unknown type 'imapp' (did you mean 'imap'?)" in got
    assert any(p.startswith("rules[0].when.doc_type[0]:") and "did you mean 'invoice'?" in p for p in got)
    assert any(p.startswith("rules[0].when.total_gt:") and "(got 'lots')" in p for p in got)
    assert any("unknown action 'moov' (did you mean 'move'?)" in p for p in got)
    assert any(p.startswith("limits.document_seconds: not a duration: '10 minutes'") for p in got)


def test_the_ledger_and_the_work_queue_take_their_own_urls_and_a_safe_visibility_timeout() -> None:
    config = parse_config({**BASE, "ledger": {"url": "postgresql://inbox:pw-123456@db/inbox"},
                           "queue": {"broker_url": "redis://127.0.0.1:6379/0"}})
    assert config.queue.visibility_timeout > config.limits.message_seconds
    assert "pw-123456" in secret_values(config)  # the URL's password is masked wherever printed
    for bad, message in [
        ({"ledger": {"url": "mysql://x/y"}}, "ledger.url: a postgresql:// URL"),
        ({"queue": {"broker_url": "amqp://rabbit"}}, "queue.broker_url: a redis:// or rediss:// URL"),
        ({"queue": {"broker_url": "redis://r", "visibility_timeout": "5m"}, "limits": {"message_seconds": "10m"}},
         "queue.visibility_timeout: must be longer than limits.message_seconds (600 s)"),
    ]:
        with pytest.raises(ConfigError) as info:
            parse_config({**BASE, **bad})
        assert any(message in p for p in info.value.problems), info.value.problems
