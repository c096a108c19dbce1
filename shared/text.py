"""Text as searches compare it: one form per meaning, whatever the script or the case."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """The searchable form of a name or an e-mail: NFKC (full-width letters become ASCII, half-width
    katakana full-width), then case-folded (Ж is ж, ß is ss), runs of whitespace one space.

    Done here, not by PostgreSQL's lower(), which folds only ASCII under a C locale.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching values that contain `text` literally (its % and _ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def grams(*texts: str) -> list[str]:
    """Every two and every three characters in a row of the texts (山田太郎: 山田, 田太, 太郎,
    山田太, 田太郎), two without a space: a part of one of the texts holds only grams of it."""
    pairs = {t[i : i + 2] for t in texts for i in range(len(t) - 1) if " " not in t[i : i + 2]}
    triples = {t[i : i + 3] for t in texts for i in range(len(t) - 2)}
    return sorted(pairs | triples)


def grams_of_part(part: str) -> list[str]:
    """The grams a text holding `part` (two characters or more, folded) holds: the part itself
    if two characters long, else its three characters in a row."""
    if len(part) == 2:
        return [part]
    return sorted({part[i : i + 3] for i in range(len(part) - 2)})
