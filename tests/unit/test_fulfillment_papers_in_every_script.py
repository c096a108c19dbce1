"""Pick lists, packing slips and labels print Thai, Japanese, Chinese, Korean, Cyrillic, Greek and
Arabic-script names and addresses in fonts that have them, not as '?'."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

from services.fulfillment_service.documents import (
    LabelDocument,
    PackingSlipDocument,
    PickLine,
    PickListDocument,
    SlipLine,
    fonts,
    render_labels,
    render_packing_slip,
    render_pick_list,
    render_zpl,
)
from services.fulfillment_service.documents.fonts import BOLD, REGULAR, Run, runs
from services.fulfillment_service.documents.text import ELLIPSIS, fit, width, wrap
from services.fulfillment_service.domain import Address

THAI_TEE = "เสื้อยืดคอกลม"
JAPANESE_MUG = "湯呑み 有田焼"
CHINESE_TEA = "西湖龙井 绿茶"
RUSSIAN_DOLL = "Матрёшка"
GREEK_OIL = "Ελαιόλαδο"
ARABIC_DATES = "تمر مجدول"
TOKYO: Address = {
    "name": "山田 太郎",
    "line1": "千代田区丸の内1-1",
    "city": "東京都",
    "postal_code": "100-0005",
    "country": "JP",
}
SEOUL: Address = {
    "name": "김민준",
    "company": "주식회사 한빛",
    "line1": "서울특별시 강남구 테헤란로 123",
    "city": "서울",
    "postal_code": "06236",
    "country": "KR",
}
MOSCOW: Address = {
    "name": "Иван Петров",
    "line1": "ул. Ленина, д. 1",
    "city": "Москва",
    "postal_code": "101000",
    "country": "RU",
}
DUBAI: Address = {
    "name": "محمد العلي",
    "line1": "شارع الشيخ زايد",
    "city": "دبي",
    "postal_code": "00000",
    "country": "AE",
}
ITEMS = {
    "TEE-TH": THAI_TEE,
    "MUG-JP": JAPANESE_MUG,
    "TEA-CN": CHINESE_TEA,
    "DOLL-RU": RUSSIAN_DOLL,
    "OIL-GR": GREEK_OIL,
    "DATES-AE": ARABIC_DATES,
}
SSCC = "006141411234567890"


def pdf_text(content: bytes) -> str:
    """Every page's text, words separated by single spaces."""
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def pdf_fonts(content: bytes) -> set[str]:
    """The base font names the pages use (a subset's tag, AAAAAA+, left off)."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            name = str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1]
            # reportlab numbers the subsets of a big font (WenQuanYiZenHei-0, -1...): one name.
            names.add(name.split("-")[0] if name.startswith(fonts.CJK_EMBEDDED) else name)
    return names


def shows(text: str, expected: str) -> bool:
    """Whether the text has the expected one, spaces aside (extraction puts one between two
    fonts); Arabic by its letters, as extraction reorders right-to-left text."""
    if any("\u0600" <= char <= "\u06ff" for char in expected):
        return set(expected) - {" "} <= set(text)
    return expected.replace(" ", "") in text.replace(" ", "")


def label(ship_to: Address, contents: str) -> LabelDocument:
    return LabelDocument(
        ship_from=MOSCOW,
        ship_to=ship_to,
        carrier="oms-parcel",
        service="express",
        tracking_number="OMS123456789",
        sscc=SSCC,
        package_number=1,
        package_count=1,
        weight_grams=900,
        order_number="#1001",
        shipment_id="shipment-1",
        contents=contents,
    )


@pytest.mark.parametrize(
    ("text", "face", "country", "expected"),
    [
        ("Organic tee (Black / M)", REGULAR, None, [("Organic tee (Black / M)", REGULAR)]),
        ("Cafe\u0301 crème", REGULAR, None, [("Café crème", REGULAR)]),  # composed first
        (f"{THAI_TEE} M", REGULAR, None, [(f"{THAI_TEE} ", "NotoSansThai"), ("M", REGULAR)]),
        (f"{THAI_TEE} M", BOLD, None, [(f"{THAI_TEE} ", "NotoSansThai-Bold"), ("M", BOLD)]),
        ("ул. Ленина, д. 1", REGULAR, "RU", [("ул. Ленина, д. 1", "DejaVuSans")]),
        (f"2 x {GREEK_OIL}", BOLD, None, [("2 x ", BOLD), (GREEK_OIL, "DejaVuSans-Bold")]),
        (ARABIC_DATES, REGULAR, "AE", [(ARABIC_DATES, "DejaVuSans")]),
        ("Wrocław, Łódź", REGULAR, "PL", [("Wrocław, Łódź", "DejaVuSans")]),  # a font per word
        # Kana say Japanese, hangul Korean; Chinese characters alone go by the country.
        ("山田 太郎", REGULAR, "JP", [("山田 太郎", "HeiseiKakuGo-W5")]),
        ("山田 太郎", REGULAR, None, [("山田 太郎", "STSong-Light")]),
        ("山田 太郎", REGULAR, "TW", [("山田 太郎", "MSung-Light")]),
        (JAPANESE_MUG, REGULAR, None, [(JAPANESE_MUG, "HeiseiKakuGo-W5")]),
        (
            "테헤란로 123",
            REGULAR,
            None,
            [("테헤란로 ", "HYGothic-Medium"), ("123", REGULAR)],
        ),
        ("Ann \u0915 \u1200", REGULAR, None, [("Ann ? ?", REGULAR)]),  # no font has these
    ],
)
@pytest.mark.usefixtures("cid_only")
def test_a_text_splits_into_runs_each_in_a_font_that_has_its_characters(
    text: str, face: str, country: str | None, expected: list[tuple[str, str]]
) -> None:
    assert runs(text, face, country) == tuple(Run(part, font) for part, font in expected)


def test_widths_fit_and_wrap_measure_every_run_in_its_own_font() -> None:
    name = "山田 太郎 " + THAI_TEE
    assert width(name, REGULAR, 10, "JP") == pytest.approx(
        sum(
            fonts.pdfmetrics.stringWidth(run.text, run.font, 10)
            for run in runs(name, REGULAR, "JP")
        )
    )
    long = "東京都千代田区丸の内一丁目一番一号 新丸の内ビルディング 十階"
    cut = fit(long, REGULAR, 10, 120, "JP")
    assert cut.endswith(ELLIPSIS) and long.startswith(cut[:-1])
    assert width(cut, REGULAR, 10, "JP") <= 120
    lines = wrap(long, REGULAR, 10, 120, "JP")
    # No spaces to break at: the lines break between Japanese characters, nothing is lost.
    assert len(lines) >= 3 and "".join(lines).replace(" ", "") == long.replace(" ", "")
    assert all(width(line, REGULAR, 10, "JP") <= 120 for line in lines)


def test_the_pick_list_prints_item_names_in_every_script() -> None:
    doc = PickListDocument(
        pick_list_id="pl-1",
        location_id="WH-BKK",
        location_name="คลังสินค้า กรุงเทพ",
        created_at="2026-12-07 09:00",
        carrier="oms-parcel",
        status="open",
        lines=tuple(
            PickLine(sku, f"A-0{n}", name, 1, ((1, 1),))
            for n, (sku, name) in enumerate(ITEMS.items())
        ),
        slots=((1, "#1001", "shipment-1"),),
    )

    content = render_pick_list(doc)

    text = pdf_text(content)
    assert "?" not in text
    for name in [*ITEMS.values(), "คลังสินค้า กรุงเทพ"]:
        assert shows(text, name), name
    assert {"DejaVuSans", "NotoSansThai-Regular", fonts.CJK_EMBEDDED} <= pdf_fonts(content)


def test_the_packing_slip_prints_a_japanese_name_and_thai_items_and_note() -> None:
    doc = PackingSlipDocument(
        shipment_id="shipment-1",
        order_number="#1001",
        order_date="2026-12-07",
        ship_from=MOSCOW,
        ship_to=TOKYO,
        lines=tuple(SlipLine(sku, name, 1, 1, 0) for sku, name in ITEMS.items()),
        packages=((SSCC, 900, "OMS123456789"),),
        note="玄関前に置いてください。 วางไว้หน้าประตู",
    )

    content = render_packing_slip(doc)

    text = pdf_text(content)
    assert "?" not in text
    for expected in [
        *ITEMS.values(),
        *TOKYO.values(),
        *MOSCOW.values(),
        "玄関前に置いてください。",
        "วางไว้หน้าประตู",
    ]:
        assert shows(text, expected), expected
    assert {"DejaVuSans", "NotoSansThai-Regular", fonts.CJK_EMBEDDED} <= pdf_fonts(content)


def test_labels_print_korean_and_arabic_addresses_and_the_contents() -> None:
    content = render_labels(
        [label(SEOUL, f"2 x {THAI_TEE}; 1 x {JAPANESE_MUG}"), label(DUBAI, f"1 x {ARABIC_DATES}")]
    )

    text = pdf_text(content)
    assert "?" not in text
    for expected in [*SEOUL.values(), *DUBAI.values(), *MOSCOW.values(), THAI_TEE, JAPANESE_MUG]:
        assert shows(text, expected), expected
    # The ship-to's name is bold: DejaVu's bold face for Arabic; hangul in the embedded CJK font.
    assert {"DejaVuSans-Bold", fonts.CJK_EMBEDDED, "NotoSansThai-Regular"} <= pdf_fonts(content)


def test_zpl_labels_carry_every_script_as_utf8_field_data() -> None:
    zpl = render_zpl([label(SEOUL, f"2 x {THAI_TEE}"), label(TOKYO | {"name": "山田^太郎"}, "")])

    formats = zpl.split("^XZ")[:-1]
    assert len(formats) == 2 and all(part.lstrip().startswith("^XA^CI28") for part in formats)
    assert "^FD김민준^FS" in zpl and "^FD서울특별시 강남구 테헤란로 123^FS" in zpl
    assert f"^FD2 x {THAI_TEE}^FS" in zpl and "^FD101000 Москва^FS" in zpl
    # A caret in a name would start a command: it goes as a hex escape, the rest as UTF-8.
    assert "^FH\\^FD山田\\5E太郎^FS" in zpl
    assert "山田\\5E太郎".encode() in zpl.encode("utf-8")


@pytest.fixture
def no_font_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The TrueType fonts' files are missing, as on a machine without the font packages."""
    monkeypatch.setattr(
        fonts, "TTF_FILES", {name: ("/nonexistent/font.ttf",) for name in fonts.TTF_FILES}
    )
    fonts.reset()
    yield
    fonts.reset()


