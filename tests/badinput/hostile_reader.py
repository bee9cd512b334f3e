"""A read function for the sandbox tests that misbehaves on purpose, chosen by file name; any other
file is read by the real `read_document`. Runs inside the reader worker process."""

from __future__ import annotations

import os
import time
from typing import Any

from inbox_ocr.kernel.models import Document
from inbox_ocr.read import read_document


def read(data: bytes, **kwargs: Any) -> Document:
    name = kwargs.get("filename")
    if name == "loops-forever.pdf":
        while True:  # a parser stuck in a loop
            time.sleep(0.05)
    if name == "eats-memory.pdf":
        # 16 GiB, far past the memory limit; bytes(n) takes zeroed pages from the system without
        # touching them (bytearray(n) writes every byte: seconds on a busy machine, past the time limit)
        hog = [bytes(256 * 1024**2) for _ in range(64)]
        return Document(filename=str(len(hog)), content_type="x", sha256="x", reading="unreadable")
    if name == "segfaults.pdf":
        os.kill(os.getpid(), 11)
    return read_document(data, **kwargs)
