"""Telling systemd how the service is doing (sd_notify), without a dependency: one datagram per
state change to the socket systemd names in $NOTIFY_SOCKET.

    READY=1        the daemon has started its sources (Type=notify waits for this)
    RELOADING=1    a SIGHUP is being handled (with MONOTONIC_USEC, as Type=notify-reload wants)
    STOPPING=1     a stop was asked for; the message in hand is being finished
    WATCHDOG=1     sent every half of $WATCHDOG_USEC while the scheduler runs (WatchdogSec=)

Outside systemd (no $NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("inbox_ocr.systemd")


def notify(*states: str) -> bool:
    """Send `states` ("READY=1", "STATUS=...") to systemd; False when not run by systemd."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path  # "@name": an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)  # a reader that does not keep up must never stall the daemon
            sock.connect(address)
            sock.sendall("\n".join(states).encode())
    except OSError as exc:  # systemd gone or the socket not ours: never a reason to stop working
        log.warning("event=sd_notify_failed error=%s", exc)
        return False
    return True


def reloading() -> bool:
    return notify("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of systemd's WatchdogSec), or None without one."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid.isdigit() and int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000


__all__ = ["notify", "reloading", "watchdog_interval"]
