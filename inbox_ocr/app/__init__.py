"""The app layer: the one place where config becomes objects, and every entry point.

    config.py    the whole config file: its parts assembled, ${ENV} secrets, loading
    wiring.py    config -> ledger, reader, processor, sources, sinks, outbox, HTTP server
    daemon.py    the daemon (run_daemon.py, `inbox-ocr run`)
    backfill.py  `inbox-ocr backfill`
    http.py      the HTTP server: /healthz, /readyz, /metrics and the webhook sources' endpoints
    cli/         the `inbox-ocr` commands
    samples.py   the demo's generated messages
"""
