"""`inbox-ocr ocr FILE...`: OCR images and PDFs from the command line with one loaded model.

Plain output is the text of each file in reading order; `--json` prints one JSON object per file:
{"file", "pages": [{"width", "height", "lines": [{"text", "confidence", "box"}]}], "seconds"}.
A file that cannot be read gives {"file", "error"} (or a message on stderr) and exit status 1,
after the other files have been read.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from inbox_ocr.app import exits
from inbox_ocr.kernel.errors import InboxOcrError
from inbox_ocr.kernel.models import Page


def _pages_of(path: Path, engine, settings, warnings: list[str], show: bool) -> list[Page]:  # type: ignore[no-untyped-def]
    """The file's pages OCRed one by one; with `show`, "FILE: page 2/5" on the terminal (stderr)
    while it works: a 5-page scan takes half a minute."""
    from inbox_ocr.read.ocr.files import page_images

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.FileError(str(path), exc.strerror) from exc
    images = page_images(data, settings, warnings)
    pages: list[Page] = []
    for number, image in enumerate(images, 1):
        if show:
            click.echo(f"\r{path}: page {number}/{len(images)} ...", err=True, nl=False)
        read = engine.read_pages([image])
        pages.extend(read)
        warnings.extend(w for page in read for w in page.warnings)
    if show and images:
        click.echo("\r\033[K", err=True, nl=False)  # the progress line gives way to the result
    return pages


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
    from inbox_ocr.read.ocr.engine import get_engine
    from inbox_ocr.read.ocr.files import page_json

    if config_path:
        from inbox_ocr.app.cli.common import load  # the whole config: only when one is given

        settings = load(config_path).ocr
    else:
        settings = OcrSettings()
    if dpi:
        settings = settings.model_copy(update={"dpi": dpi})
    engine = get_engine(settings)
    failed = False
    show = not as_json and sys.stderr.isatty()
    for path in files:
        start = time.perf_counter()
        warnings: list[str] = []
        try:
            pages = _pages_of(path, engine, settings, warnings, show)
        except (InboxOcrError, click.FileError) as exc:
            failed = True
            message = exc.format_message() if isinstance(exc, click.FileError) else str(exc)
            if as_json:
                click.echo(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
            else:
                click.echo(f"{path}: error: {message}", err=True)
            continue
        for warning in warnings:
            click.echo(f"{path}: warning: {warning}", err=True)
        seconds = time.perf_counter() - start
        if as_json:
            record = {
                "file": str(path),
                "pages": [page_json(p) for p in pages],
                "seconds": round(seconds, 3),
            }
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            if len(files) > 1:
                click.echo(f"==> {path} <==")
            click.echo("\n\n".join(p.text for p in pages))
    sys.exit(exits.ITEMS if failed else exits.OK)
