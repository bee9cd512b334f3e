"""One daemon per state directory: a second `run` or a `backfill` on the same state stops at once,
naming the holder's PID, and handles nothing; after the holder is killed (-9) the lock is free."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from inbox_ocr.app import samples
from inbox_ocr.app.statelock import StateLock, StateLocked

PROGRAM = Path(sys.executable).parent / "inbox-ocr"


def test_two_locks_on_one_state_directory_exclude_each_other(tmp_path: Path) -> None:
    first = StateLock(tmp_path).acquire("run")
    try:
        second = StateLock(tmp_path)
        try:
            second.acquire("backfill")
            raise AssertionError("the second lock was granted")
        except StateLocked as exc:
            assert f"pid {os.getpid()} (run, since" in str(exc)
    finally:
        first.release()
    StateLock(tmp_path).acquire("backfill").release()  # free again


def test_status_names_the_daemon_that_holds_the_state(tmp_path: Path) -> None:
    from inbox_ocr.app.statelock import state_holder

    assert state_holder(tmp_path) is None
    lock = StateLock(tmp_path).acquire("run")
    try:
        assert state_holder(tmp_path) is not None and f"pid {os.getpid()} (run, since" in str(state_holder(tmp_path))
    finally:
        lock.release()
    assert state_holder(tmp_path) is None


def test_a_second_daemon_or_backfill_on_the_same_state_exits_naming_the_holder(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    samples.write_maildir(maildir, samples.demo_messages()[:2])
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "box", "type": "maildir", "path": str(maildir), "poll_every": 3600}],
        "limits": {"isolate_documents": False},
    }))
    log = (tmp_path / "daemon.log").open("wb")
    holder = subprocess.Popen([str(PROGRAM), "run", "-c", str(config)], stdout=log, stderr=log)
    try:
        lock_file = tmp_path / "var" / "daemon.lock"
        deadline = time.monotonic() + 120
        while not (lock_file.exists() and lock_file.read_text().startswith(f"pid {holder.pid} ")):
            assert holder.poll() is None and time.monotonic() < deadline, (tmp_path / "daemon.log").read_text()
            time.sleep(0.1)
        for command in (["run", "--once"], ["backfill", "--source", "box"]):
            second = subprocess.run([str(PROGRAM), *command, "-c", str(config)], capture_output=True, text=True,
                                    timeout=120)
            assert second.returncode == 3, second.stderr
            assert f"in use by pid {holder.pid} (run, since" in second.stderr
            assert "one daemon (or backfill) per state directory" in second.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
        log.close()
    # killed without a chance to clean up: the kernel dropped the lock with the process
    after = subprocess.run([str(PROGRAM), "run", "--once", "-c", str(config)], capture_output=True, text=True,
                           timeout=300)
    assert after.returncode in (0, 1), after.stderr
