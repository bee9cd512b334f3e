"""The daemon, as the design card names it: the same as `inbox-ocr run`.

    python run_daemon.py --config config/demo.yaml --once     # one pass over every source, then exit
    python run_daemon.py --config /etc/inbox-ocr/config.yaml  # run until SIGTERM

Everything is built in inbox_ocr/app (wiring.py, daemon.py); this file only hands over the
command line.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from inbox_ocr.app.cli import main as cli

    try:
        cli(["run", *(sys.argv[1:] if argv is None else argv)], prog_name="run_daemon.py")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
