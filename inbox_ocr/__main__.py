"""`python -m inbox_ocr ...` is the `inbox-ocr` command."""

from inbox_ocr.app.cli import main

main(prog_name="inbox-ocr")
