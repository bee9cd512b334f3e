"""Routing inside a helpdesk: the mailbox changes of a message that came from Front, Zendesk or
Help Scout become API calls on its conversation or ticket (tag, move, assign, comment, archive or
solve), committed as outbox rows with the message and made by `HelpdeskSink`.

    source.py    HelpdeskSource: the webhook source of a helpdesk, turning changes into calls
    sink.py      HelpdeskSink: the outbox's sink for those calls
    services.py  each helpdesk's REST API
    api.py       HTTP, errors, rate limits, names looked up once
"""

from connectors.helpdesk.sink import HelpdeskSink, helpdesk_for
from connectors.helpdesk.source import HelpdeskSource

__all__ = ["HelpdeskSink", "HelpdeskSource", "helpdesk_for"]
