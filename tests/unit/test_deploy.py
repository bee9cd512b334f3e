"""The deployment files agree with each other and with the program: the container's config path,
port, user and health check; the compose file; the systemd unit (checked by `systemd-analyze
verify` where it is installed; `.ci/run` installs it). The image itself is not built here (no
container registry is reachable); its install step, deploy/install.sh, runs in `.ci/run`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from inbox_ocr.app.config import load_config
from inbox_ocr.kernel.settings import Limits
from tests.conftest import ROOT


def test_the_dockerfile_runs_the_daemon_as_a_user_with_a_health_check_on_the_configs_port() -> None:
    docker = (ROOT / "Dockerfile").read_text()
    user = re.search(r"^USER (\S+)", docker, re.M)
    assert user is not None and user.group(1) not in ("root", "0")
    assert "deploy/install.sh" in docker and "HEALTHCHECK" in docker
    entry = re.search(r'^ENTRYPOINT \["inbox-ocr", "run", "--config", "([^"]+)"\]', docker, re.M)
    assert entry is not None
    config = load_config(ROOT / "deploy" / "config.container.yaml")
    assert (config.http.enabled, config.http.host, config.http.port) == (True, "0.0.0.0", 8025)
    assert f"127.0.0.1:{config.http.port}/healthz" in docker and f"EXPOSE {config.http.port}" in docker
    assert str(config.state_dir) == "/var/lib/inbox-ocr" and "VOLUME [\"/var/lib/inbox-ocr\"]" in docker
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    service = compose["services"]["inbox-ocr"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
    assert mounts[entry.group(1)] == "./deploy/config.container.yaml"
    assert mounts[str(config.state_dir)] in compose["volumes"]
    assert service["ports"] == [f"127.0.0.1:{config.http.port}:{config.http.port}"]
    grace = re.fullmatch(r"(\d+)m", service["stop_grace_period"])
    assert grace is not None and int(grace.group(1)) * 60 > Limits().message_seconds


def test_the_install_script_is_what_the_image_and_ci_run() -> None:
    script = ROOT / "deploy" / "install.sh"
    assert script.stat().st_mode & 0o111
    assert "deploy/install.sh" in (ROOT / ".ci" / "run").read_text()
    assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0


def test_the_systemd_unit_is_hardened_and_verifies(tmp_path: Path) -> None:
    unit = (ROOT / "deploy" / "inbox-ocr.service").read_text()
    for setting in ("DynamicUser=yes", "StateDirectory=inbox-ocr", "ProtectSystem=strict", "Restart=on-failure",
                    "NoNewPrivileges=yes", "KillSignal=SIGTERM", "Type=notify", "WatchdogSec=",
                    "ExecReload=/bin/kill -HUP $MAINPID"):
        assert setting in unit, setting
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (.ci/run installs it)")
    # verify needs the executables it names: point them at this environment's inbox-ocr
    program = Path(sys.executable).parent / "inbox-ocr"
    copy = tmp_path / "inbox-ocr.service"
    copy.write_text(unit.replace("/opt/inbox-ocr/bin/inbox-ocr", str(program)))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_the_scaled_compose_file_runs_a_scheduler_and_workers_on_one_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOX_OCR_DB_PASSWORD", "pw-for-the-test")
    monkeypatch.setenv("INBOX_OCR_USERS_FILE", str(ROOT / "deploy" / "config.scale.yaml"))  # any readable file
    compose = yaml.safe_load((ROOT / "deploy" / "compose.scale.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "scheduler", "worker"}
    config = load_config(ROOT / "deploy" / "config.scale.yaml")
    assert config.ledger.url == "postgresql://inbox:pw-for-the-test@postgres/inbox_ocr"
    assert config.queue.broker_url == "redis://redis:6379/0" and config.ocr.threads == 1
    for name in ("scheduler", "worker"):
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
        assert mounts["/etc/inbox-ocr/config.yaml"] == "./config.scale.yaml"
        assert services[name]["environment"]["INBOX_OCR_DB_PASSWORD"] == "${INBOX_OCR_DB_PASSWORD}"
    assert services["worker"]["entrypoint"][:2] == ["inbox-ocr", "worker"]
    grace = re.fullmatch(r"(\d+)m", services["worker"]["stop_grace_period"])
    assert grace is not None and int(grace.group(1)) * 60 > config.limits.message_seconds
    assert f"127.0.0.1:{config.http.port}:{config.http.port}" in services["scheduler"]["ports"]
