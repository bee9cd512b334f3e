"""`inbox-ocr ocr FILE...`: OCR images and PDFs from the command line with one loaded model.

Plain output is the text of each file in reading order; `--json` prints one JSON object per file:
{"file", "pages": [{"width", "height", "lines": [{"text", "confidence", "box"}]}], "seconds"}.
A file that cannot be read gives {"file", "error"} (or a message on stderr) and exit status 1,
after the other files have been read.

Several pages (of one file or of several) are read BATCH_PAGES at a time, their line crops
recognized together, on as many threads as there are cores, each with one ONNX Runtime thread
(`ocr.threads` unset); ONNX Runtime gives the GIL up while it runs, so the cores work on different
pages at once. One page alone gets every core on its own. Files are printed in the order given,
each as soon as it and the files before it are read; `seconds` is a file's wall time from loading
it to its last page read.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from inbox_ocr.app import exits
from inbox_ocr.kernel.errors import InboxOcrError
from inbox_ocr.kernel.models import Page

if TYPE_CHECKING:
    from inbox_ocr.kernel.settings import OcrSettings
    from inbox_ocr.read.ocr.images import PageImage

# Pages whose line crops are recognized together (fuller width-sorted batches). Measured against
# reading page by page with two ONNX Runtime threads, 10 receipts / a 10-page scan, 2026-12-01:
# 6.36 vs 6.81 s and 7.74 vs 7.95 s on a quiet machine, 9.04 vs 12.66 s and 10.02 vs 13.73 s with
# another process busy on one of the two cores (threads that wait for each other lose most there).
BATCH_PAGES = 3


@dataclass
class _File:
    path: Path
    start: float
    warnings: list[str] = field(default_factory=list)
    pages: list[Page | None] = field(default_factory=list)  # None until read
    error: str | None = None
    left: int = 0  # pages not read yet
    end: float = 0.0  # when its last page was read


def _load(path: Path, settings: OcrSettings, record: _File) -> list[PageImage]:
    """The file's page images; a file that cannot be read gets its error instead."""
    from inbox_ocr.read.ocr.files import page_images

    try:
        return page_images(path.read_bytes(), settings, record.warnings)
    except OSError as exc:
        record.error = click.FileError(str(path), exc.strerror).format_message()
    except InboxOcrError as exc:
        record.error = str(exc)
    return []


@click.command("ocr")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per file, one per line")
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="take the ocr: settings from this config file",
)
@click.option("--dpi", type=click.IntRange(72, 600), help="render PDF pages at this resolution")
def ocr_command(files: tuple[Path, ...], as_json: bool, config_path: Path | None, dpi: int | None) -> None:
    """OCR images (PNG, JPEG, TIFF, BMP, WebP) and PDFs; print their text in reading order."""
    from inbox_ocr.kernel.settings import OcrSettings
    from inbox_ocr.read.ocr.engine import bound_heap_for_threads, get_engine
    from inbox_ocr.read.ocr.session import default_threads

    if config_path:
        from inbox_ocr.app.cli.common import load  # the whole config: only when one is given

        settings = load(config_path).ocr
    else:
        settings = OcrSettings()
    if dpi:
        settings = settings.model_copy(update={"dpi": dpi})
    show = not as_json and sys.stderr.isatty()
    records: list[_File] = []
    printed = 0

    def finish() -> None:
        """Print the files that are done, in the order given."""
        nonlocal printed
        while printed < len(records) and records[printed].left == 0:
            _print(records[printed], len(files), as_json, show)
            printed += 1

    first = _File(files[0], time.perf_counter())
    first_images = _load(files[0], settings, first)
    cores = default_threads()
    # one page alone: every core on it; more pages: a worker thread per core, one ORT thread each
    workers = cores if settings.threads is None and (len(files) > 1 or len(first_images) > 1) else 1
    if workers > 1:
        bound_heap_for_threads()  # several pages at once must not cost several pages' peak memory
    engine = get_engine(settings.model_copy(update={"threads": 1}) if workers > 1 else settings)
    pending: deque[tuple[Future[list[Page]], list[tuple[_File, int, PageImage]]]] = deque()

    def harvest() -> None:
        future, batch = pending.popleft()
        pages: list[Page | None]
        try:
            pages = list(future.result())
        except InboxOcrError:  # which page it was: read them one by one, each error to its own file
            pages = []
            for record, _, image in batch:
                try:
                    pages.extend(engine.read_batch([image]))
                except InboxOcrError as exc:
                    record.error = record.error or str(exc)
                    pages.append(None)  # the file is printed as its error
        for (record, k, _), page in zip(batch, pages, strict=True):
            record.pages[k] = page
            record.warnings.extend(page.warnings if page else ())
            record.left -= 1
            record.end = time.perf_counter()
            if show:
                done = len(record.pages) - record.left
                click.echo(f"\r{record.path}: page {done}/{len(record.pages)} ...", err=True, nl=False)
        finish()

    with ThreadPoolExecutor(workers, thread_name_prefix="ocr") as pool:
        batch: list[tuple[_File, int, PageImage]] = []

        def submit() -> None:
            if len(pending) >= workers:  # at most one batch per worker in flight: memory stays bounded
                harvest()
            images = [image for _, _, image in batch]
            pending.append((pool.submit(engine.read_batch, images), list(batch)))
            batch.clear()

        for index, path in enumerate(files):
            record = first if index == 0 else _File(path, time.perf_counter())
            images = first_images if index == 0 else _load(path, settings, record)
            record.pages, record.left = [None] * len(images), len(images)
            records.append(record)
            for k, image in enumerate(images):
                batch.append((record, k, image))
                if len(batch) == BATCH_PAGES:
                    submit()
            finish()  # a file that failed to load, or has no pages, is printed in its turn
        if batch:
            submit()
        while pending:
            harvest()
    if show and printed:
        click.echo("\r\033[K", err=True, nl=False)
    sys.exit(exits.ITEMS if any(r.error for r in records) else exits.OK)


def _print(record: _File, count: int, as_json: bool, show: bool) -> None:
    from inbox_ocr.read.ocr.files import page_json

    if show:
        click.echo("\r\033[K", err=True, nl=False)  # the progress line gives way to the result
    if record.error is not None:
        if as_json:
            click.echo(json.dumps({"file": str(record.path), "error": record.error}, ensure_ascii=False))
        else:
            click.echo(f"{record.path}: error: {record.error}", err=True)
        return
    for warning in record.warnings:
        click.echo(f"{record.path}: warning: {warning}", err=True)
    pages = [page for page in record.pages if page is not None]
    if as_json:
        seconds = (record.end or time.perf_counter()) - record.start
        click.echo(json.dumps({"file": str(record.path), "pages": [page_json(p) for p in pages],
                               "seconds": round(seconds, 3)}, ensure_ascii=False))
    else:
        if count > 1:
            click.echo(f"==> {record.path} <==")
        click.echo("\n\n".join(p.text for p in pages))
