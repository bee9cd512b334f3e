"""The web UI: server-rendered pages for people, on the daemon's HTTP server (and `inbox-ocr serve`).

    GET  /login, POST /login, POST /logout     sessions (auth.py)
    GET  /review                                the review queue: messages a `review` action holds
    GET  /review/{id}, POST /review/{id}        one held message: pages with field boxes, the fields
                                                in a form, Approve / Reject (orchestration/review.py)
    GET  /try, POST /try                        upload an image or PDF: its lines over the page
    GET  /messages, GET /messages/{id}          what the ledger holds, searchable; one message's trail
    GET  /outbox, POST /outbox/{id}/retry       webhook deliveries, dead letters re-driven
    GET  /static/...                            the CSS, from the package (nothing from a CDN)

Served when `http.users` or `http.users_file` name someone; every page but /login needs a session,
every form carries the session's CSRF token. No JavaScript: boxes are SVG drawn by the server.
"""

from __future__ import annotations

from inbox_ocr.app.web.views import WebUi, ui_middleware, ui_routes

__all__ = ["WebUi", "ui_middleware", "ui_routes"]
