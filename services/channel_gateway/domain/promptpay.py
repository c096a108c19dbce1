"""PromptPay QR payloads: EMVCo merchant-presented mode as the Bank of Thailand's Thai QR Payment
standard profiles it (built here, no library: it is a few TLV fields and a CRC).

Tags: 00 payload format "01"; 01 "11" static (any amount) or "12" with an amount; 29 merchant
account: 00 AID A000000677010111, then 01 a mobile number as 0066 + 9 digits (13 chars) or 02 a
national id / tax id (13 digits); 58 "TH"; 53 "764" (THB); 54 the amount; 63 the CRC-16/CCITT-FALSE
of everything before it, "6304" included, as four upper-case hex digits.
"""

from __future__ import annotations

import re
from decimal import Decimal

PROMPTPAY_AID = "A000000677010111"
THB = "764"


class PromptPayIdError(ValueError):
    """Not a Thai mobile number nor a 13-digit national or tax id."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"EMVCo field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def _account(promptpay_id: str) -> str:
    """The merchant account sub-field for a phone number (01) or national/tax id (02)."""
    digits = re.sub(r"[\s+\-]", "", promptpay_id)
    if not digits.isdigit():
        raise PromptPayIdError(f"{promptpay_id!r} is not a PromptPay id")
    if len(digits) == 13:
        return _tlv("02", digits)
    if len(digits) == 10 and digits.startswith("0"):  # 081 234 5678: the local form
        return _tlv("01", "0066" + digits[1:])
    if len(digits) == 11 and digits.startswith("66"):  # +66 81 234 5678
        return _tlv("01", "0066" + digits[2:])
    raise PromptPayIdError(
        f"{promptpay_id!r} is neither a Thai mobile number nor a 13-digit national or tax id"
    )


def promptpay_payload(promptpay_id: str, amount: Decimal | None = None) -> str:
    """The text to put in the QR: pay `amount` THB (any amount when None) to this PromptPay id."""
    merchant = _tlv("00", PROMPTPAY_AID) + _account(promptpay_id)
    fields = [
        _tlv("00", "01"),
        _tlv("01", "11" if amount is None else "12"),
        _tlv("29", merchant),
        _tlv("58", "TH"),
        _tlv("53", THB),
    ]
    if amount is not None:
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValueError(f"{amount} is not an amount of baht and satang")
        fields.append(_tlv("54", _amount_text(amount)))
    body = "".join(fields) + "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def _amount_text(amount: Decimal) -> str:
    """The amount with two decimals ("4.22", "100.00"), as Thai banking apps read it."""
    return format(amount.quantize(Decimal("0.01")), "f")
