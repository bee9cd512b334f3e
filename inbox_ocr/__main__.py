"""`python -m inbox_ocr ...` is the `inbox-ocr` command."""

from inbox_ocr.app.cli import main

if __name__ == "__main__":
    main(prog_name="inbox-ocr")
