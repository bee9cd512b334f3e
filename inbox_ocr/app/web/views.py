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
from inbox_ocr.app.web.pages import page_pngs
from inbox_ocr.app.wiring import include_documents
from inbox_ocr.kernel.errors import InboxOcrError
from inbox_ocr.kernel.models import MessageStatus, RoutingDecision
from inbox_ocr.orchestration.ledger import Ledger, ReviewConflict
from inbox_ocr.orchestration.review import EDITABLE, CorrectionErrors, decide

log = logging.getLogger("inbox_ocr.web")

HERE = Path(__file__).parent
FIELD_LABELS = {
    "invoice_number": "Invoice number", "invoice_date": "Invoice date", "due_date": "Due date", "total": "Total",
    "subtotal": "Net", "tax": "Tax", "amount_due": "Amount due", "currency": "Currency", "vendor_name": "Vendor",
    "vendor_vat_id": "Vendor VAT id", "customer_name": "Customer", "iban": "IBAN", "bic": "BIC",
    "po_number": "PO number", "payment_reference": "Payment reference",
}


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


def confidence_class(value: float | None) -> str:
    if value is None:
        return "unknown"
    return "high" if value >= 0.9 else "medium" if value >= 0.7 else "low"


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

    def page(handler: Callable[[Request], Awaitable[Response]], post: bool = False) -> Callable[[Request], Any]:
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
                rows.append(_queue_row(review, record))
        return render(request, "queue.html.j2", rows=rows)

    async def review_page(request: Request, errors: dict[tuple[int, str], str] | None = None,
                          typed: dict[str, str] | None = None, code: int = 200) -> Response:
        row = int(request.path_params["id"])
        review = ui.ledger.reviews.get(row)
        record = ui.ledger.messages.by_id(row)
        if review is None or record is None:
            return render(request, "error.html.j2", 404, message=f"Message {row} was never held for review.")
        documents = [_document_view(i, d, errors or {}, typed or {}) for i, d in enumerate(record.documents)]
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
            flash += " " + await run_in_threadpool(_learn, ui, row, user)
        request.session["flash"] = flash
        return RedirectResponse("/review", status_code=303)

    async def review_image(request: Request) -> Response:
        row, doc, number = (int(request.path_params[k]) for k in ("id", "doc", "page"))
        review = ui.ledger.reviews.get(row)
        record = ui.ledger.messages.by_id(row)
        if review is None or record is None or not 0 <= doc < len(record.documents):
            return Response("no such page", status_code=404)
        data = await run_in_threadpool(_attachment, review.raw, record.documents[doc].get("part"), ui.config)
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
            pngs = await run_in_threadpool(page_pngs, data)
        except ApiError as exc:
            return render(request, "try.html.j2", exc.status, result=None, error=str(exc))
        except InboxOcrError as exc:
            return render(request, "try.html.j2", 422, result=None, error=f"{part.filename} cannot be shown: {exc}")
        seconds = time.perf_counter() - started
        views = []
        for i, doc in enumerate(documents):
            view = _document_view(i, doc.summary(), {}, {})
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
                      statuses=[s.value for s in MessageStatus], summary=_summary_line)

    async def message(request: Request) -> Response:
        row = int(request.path_params["id"])
        record = ui.ledger.messages.by_id(row)
        if record is None:
            return render(request, "error.html.j2", 404, message=f"No message {row}.")
        return render(request, "message.html.j2", record=record, trail=ui.ledger.audit.of(row),
                      deliveries=ui.ledger.deliveries.of_message(row), review=ui.ledger.reviews.get(row),
                      documents=[_document_view(i, d, {}, {}) for i, d in enumerate(record.documents)])

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


