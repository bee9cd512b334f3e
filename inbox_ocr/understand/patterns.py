"""Regular expressions written so that Python's regex engine can skip to where a match may begin.

`re.search` tries a pattern at every position of the text unless the pattern begins with a literal
character or a set of them: then the engine jumps from one such character to the next. Two common
ways of writing a word pattern lose that:

- a leading look-behind, `(?<![^\\W_])(?:gmbh|ag|...)` ("not after a letter or digit"): `literal_first`
  moves it behind each alternative's first character, `g(?<![^\\W_].)mbh|a(?<![^\\W_].)g|...`, which
  asks the same of the character before the match (alternatives with the same first character share
  it: the look-behind is checked once where a match may begin);
- `re.IGNORECASE` with letters first (a cased letter is no literal to that optimization): the text is
  searched in `fold`ed form, lower case and of the same length, by a pattern written in lower case.

Both are exact rewrites; the unit tests compare them with the original patterns on many texts.
"""

from __future__ import annotations

import re

# The non-ASCII characters that re.IGNORECASE takes for ASCII letters (the re module's documentation
# names these four); İ also lower-cases to two characters, which would shift every position after it.
ASCII_LOOKALIKES = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
_LOOKALIKE_TABLE = str.maketrans(ASCII_LOOKALIKES)
# `not_before` of literal_first for a word: not right after a letter or digit ("_" does not count)
LETTER_OR_DIGIT = r"[^\W_]"


def fold(text: str) -> str:
    """`text` in lower case with the look-alikes of ASCII letters as those letters: what a lower-case
    pattern matches in it is what the pattern with re.IGNORECASE matches in `text`, at the same
    positions (for patterns of Latin letters; every position keeps its character)."""
    # str.translate looks each character up in a dict: only text with a look-alike needs it (the keys
    # of ASCII_LOOKALIKES written out: four `in` tests cost a quarter of one regex search; a unit test
    # ties the table to these four)
    if text.isascii() or not ("\u0130" in text or "\u0131" in text or "\u017f" in text or "\u212a" in text):
        return text.lower()
    return text.translate(_LOOKALIKE_TABLE).lower()


def literal_first(alternatives: str, not_before: str) -> str:
    """`(?<!{not_before})(?:{alternatives})` written so that the regex engine can skip to the characters
    that begin an alternative: the alternatives are grouped by their first character, and each group
    checks the look-behind once, right after that character (`g(?<!{not_before}.)(?:mbh|br)|...`).
    Alternatives with different first characters never match at the same place, so grouping keeps
    which alternative wins. Each top-level alternative must begin with a literal character (escaped
    or not) that is not repeated or optional; `not_before` must match one character. For patterns
    compiled without re.IGNORECASE (search `fold`ed text instead). The result has the alternatives'
    groups, no new ones."""
    groups: dict[str, list[str]] = {}
    for alternative in _top_level(alternatives):
        if not alternative:
            raise ValueError("an empty alternative matches everywhere: no literal first character")
        if alternative[0] == "\\":
            first, rest = alternative[:2], alternative[2:]
            if len(first) < 2 or first[1].isalnum():  # \d, \w, \b ... are classes or assertions
                raise ValueError(f"alternative {alternative!r} does not begin with a literal character")
        elif alternative[0] in "([.^$*+?{|":
            raise ValueError(f"alternative {alternative!r} does not begin with a literal character")
        else:
            first, rest = alternative[0], alternative[1:]
        if rest[:1] in ("*", "+", "?", "{"):
            raise ValueError(f"alternative {alternative!r}: its first character is repeated or optional")
        groups.setdefault(first[-1], []).append(rest)  # "\\-" and "-" are one character
    return "|".join(f"{re.escape(char)}(?<!{not_before}.)" + (rests[0] if len(rests) == 1 else f"(?:{'|'.join(rests)})")
                    for char, rests in groups.items())


def _top_level(pattern: str) -> list[str]:
    """The alternatives of `pattern` split at the '|' outside groups and character sets."""
    parts, depth, in_set, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_set:
            in_set = ch != "]"
        elif ch == "[":
            in_set = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # "[]...]", "[^]...]": that first ] is a member
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


__all__ = ["ASCII_LOOKALIKES", "LETTER_OR_DIGIT", "fold", "literal_first"]
