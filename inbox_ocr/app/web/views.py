"""The pages of the web UI (see __init__.py for the list) and what they share (`WebUi`)."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from inbox_ocr.app.config import Config
from inbox_ocr.app.rest import Api, ApiError
from inbox_ocr.app.web import auth
from inbox_ocr.app.web.learn import learn_templates
from inbox_ocr.app.web.pages import page_pngs
from inbox_ocr.app.web.present import (
    FIELD_LABELS,
    attachment_of,
    confidence_class,
    document_view,
    queue_row,
    summary_line,
)
from inbox_ocr.app.wiring import include_documents
from inbox_ocr.kernel.errors import InboxOcrError
from inbox_ocr.kernel.models import MessageStatus, RoutingDecision
from inbox_ocr.orchestration.ledger import Ledger, ReviewConflict
from inbox_ocr.orchestration.review import CorrectionErrors, decide

log = logging.getLogger("inbox_ocr.web")

HERE = Path(__file__).parent


@dataclass
class WebUi:
    """What the pages share: the config, the ledger, the users, the API service (for /try), the
    decision a reject applies, and who to tell when a decision was written (the daemon polls then)."""

    config: Config
    ledger: Ledger
    api: Api
    reject: RoutingDecision
    users: dict[str, bytes] = field(default_factory=dict)
    on_decision: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        import jinja2

        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["confidence_class"] = confidence_class
        self.templates.globals["FIELD_LABELS"] = FIELD_LABELS


def ui_middleware(config: Config) -> list[Any]:
    """The session middleware the UI needs (signed cookies, SameSite=Lax, Secure under TLS)."""
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware

    return [Middleware(SessionMiddleware, secret_key=auth.session_secret(config), session_cookie="inbox_ocr_session",
                       max_age=round(config.http.session_hours * 3600), same_site="lax",
                       https_only=config.http.tls_cert is not None)]


def ui_routes(ui: WebUi) -> list[Any]:  # noqa: C901 - one closure per page, sharing `ui`
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, RedirectResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    limit = ui.config.http.max_upload_bytes

    def render(request: Request, template: str, code: int = 200, **values: Any) -> HTMLResponse:
        session = request.session
        if "csrf" not in session:
            session["csrf"] = auth.new_csrf_token()
        flash = session.pop("flash", None)
        body = ui.templates.get_template(template).render(
            user=session.get("user"), csrf=session["csrf"], flash=flash, path=request.url.path,
            held=ui.ledger.reviews.count_pending(), **values)
        return HTMLResponse(body, status_code=code, headers={"Cache-Control": "no-store"})

    def page(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Any]:
        """A page for logged-in users: else to /login (and back after it). A POST needs the CSRF token."""
        async def endpoint(request: Request) -> Response:
            if request.session.get("user") not in ui.users:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            if request.method == "POST":
                length = request.headers.get("content-length", "")
                if length.isdigit() and int(length) > limit + 64 * 1024:
                    return render(request, "error.html.j2", 413, message=f"The upload has {length} bytes; at most "
                                  f"{limit} are accepted (http.max_upload_bytes).")
                form = await request.form(max_files=1, max_part_size=limit + 1)
                if not auth.csrf_ok(request.session.get("csrf"), form.get("csrf")):
                    log.warning("event=csrf_refused path=%s user=%s", request.url.path, request.session.get("user"))
                    return render(request, "error.html.j2", 403, message="This form has expired or did not come "
                                  "from this site (CSRF token missing or wrong). Go back, reload and try again.")
            try:
                return await handler(request)
            except InboxOcrError as exc:
                return render(request, "error.html.j2", 422, message=str(exc))
            except Exception as exc:  # a bug: logged with its traceback, shown without it
                log.exception("event=page_failed path=%s", request.url.path)
                return render(request, "error.html.j2", 500, message=f"Internal error ({type(exc).__name__}); "
                              "the server log has the details.")
        return endpoint

    # ------------------------------------------------------------------ sessions

    async def login_form(request: Request) -> Response:
        return render(request, "login.html.j2", next=_safe_next(request.query_params.get("next")), error=None)

    async def login(request: Request) -> Response:
        form = await request.form(max_files=0)
        target = _safe_next(str(form.get("next") or ""))
        if not auth.csrf_ok(request.session.get("csrf"), form.get("csrf")):
            return render(request, "login.html.j2", 403, next=target, error="The form expired: try again.")
        name, password = str(form.get("username") or ""), str(form.get("password") or "")
        ok = await run_in_threadpool(auth.check_password, ui.users, name, password)
        if not ok:
            client = request.client.host if request.client else ""
            log.warning("event=login_failed user=%s client=%s", name[:64], client)
            return render(request, "login.html.j2", 401, next=target, error="Wrong name or password.")
        request.session.clear()
        request.session.update(user=name, csrf=auth.new_csrf_token(), since=int(time.time()))
        log.info("event=login user=%s", name)
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def home(request: Request) -> Response:
        return RedirectResponse("/review", status_code=303)

    # ------------------------------------------------------------------ review

    async def queue(request: Request) -> Response:
        rows = []
        for review in ui.ledger.reviews.pending():
            record = ui.ledger.messages.by_id(review.message)
            if record is not None:
                rows.append(queue_row(review, record))
        return render(request, "queue.html.j2", rows=rows)

    async def review_page(request: Request, errors: dict[tuple[int, str], str] | None = None,
                          typed: dict[str, str] | None = None, code: int = 200) -> Response:
        row = int(request.path_params["id"])
        review = ui.ledger.reviews.get(row)
        record = ui.ledger.messages.by_id(row)
        if review is None or record is None:
            return render(request, "error.html.j2", 404, message=f"Message {row} was never held for review.")
        documents = [document_view(i, d, errors or {}, typed or {}) for i, d in enumerate(record.documents)]
        waiting = [a for a in review.held.actions if not a.startswith("review:")]
        return render(request, "review.html.j2", code, review=review, record=record, documents=documents,
                      trail=ui.ledger.audit.of(row), waiting=waiting,
                      can_learn=ui.config.understanding.templates_dir is not None)

    async def review_decide(request: Request) -> Response:
        row = int(request.path_params["id"])
        form = await request.form()
        verdict = form.get("decision")
        if verdict not in ("approve", "reject"):
            return render(request, "error.html.j2", 400, message="Choose Approve or Reject.")
        record = ui.ledger.messages.by_id(row)
        if record is None:
            return render(request, "error.html.j2", 404, message=f"No message {row}.")
        corrections: dict[int, dict[str, str]] = {}
        typed: dict[str, str] = {}
        for key, value in form.multi_items():
            if key.startswith("f-") and isinstance(value, str):
                _, index, name = key.split("-", 2)
                corrections.setdefault(int(index), {})[name] = value
                typed[key] = value
        user = request.session["user"]
        try:
            await run_in_threadpool(decide, ui.ledger, row, approve=verdict == "approve", reviewer=user,
                                    corrections=corrections, reject=ui.reject, limits=ui.config.limits,
                                    include_documents=include_documents(ui.config))
        except CorrectionErrors as exc:
            return await review_page(request, errors=exc.problems, typed=typed, code=422)
        except ReviewConflict as exc:
            request.session["flash"] = str(exc)
            return RedirectResponse("/review", status_code=303)
        log.info("event=reviewed message=%d decision=%s user=%s", row, verdict, user)
        if ui.on_decision is not None:
            ui.on_decision()
        flash = f"Message {row} {'approved' if verdict == 'approve' else 'rejected'}."
        if verdict == "approve" and form.get("learn") and ui.config.understanding.templates_dir is not None:
            flash += " " + await run_in_threadpool(learn_templates, ui, row, user)
        request.session["flash"] = flash
        return RedirectResponse("/review", status_code=303)

    async def review_image(request: Request) -> Response:
        row, doc, number = (int(request.path_params[k]) for k in ("id", "doc", "page"))
        review = ui.ledger.reviews.get(row)
        record = ui.ledger.messages.by_id(row)
        if review is None or record is None or not 0 <= doc < len(record.documents):
            return Response("no such page", status_code=404)
        data = await run_in_threadpool(attachment_of, review.raw, record.documents[doc].get("part"), ui.config)
        if data is None:
            return Response("the attachment is not in the message", status_code=404)
        pngs = await run_in_threadpool(page_pngs, data)
        if not 1 <= number <= len(pngs):
            return Response("no such page", status_code=404)
        return Response(pngs[number - 1], media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    # ------------------------------------------------------------------ try it

    async def try_form(request: Request) -> Response:
        return render(request, "try.html.j2", result=None, error=None)

    async def try_upload(request: Request) -> Response:
        form = await request.form(max_files=1, max_part_size=limit + 1)
        part = form.get("file")
        if part is None or isinstance(part, str) or not part.filename:
            return render(request, "try.html.j2", 400, result=None, error="Choose an image or a PDF to upload.")
        data = await part.read(limit + 1)
        started = time.perf_counter()
        try:
            documents, errors = await run_in_threadpool(ui.api.analyze, data, part.filename)
        except ApiError as exc:
            return render(request, "try.html.j2", exc.status, result=None, error=str(exc))
        try:
            pngs = await run_in_threadpool(page_pngs, data)
        except InboxOcrError:  # an e-invoice XML or an e-mail: read, but no page to show
            pngs = []
        seconds = time.perf_counter() - started
        views = []
        for i, doc in enumerate(documents):
            view = document_view(i, doc.summary(), {}, {})
            view["images"] = ["data:image/png;base64," + base64.b64encode(png).decode() for png in pngs]
            view["lines"] = [[{"text": line.text, "confidence": line.confidence,
                               "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in line.box)} for line in page.lines]
                             for page in doc.document.pages]
            view["text"] = doc.document.text
            views.append(view)
        return render(request, "try.html.j2", result={"name": part.filename, "documents": views,
                                                      "errors": [e.error for e in errors], "seconds": seconds},
                      error=None)

    # ------------------------------------------------------------------ messages and outbox

    async def messages(request: Request) -> Response:
        text = request.query_params.get("q", "")
        wanted = request.query_params.get("status", "")
        status = MessageStatus(wanted) if wanted in {s.value for s in MessageStatus} else None
        records = ui.ledger.messages.search(text, status, limit=200)
        return render(request, "messages.html.j2", records=records, q=text, status=wanted,
                      statuses=[s.value for s in MessageStatus], summary=summary_line)

    async def message(request: Request) -> Response:
        row = int(request.path_params["id"])
        record = ui.ledger.messages.by_id(row)
        if record is None:
            return render(request, "error.html.j2", 404, message=f"No message {row}.")
        return render(request, "message.html.j2", record=record, trail=ui.ledger.audit.of(row),
                      deliveries=ui.ledger.deliveries.of_message(row), review=ui.ledger.reviews.get(row),
                      documents=[document_view(i, d, {}, {}) for i, d in enumerate(record.documents)])

    async def outbox(request: Request) -> Response:
        from inbox_ocr.orchestration.ledger import DeliveryStatus

        wanted = request.query_params.get("status", "")
        status = DeliveryStatus(wanted) if wanted in {s.value for s in DeliveryStatus} else None
        return render(request, "outbox.html.j2", deliveries=ui.ledger.deliveries.recent(status, limit=200),
                      status=wanted, statuses=[s.value for s in DeliveryStatus])

    async def retry(request: Request) -> Response:
        delivery = int(request.path_params["id"])
        if ui.ledger.deliveries.requeue(delivery):
            log.info("event=delivery_requeued id=%d user=%s", delivery, request.session["user"])
            request.session["flash"] = f"Delivery {delivery} will be sent again."
            ui.ledger.audit.add(ui.ledger.deliveries.get(delivery).message,  # type: ignore[union-attr]
                                "retry", f"delivery {delivery} re-driven by {request.session['user']}")
        else:
            request.session["flash"] = f"Delivery {delivery} was delivered already (or does not exist)."
        return RedirectResponse("/outbox?status=dead", status_code=303)

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", page(home), methods=["GET"]),
        Route("/review", page(queue), methods=["GET"]),
        Route("/review/{id:int}", page(review_page), methods=["GET"]),
        Route("/review/{id:int}", page(review_decide), methods=["POST"]),
        Route("/review/{id:int}/doc/{doc:int}/page/{page:int}.png", page(review_image), methods=["GET"]),
        Route("/try", page(try_form), methods=["GET"]),
        Route("/try", page(try_upload), methods=["POST"]),
        Route("/messages", page(messages), methods=["GET"]),
        Route("/messages/{id:int}", page(message), methods=["GET"]),
        Route("/outbox", page(outbox), methods=["GET"]),
        Route("/outbox/{id:int}/retry", page(retry), methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def _safe_next(target: str | None) -> str:
    """Where to go after the login: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/review"
    return target
