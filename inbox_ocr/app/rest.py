"""The REST API for programs, on the daemon's HTTP server (and `inbox-ocr serve`):

    GET  /api/openapi.json   the API described (OpenAPI 3.1; open, like /healthz)
    GET  /ocr/health     200 with the OCR models' names once they are loaded (503 while loading)
    POST /ocr            multipart field `file` (image or PDF): the OCR lines of every page
    POST /ocr/predict    JSON {"image": "<base64>", "filename": "..."}: the same answer
    POST /api/extract    multipart field `file` (PDF, image, e-invoice XML or .eml): the documents'
                         type, fields, confidences and warnings, as `inbox-ocr extract --json`

Every route but the description needs `Authorization: Bearer <token>` with one of `http.api_tokens`; the API is served
only when some are configured. Answers are JSON; a request that cannot be served gets
{"success": false, "error": "..."} with 400 (no file, bad base64), 401 (no or wrong token), 413
(over `http.max_upload_bytes`), 415 (not an image or PDF) or 422 (a file that cannot be read).

One OCR engine (its models loaded once) serves every request; pages of requests that arrive
together are read in one batch (`http.ocr_batch_pages`, PageQueue); documents for
/api/extract are read by the same reader as the daemon's mail (a worker process under
`limits.document_seconds` and `document_memory`, when `limits.isolate_documents` is on).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from inbox_ocr.app.config import Config
from inbox_ocr.kernel.errors import InboxOcrError

log = logging.getLogger("inbox_ocr.rest")

_IMAGE_OR_PDF = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"RIFF", b"GIF8")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Api:
    """What the routes share: the tokens, one OCR engine (loaded in the background at start) and a
    processor for extraction (built by `processor`, once)."""

    def __init__(self, config: Config, processor: Callable[[], Any]) -> None:
        self.config = config
        self.tokens = [t.get_secret_value().encode() for t in config.http.api_tokens]
        self._processor_factory = processor
        self._processor: Any = None
        self._engine: Any = None
        self._engine_error: str | None = None
        self._pages = PageQueue(config.http.ocr_batch_pages)  # the engine's pages, batched across requests
        self._setup_lock = threading.Lock()
        threading.Thread(target=self._load_engine, name="ocr-models", daemon=True).start()

    def _load_engine(self) -> None:
        try:
            from inbox_ocr.read.ocr.engine import get_engine

            self._engine = get_engine(self.config.ocr)
        except Exception as exc:  # reported by /ocr/health, not a crash of the server
            self._engine_error = str(exc)
            log.error("event=ocr_models_failed error=%s", exc)

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        given = header[len("Bearer "):].strip().encode()
        return any(hmac.compare_digest(given, token) for token in self.tokens)

    def health(self) -> tuple[int, dict[str, Any]]:
        if self._engine is None:
            if self._engine_error:
                return 503, {"success": False, "error": f"OCR models failed to load: {self._engine_error}"}
            return 503, {"success": False, "status": "loading models"}
        return 200, {"success": True, "status": "ok", "models": self._engine.model_names()}

    def ocr(self, data: bytes, filename: str) -> dict[str, Any]:
        from inbox_ocr.read.ocr.files import page_images, page_json

        self._check_size(data)
        from inbox_ocr.read.ocr.images import is_heif

        if not data.startswith(_IMAGE_OR_PDF) and b"%PDF-" not in data[:1024] and not is_heif(data):
            raise ApiError(415, f"{filename or 'the file'} is not an image (PNG, JPEG, TIFF, BMP, WebP, HEIC) or a PDF")
        started = time.perf_counter()
        warnings: list[str] = []
        try:
            images = page_images(data, self.config.ocr, warnings)
        except InboxOcrError as exc:
            raise ApiError(422, f"{filename or 'the file'} cannot be read: {exc}") from exc
        engine = self._wait_for_engine()
        pages = self._pages.read(engine, images)
        warnings.extend(w for page in pages for w in page.warnings)
        return {"success": True, "pages": [page_json(p) for p in pages],
                "text": "\n\n".join(p.text for p in pages), "warnings": warnings,
                "processing_time_ms": round(1000 * (time.perf_counter() - started), 1)}

    def predict(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("image"), str):
            raise ApiError(400, 'send JSON {"image": "<base64 of the image or PDF>"}')
        try:
            data = base64.b64decode(body["image"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(400, f"image: not base64 ({exc})") from exc
        return self.ocr(data, str(body.get("filename") or "image"))

    def analyze(self, data: bytes, filename: str) -> tuple[list[Any], list[Any]]:
        """The AnalyzedDocuments of one upload and the PartErrors of an e-mail's unreadable parts."""
        from inbox_ocr.app.api import documents_of

        self._check_size(data)
        with self._setup_lock:
            if self._processor is None:
                self._processor = self._processor_factory()
        try:
            return documents_of(data, filename, self._processor)
        except InboxOcrError as exc:
            raise ApiError(422, f"{filename or 'the file'} cannot be read: {exc}") from exc

    def extract(self, data: bytes, filename: str) -> dict[str, Any]:
        started = time.perf_counter()
        documents, errors = self.analyze(data, filename)
        results = [d.summary() for d in documents]
        results += [{"attachment": e.filename, "part": e.part, "error": e.error} for e in errors]
        unreadable = [r for r in results if r.get("error")]
        if results and len(unreadable) == len(results):
            raise ApiError(422, f"{filename or 'the file'} cannot be read: {unreadable[0]['error']}")
        return {"success": True, "documents": results,
                "processing_time_ms": round(1000 * (time.perf_counter() - started), 1)}

    def close(self) -> None:
        if self._processor is not None:
            self._processor.reader.close()

    def _check_size(self, data: bytes) -> None:
        if not data:
            raise ApiError(400, "the file is empty")
        if len(data) > self.config.http.max_upload_bytes:
            raise ApiError(413, f"the file has {len(data)} bytes; at most {self.config.http.max_upload_bytes} "
                                "are accepted (http.max_upload_bytes)")

    def _wait_for_engine(self, timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        while self._engine is None:
            if self._engine_error or time.monotonic() > deadline:
                raise ApiError(503, f"the OCR models are not loaded: {self._engine_error or 'still loading'}")
            time.sleep(0.05)
        return self._engine


class PageQueue:
    """Pages to OCR from every request, read by one engine a batch at a time: the pages waiting
    when the engine comes free (up to `batch` of them, oldest first) are read together, their line
    crops recognized in shared batches (OcrEngine.read_batch). One request alone is read as soon
    as it comes; requests that arrive together share the work."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self._waiting: list[tuple[Any, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._engine_lock = threading.Lock()

    def read(self, engine: Any, images: list[Any]) -> list[Any]:
        slots = [{"done": threading.Event()} for _ in images]
        with self._lock:
            self._waiting.extend(zip(images, slots, strict=True))
        for slot in slots:
            while not slot["done"].is_set():
                with self._engine_lock:  # whoever holds the engine reads what waits, for everyone
                    if slot["done"].is_set():
                        break
                    with self._lock:
                        taken, self._waiting = self._waiting[: self.batch], self._waiting[self.batch:]
                    if taken:
                        self._read(engine, taken)
        for slot in slots:
            if isinstance(error := slot.get("error"), BaseException):
                raise error
        return [slot["page"] for slot in slots]

    @staticmethod
    def _read(engine: Any, taken: list[tuple[Any, dict[str, Any]]]) -> None:
        try:
            pages = engine.read_batch([image for image, _ in taken])
        except Exception as exc:  # the requests in the batch get the error; the next batch goes on
            for _, slot in taken:
                slot["error"] = exc
                slot["done"].set()
            return
        for (_, slot), page in zip(taken, pages, strict=True):
            slot["page"] = page
            slot["done"].set()


def openapi(version: str) -> dict[str, Any]:
    """The API described for clients and generators (GET /api/openapi.json, open like /healthz)."""
    error = {"$ref": "#/components/schemas/Error"}
    problems = {str(code): {"description": why, "content": {"application/json": {"schema": error}}}
                for code, why in ((400, "no file, bad base64 or not JSON"), (401, "no or a wrong bearer token"),
                                  (413, "over http.max_upload_bytes"), (415, "not an image or a PDF"),
                                  (422, "a file that cannot be read"))}
    upload = {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}

    def answer(schema: str, *codes: int) -> dict[str, Any]:
        return {"200": {"description": "done", "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{schema}"}}}}, **{str(c): problems[str(c)] for c in codes}}

    line = {"type": "object", "properties": {
        "text": {"type": "string"}, "confidence": {"type": "number"},
        "box": {"type": "array", "description": "four corners, clockwise from top-left",
                "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "inbox-ocr", "version": version,
                 "description": "OCR and invoice extraction. Every path needs Authorization: Bearer <token>."},
        "security": [{"bearer": []}],
        "paths": {
            "/ocr/health": {"get": {"summary": "The OCR models, once loaded", "responses": {
                "200": {"description": "loaded"}, "401": problems["401"], "503": {"description": "loading"}}}},
            "/ocr": {"post": {"summary": "OCR an image or every page of a PDF", "requestBody": upload,
                              "responses": answer("OcrResult", 400, 401, 413, 415, 422)}},
            "/ocr/predict": {"post": {"summary": "OCR a base64 image or PDF", "requestBody": {
                "required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["image"], "properties": {
                        "image": {"type": "string", "contentEncoding": "base64"}, "filename": {"type": "string"}}}}}},
                "responses": answer("OcrResult", 400, 401, 413, 415, 422)}},
            "/api/extract": {"post": {"summary": "Type, fields and confidences of a PDF, image, e-invoice or .eml",
                                      "requestBody": upload, "responses": answer("Extraction", 400, 401, 413, 422)}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"success": {"const": False}, "error": {"type": "string"}}},
                "OcrResult": {"type": "object", "properties": {
                    "success": {"const": True}, "text": {"type": "string"}, "processing_time_ms": {"type": "number"},
                    "warnings": {"type": "array", "items": {"type": "string"}},
                    "pages": {"type": "array", "items": {"type": "object", "properties": {
                        "width": {"type": "number"}, "height": {"type": "number"},
                        "lines": {"type": "array", "items": line}}}}}},
                "Extraction": {"type": "object", "properties": {
                    "success": {"const": True}, "processing_time_ms": {"type": "number"},
                    "documents": {"type": "array", "description": "one per document (an e-mail: per attachment), "
                                  "as `inbox-ocr extract --json` prints them", "items": {"type": "object"}}}},
            },
        },
    }


def api_routes(api: Api) -> list[Any]:
    """The Starlette routes of the API (each checks the bearer token first)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    limit = api.config.http.max_upload_bytes

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            if not api.authorized(request.headers.get("authorization")):
                return JSONResponse({"success": False, "error": "send Authorization: Bearer <an http.api_tokens "
                                     "token>"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit + 64 * 1024:  # form overhead on top of the file
                return JSONResponse({"success": False, "error": f"the request has {length} bytes; at most "
                                     f"{limit} are accepted (http.max_upload_bytes)"}, status_code=413)
            try:
                status, body = await handler(request)
            except ApiError as exc:
                return JSONResponse({"success": False, "error": str(exc)}, status_code=exc.status)
            except Exception as exc:  # a bug: logged with its traceback, answered without it
                log.exception("event=api_failed path=%s", request.url.path)
                return JSONResponse({"success": False, "error": f"internal error: {type(exc).__name__}"},
                                    status_code=500)
            return JSONResponse(body, status_code=status)
        return endpoint

    async def upload(request: Request) -> tuple[bytes, str]:
        try:
            form = await request.form(max_files=1, max_part_size=limit + 1)
        except Exception as exc:  # not multipart, or a part over the limit
            raise ApiError(400, f"send the file as multipart/form-data in the field 'file' ({exc})") from exc
        part = form.get("file")
        if part is None or isinstance(part, str):
            raise ApiError(400, "no file: send it as multipart/form-data in the field 'file'")
        data = await part.read(limit + 1)
        return data, part.filename or "file"

    async def health(request: Request) -> tuple[int, dict[str, Any]]:
        return api.health()

    async def ocr(request: Request) -> tuple[int, dict[str, Any]]:
        data, name = await upload(request)
        return 200, await run_in_threadpool(api.ocr, data, name)

    async def predict(request: Request) -> tuple[int, dict[str, Any]]:
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(400, f"the body is not JSON: {exc}") from exc
        return 200, await run_in_threadpool(api.predict, body)

    async def extract(request: Request) -> tuple[int, dict[str, Any]]:
        data, name = await upload(request)
        return 200, await run_in_threadpool(api.extract, data, name)

    from inbox_ocr import __version__

    description = openapi(__version__)

    async def spec(request: Request) -> JSONResponse:
        return JSONResponse(description)

    return [
        Route("/api/openapi.json", spec, methods=["GET"]),
        Route("/ocr/health", guarded(health), methods=["GET"]),
        Route("/ocr", guarded(ocr), methods=["POST"]),
        Route("/ocr/predict", guarded(predict), methods=["POST"]),
        Route("/api/extract", guarded(extract), methods=["POST"]),
    ]


__all__ = ["Api", "ApiError", "api_routes", "openapi"]
