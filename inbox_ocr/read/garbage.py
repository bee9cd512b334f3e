"""Is a PDF text layer garbage? Then the page is OCRed like a scan.

Garbage text layers come from fonts without a usable ToUnicode map (private-use code points,
U+FFFD, control characters, or glyph ids that land on random punctuation) and from bad OCR layers
added by scanners. Real text, in any Latin-script language, is mostly letters and digits forming
tokens that contain a vowel or a digit; garbage is not.
"""

from __future__ import annotations

import re
import string
import unicodedata

_LEADERS = frozenset("._-–—·…=*")
_VOWELS = frozenset("aeiouyäöüàáâãåæèéêëìíîïòóôõøùúûýÿœAEIOUYÄÖÜÀÁÂÃÅÆÈÉÊËÌÍÎÏÒÓÔÕØÙÚÛÝŸŒ")
# Characters are counted the way bytes.translate counts: the ASCII ones of a text in one call, the
# few others one by one (a call per character over a page's text was a fiftieth of a text-layer
# document's instructions)
_ASCII_LEADERS = "".join(sorted(c for c in _LEADERS if c.isascii())).encode()
_ASCII_LETTERS = string.ascii_letters.encode()  # str.isalpha() of an ASCII character
_ASCII_LETTERS_AND_DIGITS = (string.ascii_letters + string.digits).encode()  # str.isalnum()
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def looks_garbled(text: str) -> bool:
    """True for text a reader would call garbage (see module docstring); False for short texts,
    which carry too little evidence either way."""
    words = text.split()  # str.split() splits at str.isspace() characters
    chars = "".join(words)
    if len(chars) < 40:
        return False
    if not chars.isprintable() or "\ufffd" in chars:  # printable: no Cc, Cf, Cs, Co, Cn, Z* at all
        bad = sum(1 for c in chars if unicodedata.category(c) in ("Co", "Cc", "Cn", "Cs") or c == "\ufffd")
        if bad / len(chars) > 0.1:
            return True
    ascii_chars = chars.encode("ascii", "ignore")
    others = _NON_ASCII.findall(chars) if len(ascii_chars) < len(chars) else []
    # dot leaders and rules (tables of contents, forms) are punctuation but not garbage
    inked = len(chars) - _count(ascii_chars, _ASCII_LEADERS) - sum(c in _LEADERS for c in others)
    if inked and (_count(ascii_chars, _ASCII_LETTERS_AND_DIGITS) + sum(map(str.isalnum, others))) / inked < 0.5:
        return True
    # Non-Latin scripts (no Latin vowels) are not judged by the vowel test.
    latin = _count(ascii_chars, _ASCII_LETTERS) + sum(c <= "\u024f" and c.isalpha() for c in others)
    if latin / len(chars) <= 0.5:
        return False
    tokens = [t for t in words if not _LEADERS.issuperset(t)]
    enough = 0.5 * max(1, len(tokens))  # word-like tokens that make the text real
    wordlike = 0
    for t in tokens:
        if t.isalpha():  # most tokens: no digit, all letters
            if _VOWELS.isdisjoint(t):
                continue
        elif not (any(map(str.isdigit, t)) or (not _VOWELS.isdisjoint(t) and _mostly_letters(t))):
            continue
        wordlike += 1
        if wordlike >= enough:
            return False
    return True


def _count(ascii_text: bytes, members: bytes) -> int:
    """How many bytes of `ascii_text` are among `members`."""
    return len(ascii_text) - len(ascii_text.translate(None, members))


def _mostly_letters(token: str) -> bool:
    return sum(map(str.isalpha, token)) >= 0.6 * len(token)
