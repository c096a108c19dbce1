"""GS1 numbers on logistic labels: the SSCC-18 and its mod-10 check digit.

Pure arithmetic, so it lives in the domain (stdlib only); a unit test holds the check digit
to python-stdnum's. How an SSCC is drawn as a barcode is the documents' business.
"""

from __future__ import annotations

from dataclasses import dataclass

SSCC_AI = "00"  # the GS1 application identifier of an SSCC


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a digit string (weights 3, 1, 3, ... from the right)."""
    total = sum(int(d) * (3 if n % 2 == 0 else 1) for n, d in enumerate(reversed(digits)))
    return str(-total % 10)


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

    @property
    def counter(self) -> str:
        """The serial counter this format's SSCCs take their serial references from."""
        return f"sscc:{self.extension_digit}{self.company_prefix}"

    def sscc(self, serial: int) -> str:
        """The 18-digit SSCC of a serial reference, check digit included."""
        if not 0 < serial < 10**self.serial_digits:
            raise ValueError(f"serial {serial} does not fit {self.serial_digits} digits")
        body = f"{self.extension_digit}{self.company_prefix}{serial:0{self.serial_digits}d}"
        return body + check_digit(body)


def is_valid_sscc(sscc: str) -> bool:
    """18 digits whose last is the GS1 mod-10 check digit of the other 17."""
    return len(sscc) == 18 and sscc.isdigit() and check_digit(sscc[:-1]) == sscc[-1]