@pytest.fixture
def cid_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The embedded CJK font's file is missing: Chinese, Japanese and Korean go by CID fonts."""
    monkeypatch.setitem(fonts.TTF_FILES, fonts.CJK_EMBEDDED, ("/nonexistent/font.ttc",))
    fonts.reset()
    yield
    fonts.reset()


@pytest.mark.parametrize("text", ["山田 太郎", JAPANESE_MUG, "테헤란로", CHINESE_TEA])
def test_chinese_japanese_and_korean_print_in_the_embedded_font_when_it_is_there(
    text: str,
) -> None:
    fonts.reset()
    assert runs(text, BOLD, "JP") == (Run(text, fonts.CJK_EMBEDDED),)


@pytest.mark.usefixtures("cid_only")
def test_without_the_embedded_cjk_font_the_slip_names_the_cid_font_of_the_language() -> None:
    slip = PackingSlipDocument(
        shipment_id="shipment-1",
        order_number="#1001",
        order_date="2026-12-07",
        ship_from=MOSCOW,
        ship_to=TOKYO,
        lines=(SlipLine("MUG-JP", JAPANESE_MUG, 1, 1, 0),),
    )
    content = render_packing_slip(slip)
    assert shows(pdf_text(content), JAPANESE_MUG)
    assert "HeiseiKakuGo-W5" in pdf_fonts(content)
    assert fonts.CJK_EMBEDDED not in pdf_fonts(content)


