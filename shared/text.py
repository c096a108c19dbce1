"""Text as searches compare it: one form per meaning, whatever the script or the case."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """The searchable form of a name or an e-mail: NFKC (full-width letters become ASCII, half-width
    katakana full-width), then case-folded (Ж is ж, ß is ss), outer whitespace dropped.

    Done here, not by PostgreSQL's lower(), which folds only ASCII under a C locale.
    """
    return unicodedata.normalize("NFKC", text).casefold().strip()


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching values that contain `text` literally (its % and _ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def prefix_pattern(text: str) -> str:
    """A LIKE pattern matching values that start with `text` literally."""
    return contains_pattern(text)[1:]


def bigrams(*texts: str) -> list[str]:
    """Every two characters in a row of the texts (山田太郎: 山田, 田太, 太郎), none with a space:
    a trigram index cannot find a part of two characters, an index of these can."""
    pairs = {text[i : i + 2] for text in texts for i in range(len(text) - 1)}
    return sorted(pair for pair in pairs if not any(c.isspace() for c in pair))
