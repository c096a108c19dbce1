"""Fonts for every script the papers print: text split into runs, each in a font that has it.

Latin-1 text stays in the standard Helvetica (nothing embedded); other Latin, Greek, Cyrillic,
Arabic and Hebrew come from DejaVu Sans, Thai from Noto Sans Thai, Japanese, Chinese and Korean
from WenQuanYi Zen Hei (all TrueType, subset into the PDF, so a print server without fonts prints
them); without that file, CJK falls back to reportlab's CID fonts (named, not embedded: the
viewer or printer supplies them). Fonts are registered on first use, once per process; a font
file that is missing is logged once and its characters print as '?', as before.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

BOLD, REGULAR = "Helvetica-Bold", "Helvetica"
MISSING = "?"

CJK_EMBEDDED = "WenQuanYiZenHei"  # one face for Chinese, Japanese and Korean, bold included
# TrueType fonts by the name registered with reportlab: the files tried, first found wins
# (Debian: fonts-dejavu-core, fonts-noto-core; fonts-thai-tlwg's Loma as a second choice).
TTF_FILES: dict[str, tuple[str, ...]] = {
    "DejaVuSans": ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",),
    "DejaVuSans-Bold": ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",),
    "NotoSansThai": (
        "/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf",
        "/usr/share/fonts/truetype/tlwg/Loma.ttf",
    ),
    "NotoSansThai-Bold": (
        "/usr/share/fonts/truetype/noto/NotoSansThai-Bold.ttf",
        "/usr/share/fonts/truetype/tlwg/Loma-Bold.ttf",
    ),
    # Debian fonts-wqy-zenhei: TrueType outlines (Noto CJK is CFF, which reportlab cannot embed).
    CJK_EMBEDDED: ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",),
}
# After the face itself, the TrueType fonts tried in order; a bold face falls back to regular.
TTF_CHAIN: dict[str, tuple[str, ...]] = {
    REGULAR: ("DejaVuSans", "NotoSansThai"),
    BOLD: ("DejaVuSans-Bold", "NotoSansThai-Bold", "DejaVuSans", "NotoSansThai"),
}
JAPANESE, KOREAN = "HeiseiKakuGo-W5", "HYGothic-Medium"
CHINESE, CHINESE_TRADITIONAL = "STSong-Light", "MSung-Light"
# Chinese characters alone do not tell the language: the country of the text decides.
HAN_BY_COUNTRY = {
    "JP": JAPANESE,
    "KR": KOREAN,
    "TW": CHINESE_TRADITIONAL,
    "HK": CHINESE_TRADITIONAL,
    "MO": CHINESE_TRADITIONAL,
}

KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF))
HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
# CJK punctuation, enclosed and compatibility forms, full-width forms: in whichever CJK font.
CJK_OTHER = ((0x3000, 0x303F), (0x3200, 0x33FF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))
CJK = KANA + HANGUL + HAN + CJK_OTHER

_LOCK = threading.Lock()
_FOUND: dict[str, TTFont | None] = {}  # TrueType fonts looked up by name, None when missing


@dataclass(frozen=True)
class Run:
    """Part of a text drawn in one font."""

    text: str
    font: str


@functools.lru_cache(maxsize=4096)
def runs(text: str, face: str, country: str | None = None) -> tuple[Run, ...]:
    """The text split into runs by font; a character no font has becomes '?' in the face.

    face is BOLD or REGULAR; country (ISO code) picks the font of Chinese characters in a text
    without kana or hangul.
    """
    text = unicodedata.normalize("NFC", text)
    if _latin1(text):
        return (Run(text, face),) if text else ()
    cjk = _cjk_font(text, country)
    chain = _chain(face)
    result: list[Run] = []
    for word in re.split(r"(\s+)", text):
        whole = _whole_word_font(word, chain)
        for char in word:
            font = whole or _font_of(char, face, chain, cjk, result[-1].font if result else None)
            if font is None:
                font, char = face, MISSING
            if result and result[-1].font == font:
                result[-1] = Run(result[-1].text + char, font)
            else:
                result.append(Run(char, font))
    return tuple(result)


def _whole_word_font(word: str, chain: tuple[TTFont, ...]) -> str | None:
    """The TrueType font for all of a word that Helvetica cannot show, when one has it all.

    One font per word: 'Łódź' in DejaVu, not a DejaVu Ł beside a Helvetica ó.
    """
    if not word or _latin1(word) or any(_within(char, CJK) for char in word):
        return None
    for font in chain:
        if all(ord(char) in font.face.charToGlyph for char in word):
            return str(font.fontName)
    return None


def run_width(parts: Iterable[Run], size: float) -> float:
    """Width of the runs side by side, in points."""
    return sum(pdfmetrics.stringWidth(part.text, part.font, size) for part in parts)


def _latin1(text: str) -> bool:
    """Whether the standard fonts show all of it (their WinAnsi encoding is cp1252)."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _within(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def _cjk_font(text: str, country: str | None) -> str:
    """The CID font for the CJK characters of the text: kana say Japanese, hangul Korean."""
    if any(_within(char, KANA) for char in text):
        return JAPANESE
    if any(_within(char, HANGUL) for char in text):
        return KOREAN
    return HAN_BY_COUNTRY.get((country or "").upper(), CHINESE)


