"""Webhook sources (`type: webhook`): mail pushed by inbound-mail services and helpdesks.

    config.py      WebhookSourceConfig
    http.py        the POST endpoint of each source (verify, normalize, spool, then 200)
    spool.py       the durable spool between the endpoint and the source
    source.py      WebhookSource: fetches what the endpoint spooled
    providers/     one module per provider: signature check and payload -> RFC 5322
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.webhook_in.config import WebhookSourceConfig
    from connectors.webhook_in.http import Endpoint, routes, spool_status
    from connectors.webhook_in.source import WebhookSource
    from connectors.webhook_in.spool import Spool, spool_dir

# imported on first use (connectors/lazy.py)
_EXPORTS = {
    "WebhookSourceConfig": "config",
    "Endpoint": "http",
    "routes": "http",
    "spool_status": "http",
    "WebhookSource": "source",
    "Spool": "spool",
    "spool_dir": "spool",
}
__all__ = [
    "Endpoint",
    "Spool",
    "WebhookSource",
    "WebhookSourceConfig",
    "routes",
    "spool_dir",
    "spool_status",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
