"""Settings the core's stages read, as parts of the config file (assembled in ``app/config.py``).

    OcrSettings          `ocr:`            the OCR core (read stage)
    UnderstandingSettings `understanding:` vendor templates (understand stage)
    Limits               `limits:`         sizes, pages, attempts, time and memory per document
    LogSettings          `log:`
    SourceSettings       what every source has (name, poll_every, quarantine_folder, batch_size);
                         each connector's config extends it beside the connector
    DeliveryPolicy       how often and how patiently a webhook is retried (the outbox reads it);
                         the webhook sink's config extends it
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from inbox_ocr.kernel.config_types import ByteSize, Duration, Strict


class OcrSettings(Strict):
    enabled: bool = True
    dpi: int = Field(default=200, ge=72, le=600)
    max_pages: int = Field(default=20, ge=1)
    max_pixels: int = Field(default=40_000_000, ge=1_000_000)
    det_model: Path | None = Field(default=None, description="DB text detector ONNX; default: by det_precision")
    det_precision: Literal["auto", "int8", "float32"] = Field(
        default="auto", description="int8: the shipped quantized detector (a third of the CPU time, the same lines "
        "on the OCR benchmarks); float32: the original it was built from; auto: int8 on CPUs with int8 dot "
        "products (x86 VNNI), float32 elsewhere")
    rec_model: Path | None = Field(default=None, description="CTC line recognizer ONNX; default: bundled")
    rec_dict: Path | None = Field(default=None, description="character list, one per line; default: model metadata")
    threads: int | None = Field(default=None, ge=1, description="threads OCR may use in a process (ONNX Runtime's "
                                "intra-op threads and OpenCV's); default: cores. 1 with one worker process per core")
    det_max_side: int = Field(default=960, ge=256, le=4096, description="long side of the text detector's input")
    rec_batch_size: int = Field(default=8, ge=1, le=64, description="line crops per recognizer call")
    min_line_confidence: float = Field(default=0.5, ge=0, le=1, description="drop recognized lines below this")
    detect_orientation: bool = Field(default=True, description="turn pages scanned at 90/180/270 degrees")
    deskew: bool = Field(default=True, description="straighten pages scanned or photographed at an angle "
                         "(up to 45 degrees), found from the detected lines")
    perspective: bool = Field(default=True, description="look square on at a phone photo of a page: its four "
                              "corners found against the background, never cutting away detected text")
    alphabet: Literal["auto", "latin", "all"] = Field(
        default="auto", description="characters the recognizer may output: auto = European Latin script, and "
        "Chinese/Japanese on the lines where the recognizer sees them; latin = Latin only (a page where "
        "the recognizer saw CJK gets a warning); all = every class of the model (Cyrillic, Greek, Hangul ...)"
    )
    rec_min_width: int = Field(default=64, ge=32, le=1024, description="narrowest recognizer input (pixels)")
    rec_space_boost: float = Field(default=10.0, ge=1, le=1000, description="prior on the recognizer's space "
                                   "class: a blank frame is read as a word gap where the space is >= 1/boost as likely")


class UnderstandingSettings(Strict):
    templates_dir: Path | None = Field(default=None, description="folder of invoice2data YAML templates")


class Limits(Strict):
    max_message_bytes: ByteSize = 50 * 1024**2
    max_attachment_bytes: ByteSize = 25 * 1024**2
    max_attachments: int = Field(default=50, ge=1)
    max_pdf_pages: int = Field(default=200, ge=1)
    max_document_words: int = Field(default=100_000, ge=1000, description="text-layer words one document "
                                    "keeps (about 40 dense pages); later pages are left out with a warning, "
                                    "so a huge PDF cannot swell the daemon")
    max_attempts: int = Field(default=5, ge=1, description="transient failures before a message is quarantined")
    document_seconds: Duration = Field(default=120.0, description="reading one document (text layer, OCR) is "
                                       "stopped after this long and becomes a per-document error")
    message_seconds: Duration = Field(default=600.0, description="reading the documents of one message stops "
                                      "after this long; the ones not read yet get an error (the message is routed)")
    document_memory: ByteSize | None = Field(default=3 * 1024**3, description="address-space limit of the "
                                             "process that reads documents (none: no limit)")
    isolate_documents: bool = Field(default=True, description="read documents in a worker process that is "
                                    "killed at the time limit (the daemon, and `extract` and `process` unless "
                                    "given --no-sandbox)")


class LogSettings(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class AttachmentFilter(Strict):
    """Which attachments of a source's messages are read: logos and signature images cost nothing.
    A skipped part is named, with why, in the message's audit trail."""

    include: list[str] = Field(default_factory=list, description="file name globs (case-insensitive) to read; "
                               "empty: every readable attachment")
    exclude: list[str] = Field(default_factory=list, description="file name globs never read (e.g. 'logo*', "
                               "'image0*.png')")
    min_bytes: ByteSize | None = Field(default=None, description="smaller files are not read")
    min_inline_image_pixels: int = Field(default=0, ge=0, description="inline images (in the body, e.g. a "
                                         "signature logo) whose longer side is shorter than this are not read")

    def skip_reason(self, filename: str, size: int, inline_image_side: int | None) -> str | None:
        """Why an attachment is not read, or None to read it. `inline_image_side`: the longer side
        in pixels of an inline image (None for anything else)."""
        import fnmatch

        name = filename.lower()
        if self.include and not any(fnmatch.fnmatchcase(name, g.lower()) for g in self.include):
            return f"not in attachments.include ({', '.join(self.include)})"
        for glob in self.exclude:
            if fnmatch.fnmatchcase(name, glob.lower()):
                return f"attachments.exclude {glob!r}"
        if self.min_bytes is not None and size < self.min_bytes:
            return f"{size} bytes, under attachments.min_bytes ({self.min_bytes})"
        if inline_image_side is not None and inline_image_side < self.min_inline_image_pixels:
            return (f"inline image of {inline_image_side} px, under attachments.min_inline_image_pixels "
                    f"({self.min_inline_image_pixels})")
        return None


class SourceSettings(Strict):
    """What every source has; `connectors/*` extend it with a `type` and their own keys."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    enabled: bool = True
    poll_every: Duration = 60.0
    quarantine_folder: str = "Quarantine"
    batch_size: int = Field(default=100, gt=0)
    attachments: AttachmentFilter = AttachmentFilter()


class DeliveryPolicy(Strict):
    """Retries of one webhook; `connectors/webhook_out` extends it with the target and its auth."""

    max_attempts: int = Field(default=8, ge=1)
    backoff: Duration = Field(default=30.0, description="first retry delay; doubles each attempt")
    max_backoff: Duration = 3600.0
    jitter: float = Field(default=0.25, ge=0, le=1, description="up to this fraction added to each retry delay")
