"""The OCR engine: models loaded once, pages in, Page models (lines in reading order, word boxes) out.

page pixels ─► detect (DB) ─► sideways? rotate 90° and detect again
            ─► a photo of a page? look at it square on (perspective.py) and detect again
            ─► skewed? straighten (deskew.py) and detect again ─► crop lines ─► upside down? (direction vote) turn 180°
            ─► recognize (CTC, width-sorted batches) ─► rows in reading order ─► Page
"""

from __future__ import annotations

import ctypes
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from inbox_ocr.kernel.models import Page
from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr import session as sessions
from inbox_ocr.read.ocr.alphabet import cut_model, kept_classes, sentinel_classes, sub_head
from inbox_ocr.read.ocr.deskew import MIN_SKEW, crop_to_text, map_back, page_skew, rotate_page
from inbox_ocr.read.ocr.detect import DetectorOptions, TextBox, TextDetector
from inbox_ocr.read.ocr.images import PageImage
from inbox_ocr.read.ocr.layout import RecognizedBox, crop_line, reading_order, row_to_line
from inbox_ocr.read.ocr.orientation import DirectionClassifier, is_sideways, rotate_quads_180
from inbox_ocr.read.ocr.perspective import find_page, flatten
from inbox_ocr.read.ocr.recognize import RecognizerOptions, TextRecognizer, load_charset

log = logging.getLogger(__name__)


@dataclass
class StageTimes:
    """Seconds spent per stage, summed over the pages read (for benchmarks and logs)."""

    detect: float = 0.0
    classify: float = 0.0
    recognize: float = 0.0
    pages: int = 0
    extra: dict[str, float] = field(default_factory=dict)


