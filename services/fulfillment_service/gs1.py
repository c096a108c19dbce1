"""GS1 numbers on logistic labels: SSCC-18 with its mod-10 check digit, AI (00) strings."""

from __future__ import annotations

from dataclasses import dataclass

from stdnum import ean, gs1_128

SSCC_AI = "00"


@dataclass(frozen=True)
class SsccFormat:
    """How this merchant's SSCCs are built: extension digit + GS1 company prefix + serial."""

    company_prefix: str = "0614141"  # GS1's own example prefix; configure the merchant's
    extension_digit: int = 0

    def __post_init__(self) -> None:
        if not (self.company_prefix.isdigit() and 6 <= len(self.company_prefix) <= 12):
            raise ValueError("a GS1 company prefix has 6 to 12 digits")
        if not 0 <= self.extension_digit <= 9:
            raise ValueError("the SSCC extension digit is 0-9")

    @property
    def serial_digits(self) -> int:
        """Digits left for the serial reference (17 data digits in all)."""
        return 16 - len(self.company_prefix)

    def sscc(self, serial: int) -> str:
        """The 18-digit SSCC of a serial reference, check digit included."""
        if not 0 < serial < 10**self.serial_digits:
            raise ValueError(f"serial {serial} does not fit {self.serial_digits} digits")
        body = f"{self.extension_digit}{self.company_prefix}{serial:0{self.serial_digits}d}"
        return body + ean.calc_check_digit(body)


def is_valid_sscc(sscc: str) -> bool:
    """18 digits whose last is the GS1 mod-10 check digit of the other 17."""
    return len(sscc) == 18 and sscc.isdigit() and ean.calc_check_digit(sscc[:-1]) == sscc[-1]


def sscc_element_string(sscc: str) -> str:
    """The GS1-128 data of an SSCC: AI (00) followed by the 18 digits (FNC1 goes before it)."""
    return gs1_128.encode({SSCC_AI: sscc})


def sscc_text(sscc: str) -> str:
    """The human-readable line under the barcode: (00) and the digits."""
    return f"({SSCC_AI}) {sscc}"
