"""Customer message templates: placeholders filled, unknown ones refused, holes never sent."""

from __future__ import annotations

import pytest

from services.channel_gateway.domain import (
    DEFAULT_TEMPLATES,
    TEMPLATE_KEYS,
    ChatTemplates,
    InvalidTemplateError,
    MissingValuesError,
    check_templates,
    effective,
    placeholders_in,
    render,
)

VALUES = {
    "order_no": "B-2567-0042",
    "customer_name": "สมชาย ใจดี",
    "tracking_code": "TH0123456789A",
    "tracking_url": "https://track.example.th/?n=TH0123456789A",
}


def test_every_placeholder_is_filled_in_a_thai_text():
    text = "คุณ[customer_name] คำสั่งซื้อ [order_no] เลขพัสดุ [tracking_code] ดูที่ [tracking_url]"

    assert render(text, VALUES) == (
        "คุณสมชาย ใจดี คำสั่งซื้อ B-2567-0042 เลขพัสดุ TH0123456789A"
        " ดูที่ https://track.example.th/?n=TH0123456789A"
    )


def test_brackets_that_are_not_placeholder_words_stay_the_merchant_s_text():
    assert render("[ด่วน] order [order_no] [1/2]", VALUES) == "[ด่วน] order B-2567-0042 [1/2]"


def test_a_value_that_looks_like_a_placeholder_is_not_filled_again():
    values = {**VALUES, "customer_name": "[tracking_url]"}

    assert render("Hi [customer_name]", values) == "Hi [tracking_url]"


def test_a_template_needing_a_value_the_message_lacks_is_not_rendered():
    with pytest.raises(MissingValuesError, match=r"\[tracking_url\]"):
        render("Track it: [tracking_url]", {"order_no": "B-1"})


def test_an_unknown_placeholder_is_refused_naming_it_and_the_known_ones():
    with pytest.raises(InvalidTemplateError) as refused:
        check_templates({"en": {"shipped": "Order [order_number] left with [carrier]"}})

    message = str(refused.value)
    assert "en.shipped" in message and "[order_number], [carrier]" in message
    assert "[tracking_url]" in message  # the known ones are listed


@pytest.mark.parametrize(
    ("templates", "problem"),
    [
        ({"de": {"shipped": "x"}}, "language 'de'"),
        ({"en": {"lost": "x"}}, "status 'lost'"),
        ({"th": {"paid": "   "}}, "empty"),
    ],
)
def test_unknown_languages_statuses_and_empty_texts_are_refused(templates, problem):
    with pytest.raises(InvalidTemplateError, match=problem):
        check_templates(templates)


def test_every_default_uses_only_known_placeholders_in_english_and_thai():
    check_templates(DEFAULT_TEMPLATES)
    for language in ("en", "th"):
        assert set(DEFAULT_TEMPLATES[language]) == set(TEMPLATE_KEYS)
    assert placeholders_in(DEFAULT_TEMPLATES["th"]["shipped"]) == [
        "order_no",
        "tracking_code",
        "tracking_url",
    ]


def test_a_shipment_without_tracking_to_share_has_a_text_that_needs_none():
    for language in ("en", "th"):
        untracked = DEFAULT_TEMPLATES[language]["shipped_untracked"]
        assert placeholders_in(untracked) == ["order_no"]
        assert "2567-0042" in render(untracked, {"order_no": "2567-0042"})
    check_templates({"th": {"shipped_untracked": "ส่งแล้วค่ะ [order_no]"}})  # merchants may word it


def test_the_merchant_s_texts_replace_the_defaults_only_where_written():
    texts = effective({"th": {"shipped": "ส่งแล้ว [order_no]"}})

    assert texts["th"]["shipped"] == "ส่งแล้ว [order_no]"
    assert texts["th"]["paid"] == DEFAULT_TEMPLATES["th"]["paid"]
    assert texts["en"] == DEFAULT_TEMPLATES["en"]


def test_an_edit_with_an_unknown_placeholder_changes_nothing():
    templates = ChatTemplates(overrides={"en": {"paid": "Paid: [order_no]"}})

    with pytest.raises(InvalidTemplateError):
        templates.edit({"en": {"paid": "Paid: [total]"}})

    assert templates.overrides == {"en": {"paid": "Paid: [order_no]"}}
    assert templates.text("en", "paid") == "Paid: [order_no]"
    assert templates.edit({"en": {"paid": "Paid: [order_no]"}}) is False  # no event
