"""The bench's profile summary charges each sample to the deepest function of our own code."""

from __future__ import annotations

from shared.cli.bench_profile import hot_spots

COLLAPSED = "\n".join(
    [
        "run (uvloop/__init__.py:100);apply (/repo/shared/runtime/consumer.py:12);"
        "dumps (json/encoder.py:5) 30",
        "run (uvloop/__init__.py:100);apply (/repo/shared/runtime/consumer.py:12) 10",
        "run (uvloop/__init__.py:100);place (/repo/services/order_service/domain/order.py:40);"
        "validate (pydantic/main.py:7) 50",
        "select (selectors.py:469) 10",
        "a line that is not a stack",
    ]
)


def test_samples_are_charged_to_our_deepest_function_with_what_it_called() -> None:
    assert hot_spots(COLLAPSED, top=5) == [
        ("place (order.py)", 50.0),
        ("apply (consumer.py)", 40.0),
        ("select (selectors.py)", 10.0),
    ]


def test_no_samples_give_no_hot_spots() -> None:
    assert hot_spots("", top=3) == []
