"""The MIME stage: raw RFC 5322 bytes -> ParsedMessage (headers, body text, attachments, part errors).

    parse.py    parse_message: the walk over the parts, with one error per bad part
    headers.py  header decoding that survives what real mail sends
    decode.py   charsets, file names, HTML to text, content type sniffing
"""

from inbox_ocr.mime.parse import parse_message

__all__ = ["parse_message"]