class OcrEngine:
    """Holds the ONNX sessions; create one per process and reuse it for every page."""

    def __init__(self, settings: OcrSettings | None = None) -> None:
        s = settings or OcrSettings()
        self.settings = s
        det_path = s.det_model or sessions.detector_model(s.det_precision)
        rec_path = s.rec_model or sessions.bundled_model(sessions.BUNDLED_REC)
        self.models = {"detector": Path(det_path).name, "recognizer": Path(rec_path).name,
                       "direction": Path(sessions.bundled_model(sessions.BUNDLED_CLS)).name}
        det_session = sessions.open_session(det_path, s.threads)
        cls_session = sessions.open_session(sessions.bundled_model(sessions.BUNDLED_CLS), s.threads)
        self.detector = TextDetector(det_session, DetectorOptions(max_side=s.det_max_side))
        self.recognizer = self._load_recognizer(rec_path)
        self.classifier = DirectionClassifier(cls_session)
        self.min_confidence = s.min_line_confidence
        self.times = StageTimes()

    def _load_recognizer(self, rec_path: Path) -> TextRecognizer:
        """The recognizer cut to the configured alphabet (see alphabet.py): `all` is the model as
        it is; `latin` and `auto` cut its classifier to the Latin classes plus sentinel columns
        that detect Chinese and Japanese, which `auto` then reads with the CJK + Latin head."""
        s = self.settings
        options = RecognizerOptions(
            batch_size=s.rec_batch_size, min_width=s.rec_min_width, space_boost=s.rec_space_boost
        )
        session = sessions.open_session(rec_path, s.threads)
        labels = load_charset(session, s.rec_dict)
        if s.alphabet == "all":
            return TextRecognizer(session, labels, options)
        keep = kept_classes(labels, "latin")
        kept = set(keep)
        keep += [i for i in sentinel_classes(labels) if i not in kept]
        cut = cut_model(rec_path, labels, keep, features=s.alphabet == "auto")
        if cut is None:
            allowed = kept_classes(labels, s.alphabet)
            log.info("event=ocr_alphabet mode=mask classes=%d", len(allowed))
            return TextRecognizer(session, labels, options, allowed=allowed)
        del session  # the full model is not needed any more
        sentinels = [k for k in sentinel_classes(cut.labels) if k]
        fallback = sub_head(cut.head, "auto") if s.alphabet == "auto" else None
        log.debug("event=ocr_alphabet alphabet=%s classes=%d sentinels=%d of=%d", s.alphabet,
                  len(keep) - len(sentinels), len(sentinels), len(labels))  # fmt: skip
        return TextRecognizer(sessions.open_session(cut.model, s.threads), cut.labels, options,
                              sentinels=sentinels, fallback=fallback)  # fmt: skip

    def read_page(self, page: PageImage) -> Page:
        """OCR one page. Boxes are in page units (pixels × page.scale); a page found rotated is
        returned upright, its width and height as read."""
        return self.read_batch([page])[0]

    def read_batch(self, pages: list[PageImage]) -> list[Page]:
        """OCR several pages, their line crops recognized together: fuller width-sorted batches
        (measured on receipts: recognition of 4 pages 1.13x as fast pooled as page by page)."""
        found = [self._detect(page) for page in pages]
        t2 = time.perf_counter()
        crops = [c for f in found for c in f.crops]
        recs = self._read_crops(crops)
        t3 = time.perf_counter()
        self.times.recognize += t3 - t2
        out, at = [], 0
        for page, f in zip(pages, found, strict=True):
            page_recs = recs[at:at + len(f.boxes)]
            at += len(f.boxes)
            lines = self._lines(f, page_recs, page.scale)
            log.debug("event=ocr_page number=%d lines=%d", page.number, len(lines))
            warnings: tuple[str, ...] = ()
            unread = sum(1 for rec in page_recs if rec.unread)
            if unread:
                log.warning("event=ocr_script_dropped page=%d lines=%d alphabet=%s", page.number, unread,
                            self.settings.alphabet)  # fmt: skip
                warnings = (f"page {page.number}: {unread} line(s) hold Chinese or Japanese characters that "
                            f"ocr.alphabet '{self.settings.alphabet}' leaves out (the default 'auto' reads them)",)
            width, height = page.size or (page.pixels.shape[1] * page.scale, page.pixels.shape[0] * page.scale)
            if f.turned:  # by 90 or 270 degrees
                width, height = height, width
            out.append(Page(number=page.number, width=width, height=height, lines=tuple(lines), warnings=warnings))
            self.times.pages += 1
        del found, crops, recs
        _release_memory()
        return out

    def _detect(self, page: PageImage) -> _Found:
        """The page upright and straight, its text boxes and their line crops."""
        # PP-OCR models were trained on OpenCV-loaded (BGR) images; feed them the same channel order.
        image = np.ascontiguousarray(page.pixels[:, :, ::-1])
        t0 = time.perf_counter()
        boxes = self.detector(image)
        turned = False
        if self.settings.detect_orientation and is_sideways(boxes):
            image = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
            boxes = self.detector(image)
            turned = True
        size = (image.shape[1], image.shape[0])
        matrix = None  # 3×3, from the page's frame (of `size` pixels) to the straightened image
        if self.settings.perspective and (corners := find_page(image, boxes)) is not None:
            image, matrix = flatten(image, corners)
            boxes = self.detector(image)
            log.debug("event=ocr_perspective page=%d corners=%s", page.number, corners.round().tolist())
        if self.settings.deskew and abs(skew := page_skew(boxes)) >= MIN_SKEW:
            image, turn = crop_to_text(*rotate_page(image, skew), boxes)
            matrix = turn if matrix is None else turn @ matrix
            boxes = self.detector(image)
            log.debug("event=ocr_deskew page=%d degrees=%.1f", page.number, skew)
        t1 = time.perf_counter()
        crops = [crop_line(image, b.quad) for b in boxes]
        if self.settings.detect_orientation and self.classifier.page_upside_down(crops):
            h, w = image.shape[:2]
            image = cv2.rotate(image, cv2.ROTATE_180)
            boxes = rotate_quads_180(boxes, w, h)
            crops = [crop_line(image, b.quad) for b in boxes]
            if matrix is not None:  # the page frame boxes are given in is turned over too
                matrix = _half_turn(w, h) @ matrix @ _half_turn(*size)
        self.times.detect += t1 - t0
        self.times.classify += time.perf_counter() - t1
        return _Found(image, boxes, crops, turned, matrix, size)

    def _read_crops(self, crops: list[np.ndarray]) -> list:  # type: ignore[type-arg]
        # A crop much taller than wide is a vertical stamp or a margin note; read it turned.
        crops = [np.rot90(c) if c.shape[0] >= 1.5 * c.shape[1] else c for c in crops]
        return self.recognizer(crops) if crops else []

    def _lines(self, found: _Found, recs: list, scale: float) -> list:  # type: ignore[type-arg]
        """Lines in reading order (worked out on the straightened page), their boxes in the page's frame."""
        items = [
            RecognizedBox(box, rec)
            for box, rec in zip(found.boxes, recs, strict=True)
            if rec.text.strip() and rec.confidence >= self.min_confidence
        ]
        lines = []
        for row in reading_order(items):
            if found.matrix is not None:
                row = [RecognizedBox(map_back(it.box, found.matrix, *found.size), it.rec) for it in row]
            line = row_to_line(row, scale)
            if line is not None:
                lines.append(line)
        return lines

    def model_names(self) -> dict[str, str]:
        """The model files in use, by role (GET /ocr/health)."""
        return dict(self.models)

    def read_pages(self, pages: list[PageImage]) -> list[Page]:
        """OCR several pages in order."""
        out = []
        for page in pages:
            out.append(self.read_page(page))
        return out