def _font_of(
    char: str, face: str, chain: tuple[TTFont, ...], cjk: str, previous: str | None
) -> str | None:
    """The font to draw one character in; None when no font has it."""
    # Spaces, punctuation, digits and marks stay in the font of the text before them when it
    # has them: 'ул. Ленина, д. 1' is one run, not a Helvetica dot between Cyrillic words.
    if previous and not unicodedata.category(char).startswith("L") and _has(previous, char):
        return previous
    if _latin1(char):
        return face
    if _within(char, CJK):
        return _cjk(cjk)
    for font in chain:
        if ord(char) in font.face.charToGlyph:
            return str(font.fontName)
    return None


def _has(font: str, char: str) -> bool:
    """Whether a registered font has the character (CID fonts are asked for CJK only)."""
    if font in (BOLD, REGULAR):
        return _latin1(char)
    registered = pdfmetrics.getFont(font)
    if isinstance(registered, TTFont):
        return ord(char) in registered.face.charToGlyph
    return char == " " or _within(char, CJK)


@functools.cache
def _chain(face: str) -> tuple[TTFont, ...]:
    """The TrueType fonts found for a face, registered on first use."""
    return tuple(font for name in TTF_CHAIN[face] if (font := _ttf(name)) is not None)


def _ttf(name: str) -> TTFont | None:
    """A TrueType font registered with reportlab, or None (logged once) when no file is there."""
    # Documents render in the web server's threads: the first ones must not load a font twice.
    with _LOCK:
        if name not in _FOUND:
            _FOUND[name] = _load(name)
        return _FOUND[name]


def _load(name: str) -> TTFont | None:
    for path in TTF_FILES[name]:
        if not Path(path).is_file():
            continue
        try:
            font = TTFont(name, path)
        except (OSError, TTFError):
            log.warning("font %s at %s cannot be read", name, path, exc_info=True)
            continue
        pdfmetrics.registerFont(font)
        return font
    fallback = "CID fonts the viewer supplies" if name == CJK_EMBEDDED else "'?'"
    log.warning(
        "font %s not found (%s): its characters print in %s on PDFs",
        name,
        ", ".join(TTF_FILES[name]),
        fallback,
    )
    return None


def _cjk(language_font: str) -> str:
    """The embedded CJK font when its file is there, else the language's CID font."""
    embedded = _ttf(CJK_EMBEDDED)
    return str(embedded.fontName) if embedded is not None else _cid(language_font)


@functools.cache
def _cid(name: str) -> str:
    """A CID font registered with reportlab (its metrics ship with reportlab, no file needed)."""
    pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def reset() -> None:
    """Forget the fonts looked up, so that the next use looks again (tests change TTF_FILES)."""
    with _LOCK:
        runs.cache_clear()
        _chain.cache_clear()
        _FOUND.clear()