@pytest.mark.usefixtures("no_font_files")
def test_without_the_font_files_those_characters_print_as_question_marks_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slip = PackingSlipDocument(
        shipment_id="shipment-1",
        order_number="#1001",
        order_date="2026-12-07",
        ship_from=MOSCOW,
        ship_to=TOKYO,
        lines=(SlipLine("TEE-TH", THAI_TEE, 1, 1, 0), SlipLine("MUG-JP", JAPANESE_MUG, 1, 1, 0)),
    )

    with caplog.at_level(logging.WARNING, logger=fonts.__name__):
        first = render_packing_slip(slip)
        render_packing_slip(slip)

    text = pdf_text(first)
    assert "?" * 8 in text and "ул" not in text and "Москва" not in text  # DejaVu's are gone
    assert JAPANESE_MUG in text  # CJK fonts need no file
    warned = [record.getMessage() for record in caplog.records]
    assert len([line for line in warned if "NotoSansThai " in line]) == 1
    assert len([line for line in warned if "DejaVuSans " in line]) == 1


def test_once_the_files_are_back_a_reset_finds_the_fonts_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fonts, "TTF_FILES", {name: () for name in fonts.TTF_FILES})
    fonts.reset()
    assert runs(THAI_TEE, REGULAR) == (Run("?" * len(THAI_TEE), REGULAR),)

    monkeypatch.undo()
    fonts.reset()

    assert runs(THAI_TEE, REGULAR) == (Run(THAI_TEE, "NotoSansThai"),)
