"""The kernel: what every layer may import, and which imports nothing of ours.

    models.py        the frozen models that flow between the stages
    errors.py        the one exception tree
    ports.py         every interface between the core and the outside (Source, Sink, Reader, Router ...)
    settings.py      the parts of the config the stages read; config_types.py their value types
    logs.py          structured logging, the message in hand, secret masking
    metrics.py       Prometheus counters and the daemon's readiness
"""
