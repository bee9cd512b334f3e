"""pymupdf, imported without its two add-ons: every module of ours imports pymupdf from here.

pymupdf 2 depends on pymupdf_layout and pymupdf4llm and imports both at its own import;
`pymupdf.layout` loads an ONNX page-layout model there and then. Together they cost every process
that reads a PDF about 0.45 s of start-up and 95 MB resident (measured: `import pymupdf` 0.55 s /
142 MB with them, 0.11 s / 47 MB without). They serve `Page.get_layout()` and
`pymupdf.to_markdown/to_text/to_json`, none of which inbox-ocr calls: it reads words with their
boxes (`get_text("words")`) and renders pages. Marking both as not importable before pymupdf's
first import makes pymupdf go on as it does when they are not installed. When pymupdf was
imported already (by a caller's own code) nothing is changed.
"""

from __future__ import annotations

import sys

if "pymupdf" not in sys.modules:
    for name in ("pymupdf.layout", "pymupdf4llm"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "cannot be imported"

import pymupdf  # noqa: E402

__all__ = ["pymupdf"]
