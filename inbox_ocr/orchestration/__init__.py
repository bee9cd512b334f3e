"""Orchestration: the stages in order, and the life of a message around them.

    pipeline.py   process_message (pure: MIME -> read -> understand -> route) and the Processor
    runner.py     Runner: dedupe, commit, acknowledge, quarantine; MessageReport
    outbox.py     webhook payloads and idempotency keys; Outbox delivers through the Sinks
    ledger/       the state database: messages, deliveries, audit trail, cursors

Imports the kernel and the stages; never a connector, the routing package or the app (those
come in through the ports: Source, Sink, Reader, Router).
"""
