"""inbox-ocr: reads vendor invoices arriving in shared finance inboxes and routes the mail by rules.

The Python API (inbox_ocr/app/api.py): `extract_file`, `extract_bytes`, `ocr_image`. They are
imported on first use, so `import inbox_ocr` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inbox_ocr.app.api import extract_bytes, extract_file, ocr_image

    __version__: str

__all__ = ["__version__", "extract_bytes", "extract_file", "ocr_image"]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata costs 40 ms: only when asked
        from importlib import metadata

        try:
            return metadata.version("inbox-ocr")
        except metadata.PackageNotFoundError:  # run from a checkout that was never installed
            return "0+unknown"
    if name in ("extract_bytes", "extract_file", "ocr_image"):
        from inbox_ocr.app import api

        return getattr(api, name)
    raise AttributeError(f"module 'inbox_ocr' has no attribute {name!r}")