@dataclass
class _Found:
    """A page after detection: the image the boxes and crops are in (upright, straightened), and
    how to get back to the page's frame: `turned` by 90/270 degrees, and the 3×3 matrix from that
    frame (of `size` pixels) to the straightened image, when the page was flattened or deskewed."""

    image: np.ndarray
    boxes: list[TextBox]
    crops: list[np.ndarray]
    turned: bool
    matrix: np.ndarray | None
    size: tuple[int, int]


def _half_turn(width: int, height: int) -> np.ndarray:
    """3×3 matrix of turning a width × height image by 180 degrees (its own inverse)."""
    return np.array([[-1.0, 0.0, width - 1.0], [0.0, -1.0, height - 1.0], [0.0, 0.0, 1.0]])


def _release_memory() -> None:
    """Hand freed heap back to the OS after a page. A daemon otherwise keeps the high-water mark
    of its largest page for good (measured: 462 MB vs 264 MB resident after 10 pages)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def _libc():  # type: ignore[no-untyped-def]
    try:
        return ctypes.CDLL("libc.so.6")  # glibc only
    except OSError:
        return None


_LIBC = _libc()
_malloc_trim = getattr(_LIBC, "malloc_trim", None)
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's mallopt parameters (malloc.h)


def bound_heap_for_threads() -> bool:
    """For a process that OCRs pages on several threads at once, called before the threads start:
    one malloc arena for all threads (glibc gives each its own, and each keeps its own high-water
    mark), and every block of 8 MB or more (the recognizer's score maps, page images) mapped on its
    own and handed back when freed (glibc otherwise raises that limit as large blocks come and go,
    and keeps them in the heap). Measured with `inbox-ocr ocr` on a 10-page scan on two threads:
    peak RSS 464-506 MB with it, 536-704 MB without, for ~7% more time. False where it is not glibc."""
    mallopt = getattr(_LIBC, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_ARENA_MAX, 1)) and bool(mallopt(_M_MMAP_THRESHOLD, 8 << 20))


_ENGINES: dict[OcrSettings, OcrEngine] = {}


def get_engine(settings: OcrSettings | None = None) -> OcrEngine:
    """The process-wide engine for these settings (models are loaded once per process)."""
    s = settings or OcrSettings()
    engine = _ENGINES.get(s)
    if engine is None:
        if s.threads is not None:  # the process's OCR budget: OpenCV's image work stays within it too
            import cv2

            cv2.setNumThreads(s.threads)
        engine = _ENGINES[s] = OcrEngine(s)
    return engine