def _learn(ui: WebUi, row: int, user: str) -> str:
    """Save vendor templates from the corrections just approved on message `row`; what happened,
    for the reviewer (and the audit trail)."""
    from inbox_ocr.kernel.models import InvoiceFields
    from inbox_ocr.understand.learning import NotLearnable, learn_template, save_template

    record = ui.ledger.messages.by_id(row)
    review = ui.ledger.reviews.get(row)
    folder = ui.config.understanding.templates_dir
    if record is None or review is None or folder is None:
        return ""
    said = []
    for summary in record.documents:
        corrected = list(summary.get("corrected", {}))
        if not corrected:
            continue
        name = summary.get("attachment") or "document"
        data = _attachment(review.raw, summary.get("part"), ui.config)
        try:
            if data is None:
                raise NotLearnable("the attachment is not in the message")
            documents, _ = ui.api.analyze(data, name)
            fields = InvoiceFields.model_validate(summary.get("fields", {}))
            learned = learn_template(documents[0].document, fields, corrected)
            path = save_template(Path(folder), learned)
        except (NotLearnable, ApiError, InboxOcrError, IndexError) as exc:
            said.append(f"No template learned from {name}: {exc}.")
            continue
        skipped = "; ".join(f"{k}: {v}" for k, v in learned.skipped.items())
        ui.ledger.audit.add(row, "template", f"by {user}: {path.name} reads {', '.join(learned.learned)}"
                            + (f" (not learned: {skipped})" if skipped else ""))
        log.info("event=template_learned file=%s fields=%s user=%s", path, ",".join(learned.learned), user)
        said.append(f"Template {path.name} now reads {', '.join(learned.learned)} for {learned.data['issuer']}."
                    + (f" Not learned: {skipped}." if skipped else ""))
    return " ".join(said)


def _safe_next(target: str | None) -> str:
    """Where to go after the login: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/review"
    return target


def _attachment(raw: bytes, part: str | None, config: Config) -> bytes | None:
    from inbox_ocr.mime import parse_message

    for attachment in parse_message(raw, config.limits).attachments:
        if attachment.part == part:
            return attachment.data
    return None


def _main(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((d for d in documents if d.get("doc_type") in ("invoice", "credit_note")),
                documents[0] if documents else None)


def _queue_row(review: Any, record: Any) -> dict[str, Any]:
    main = _main(record.documents) or {}
    fields = main.get("fields", {})
    confidences = [c for d in record.documents for name, c in d.get("field_confidence", {}).items()
                   if name in EDITABLE]
    return {"id": record.id, "received": record.created_at.replace("T", " ")[:16], "sender": record.sender or "",
            "subject": record.subject or "", "doc_type": main.get("doc_type", "-"),
            "total": f"{fields['total']} {fields.get('currency', '')}".strip() if fields.get("total") else "-",
            "lowest": min(confidences) if confidences else None, "reason": review.reason,
            "duplicate_of": next((d["duplicate_of"]["message"] for d in record.documents if d.get("duplicate_of")),
                                 None)}


def _summary_line(record: Any) -> str:
    main = _main(record.documents)
    if main is None:
        return ""
    fields = main.get("fields", {})
    bits = [main.get("doc_type", "")]
    if fields.get("invoice_number"):
        bits.append(f"no. {fields['invoice_number']}")
    if fields.get("total"):
        bits.append(f"{fields['total']} {fields.get('currency', '')}".strip())
    return ", ".join(b for b in bits if b)


def _document_view(index: int, summary: dict[str, Any], errors: dict[tuple[int, str], str],
                   typed: dict[str, str]) -> dict[str, Any]:
    """One document as the templates show it: its fields in the form's order, each with its value
    (as typed, after a refused submit), confidence, warnings, error and box."""
    fields = summary.get("fields", {})
    confidence = summary.get("field_confidence", {})
    positions = summary.get("field_positions", {})
    warnings = summary.get("warnings", [])
    rows = []
    for name in EDITABLE:
        value = fields.get(name)
        rows.append({
            "name": name, "input": f"f-{index}-{name}",
            "value": typed.get(f"f-{index}-{name}", "" if value is None else str(value)),
            "confidence": confidence.get(name), "position": positions.get(name),
            "warnings": [w for w in warnings if name in w.split(":")[0] or w.startswith(name)],
            "error": errors.get((index, name)), "corrected": summary.get("corrected", {}).get(name),
        })
    return {"index": index, "name": summary.get("attachment") or summary.get("file") or f"document {index + 1}",
            "doc_type": summary.get("doc_type"), "doc_type_confidence": summary.get("doc_type_confidence"),
            "source": summary.get("source"), "error": summary.get("error"), "warnings": warnings,
            "pages": summary.get("pages", []), "fields": rows,
            "other_warnings": [w for w in warnings if not any(w in r["warnings"] for r in rows)],
            "boxes": [{"name": r["name"], "page": r["position"]["page"], "box": r["position"]["box"],
                       "confidence": r["confidence"]} for r in rows if r["position"]]}
