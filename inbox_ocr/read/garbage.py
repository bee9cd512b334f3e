"""Is a PDF text layer garbage? Then the page is OCRed like a scan.

Garbage text layers come from fonts without a usable ToUnicode map (private-use code points,
U+FFFD, control characters, or glyph ids that land on random punctuation) and from bad OCR layers
added by scanners. Real text, in any Latin-script language, is mostly letters and digits forming
tokens that contain a vowel or a digit; garbage is not.
"""

from __future__ import annotations

import re
import unicodedata

_LEADERS = frozenset("._-–—·…=*")
# removed with one regex sub (str.translate of non-ASCII text looks every character up in a dict)
_LEADER_RUNS = re.compile("[" + re.escape("".join(sorted(_LEADERS))) + "]+")
_NOT_LATIN = re.compile(r"[^\x00-\u024f]")
_VOWELS = frozenset("aeiouyäöüàáâãåæèéêëìíîïòóôõøùúûýÿœAEIOUYÄÖÜÀÁÂÃÅÆÈÉÊËÌÍÎÏÒÓÔÕØÙÚÛÝŸŒ")


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
    # dot leaders and rules (tables of contents, forms) are punctuation but not garbage
    inked = _LEADER_RUNS.sub("", chars)
    if inked and sum(map(str.isalnum, inked)) / len(inked) < 0.5:
        return True
    # Non-Latin scripts (no Latin vowels) are not judged by the vowel test.
    latin = sum(map(str.isalpha, _NOT_LATIN.sub("", chars)))
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


def _mostly_letters(token: str) -> bool:
    return sum(map(str.isalpha, token)) >= 0.6 * len(token)
