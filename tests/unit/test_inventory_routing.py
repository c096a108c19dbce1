"""Routing rules: the ordered rule list, the exact search for fewest shipments, explanations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.inventory_service.application.routing import bundled_centroids, parse_centroids
from services.inventory_service.domain import (
    Destination,
    Explanation,
    PartialPolicy,
    Policy,
    Site,
    haversine_km,
    parse_rules,
    plan,
)
from services.inventory_service.domain.routing import greedy, shipments

BERLIN = (52.52, 13.40)
MUNICH = (48.14, 11.58)
HAMBURG = (53.55, 9.99)


def _sites(*ids: str) -> list[Site]:
    return [Site(loc, "DE", priority) for priority, loc in enumerate(ids, start=1)]


def _lost(explanation: Explanation, location_id: str) -> tuple[str | None, str]:
    for candidate in explanation["candidates"]:
        if candidate["location_id"] == location_id:
            return candidate["lost_on"], candidate["why"]
    raise AssertionError(f"{location_id} is no candidate")


# -- the counterexample of greedy routing ------------------------------------------------------

COUNTER = {"X": {"A": 1, "C": 1}, "Y": {"B": 1, "C": 1}, "W": {"D": 1}}


def test_the_fewest_shipments_rule_ships_from_c_and_d_where_greedy_made_three() -> None:
    requested = {"X": 1, "Y": 1, "W": 1}
    ranked = ["A", "B", "C", "D"]
    assert shipments(greedy(requested, COUNTER, ranked)) == 3

    routed = plan(requested, COUNTER, _sites(*ranked), Destination("DE"))

    assert routed.shortages == []
    assert sorted(a["location_id"] for a in routed.allocations) == ["C", "C", "D"]
    explanation = routed.explanation
    assert explanation["decided_by"] == "fewest_shipments"
    assert (explanation["search"], explanation["shipments"]) == ("exact", 2)
    assert _lost(explanation, "A") == ("fewest_shipments", "every plan with it needs more than 2")
    assert _lost(explanation, "B")[0] == "fewest_shipments"
    assert _lost(explanation, "C") == (None, "chosen")
    assert _lost(explanation, "D") == (None, "chosen")


def test_without_the_fewest_shipments_rule_the_split_stays_greedy() -> None:
    policy = Policy(rules=("allowed", "single_location", "priority"))
    routed = plan(
        {"X": 1, "Y": 1, "W": 1}, COUNTER, _sites("A", "B", "C", "D"), Destination("DE"), policy
    )
    assert shipments(routed.allocations) == 3
    assert routed.explanation["search"] == "greedy"
    assert _lost(routed.explanation, "C") == ("priority", "priority 3, A has 1")


# -- orderings: nearest, priority, same country ------------------------------------------------


def test_nearest_beats_priority_when_it_comes_first_in_the_rules() -> None:
    sites = [Site("munich", "DE", 1, MUNICH), Site("hamburg", "DE", 9, HAMBURG)]
    available = {"A": {"munich": 5, "hamburg": 5}}
    nearest_first = Policy(rules=("single_location", "nearest", "priority"))
    routed = plan({"A": 1}, available, sites, Destination("DE", BERLIN), nearest_first)
    assert routed.allocations == [{"sku": "A", "location_id": "hamburg", "quantity": 1}]
    assert routed.explanation["decided_by"] == "nearest"
    lost_on, why = _lost(routed.explanation, "munich")
    assert lost_on == "nearest"
    assert why == "504 km from the ship-to, hamburg 255 km"

    priority_first = Policy(rules=("single_location", "priority", "nearest"))
    routed = plan({"A": 1}, available, sites, Destination("DE", BERLIN), priority_first)
    assert routed.allocations[0]["location_id"] == "munich"
    assert routed.explanation["decided_by"] == "priority"


def test_a_location_of_unknown_place_ranks_after_every_known_one_by_distance() -> None:
    sites = [Site("nowhere", "DE", 1, None), Site("hamburg", "DE", 9, HAMBURG)]
    routed = plan(
        {"A": 1},
        {"A": {"nowhere": 1, "hamburg": 1}},
        sites,
        Destination("DE", BERLIN),
        Policy(rules=("nearest", "priority")),
    )
    assert routed.allocations[0]["location_id"] == "hamburg"
    assert (
        _lost(routed.explanation, "nowhere")[1]
        == "unknown distance from the ship-to, hamburg 255 km"
    )


def test_one_location_that_fills_the_order_wins_and_the_others_could_not_alone() -> None:
    available = {"A": {"L1": 5, "L2": 5}, "B": {"L1": 0, "L2": 2}}
    routed = plan({"A": 2, "B": 2}, available, _sites("L1", "L2"), Destination("DE"))
    assert {a["location_id"] for a in routed.allocations} == {"L2"}
    assert routed.explanation["decided_by"] == "single_location"
    assert _lost(routed.explanation, "L1") == (
        "single_location",
        "cannot fill the whole order alone",
    )


def test_same_country_ranks_before_priority_by_default() -> None:
    sites = [Site("venlo", "NL", 1), Site("berlin", "DE", 20)]
    routed = plan({"A": 1}, {"A": {"venlo": 1, "berlin": 1}}, sites, Destination("DE"))
    assert routed.allocations[0]["location_id"] == "berlin"
    assert _lost(routed.explanation, "venlo") == (
        "same_country",
        "in NL, not the ship-to country like berlin",
    )


def test_a_line_no_location_can_fill_alone_is_split_by_preference() -> None:
    available = {"A": {"L1": 2, "L2": 0, "L3": 4}}
    routed = plan({"A": 5}, available, _sites("L1", "L2", "L3"), Destination("DE"))
    assert routed.allocations == [
        {"sku": "A", "location_id": "L1", "quantity": 2},
        {"sku": "A", "location_id": "L3", "quantity": 3},
    ]
    assert _lost(routed.explanation, "L2") == ("stock", "holds none of the units")


# -- channels: allowed locations, no splits ----------------------------------------------------


def test_a_location_the_channel_does_not_sell_from_is_never_used() -> None:
    policy = Policy(allowed=frozenset({"L2"}))
    routed = plan(
        {"A": 1}, {"A": {"L1": 5, "L2": 5}}, _sites("L1", "L2"), Destination("DE"), policy
    )
    assert routed.allocations[0]["location_id"] == "L2"
    assert _lost(routed.explanation, "L1") == ("allowed", "not a location of the order's channel")


def test_a_channel_that_forbids_splits_waits_rather_than_ship_from_two_locations() -> None:
    available = {"A": {"L1": 1, "L2": 0}, "B": {"L1": 0, "L2": 1}}
    no_splits = Policy(splits=False)
    routed = plan({"A": 1, "B": 1}, available, _sites("L1", "L2"), Destination("DE"), no_splits)
    assert routed.allocations == []
    assert routed.shortages == [{"sku": "B", "requested": 1, "available": 0}]
    # The same order of a channel that splits ships in two.
    split = plan({"A": 1, "B": 1}, available, _sites("L1", "L2"), Destination("DE"))
    assert shipments(split.allocations) == 2


def test_a_channel_that_forbids_splits_takes_the_one_location_that_fills_it() -> None:
    available = {"A": {"L1": 1, "L2": 1}, "B": {"L1": 0, "L2": 1}}
    routed = plan(
        {"A": 1, "B": 1}, available, _sites("L1", "L2"), Destination("DE"), Policy(splits=False)
    )
    assert {a["location_id"] for a in routed.allocations} == {"L2"}
    assert routed.shortages == []


# -- partial policies --------------------------------------------------------------------------

SHORT = {"A": {"L1": 2}, "B": {"L1": 1}}


def test_wait_all_holds_nothing_when_a_line_is_short() -> None:
    routed = plan({"A": 1, "B": 3}, SHORT, _sites("L1"), Destination("DE"))
    assert routed.allocations == []
    assert routed.shortages == [{"sku": "B", "requested": 3, "available": 1}]
    assert routed.explanation["decided_by"] == "stock"


def test_backorder_rest_and_ship_available_hold_what_is_there() -> None:
    for partial in (PartialPolicy.BACKORDER_REST, PartialPolicy.SHIP_AVAILABLE):
        routed = plan(
            {"A": 1, "B": 3}, SHORT, _sites("L1"), Destination("DE"), Policy(partial=partial)
        )
        assert routed.allocations == [
            {"sku": "A", "location_id": "L1", "quantity": 1},
            {"sku": "B", "location_id": "L1", "quantity": 1},
        ]
        assert routed.shortages == [{"sku": "B", "requested": 3, "available": 1}]


# -- bounds, config, geography -----------------------------------------------------------------


def test_beyond_its_budget_the_exact_search_settles_for_greedy() -> None:
    tiny = Policy(exact_budget=3)
    routed = plan(
        {"X": 1, "Y": 1, "W": 1}, COUNTER, _sites("A", "B", "C", "D"), Destination("DE"), tiny
    )
    assert routed.explanation["search"] == "greedy"
    assert shipments(routed.allocations) == 3


def test_rules_are_parsed_in_order_and_unknown_or_repeated_ones_refused() -> None:
    assert parse_rules("allowed, nearest,priority") == ("allowed", "nearest", "priority")
    for bad in ("allowed,closest", "priority,priority"):
        try:
            parse_rules(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")


def test_haversine_gives_the_distance_between_berlin_and_munich() -> None:
    assert round(haversine_km(BERLIN, MUNICH)) == 504


def test_centroids_place_a_postal_code_by_its_longest_prefix_else_the_country() -> None:
    centroids = parse_centroids(
        "country,postal_prefix,latitude,longitude\nDE,,51,10\nDE,1,52.5,13.4\nDE,10,52.52,13.40\n"
    )
    assert centroids.locate("DE", "10115") == (52.52, 13.40)
    assert centroids.locate("DE", "14467") == (52.5, 13.4)
    assert centroids.locate("DE", "80331") == (51.0, 10.0)
    assert centroids.locate("FR", "75001") is None
    assert centroids.locate(None) is None


def test_the_bundled_centroid_table_knows_every_country() -> None:
    from shared.countries import COUNTRIES

    table = bundled_centroids()
    assert set(table.countries) == set(COUNTRIES)
    assert all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in table.countries.values())


# -- properties --------------------------------------------------------------------------------

LOCATIONS = ["L1", "L2", "L3", "L4", "L5"]
SKUS = ["S1", "S2", "S3", "S4"]


@st.composite
def _orders(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=4, unique=True))
    requested = {sku: draw(st.integers(1, 5)) for sku in skus}
    available = {sku: {loc: draw(st.integers(-1, 4)) for loc in LOCATIONS} for sku in skus}
    return requested, available


@settings(max_examples=300, deadline=None)
@given(_orders())
def test_the_exact_search_never_ships_more_than_greedy_nor_holds_more_than_there_is(
    order: tuple[dict[str, int], dict[str, dict[str, int]]],
) -> None:
    requested, available = order
    sites = _sites(*LOCATIONS)
    routed = plan(requested, available, sites, Destination("DE"))
    if routed.shortages:
        assert routed.allocations == []
        return
    assert shipments(routed.allocations) <= shipments(greedy(requested, available, LOCATIONS))
    held: dict[tuple[str, str], int] = {}
    for allocation in routed.allocations:
        key = (allocation["sku"], allocation["location_id"])
        held[key] = held.get(key, 0) + allocation["quantity"]
    for (sku, loc), quantity in held.items():
        assert 0 < quantity <= available[sku][loc]
    for sku, quantity in requested.items():
        assert sum(q for (s, _), q in held.items() if s == sku) == quantity
    chosen = {c["location_id"] for c in routed.explanation["candidates"] if c["lost_on"] is None}
    assert chosen == {a["location_id"] for a in routed.allocations}


@settings(max_examples=200, deadline=None)
@given(_orders(), st.sampled_from(list(PartialPolicy)), st.booleans())
def test_held_and_short_units_add_up_to_the_order_under_every_partial_policy(
    order: tuple[dict[str, int], dict[str, dict[str, int]]],
    partial: PartialPolicy,
    splits: bool,
) -> None:
    requested, available = order
    policy = Policy(partial=partial, splits=splits)
    routed = plan(requested, available, _sites(*LOCATIONS), Destination("DE"), policy)
    held: dict[tuple[str, str], int] = {}
    for allocation in routed.allocations:
        key = (allocation["sku"], allocation["location_id"])
        held[key] = held.get(key, 0) + allocation["quantity"]
    assert all(0 < q <= available[sku][loc] for (sku, loc), q in held.items())
    if not splits:
        assert len({loc for _, loc in held}) <= 1
    if partial == PartialPolicy.WAIT_ALL and routed.shortages:
        assert held == {}
        return
    if not held:
        return
    missing = {s["sku"]: s["requested"] - s["available"] for s in routed.shortages}
    for sku, quantity in requested.items():
        got = sum(q for (s, _), q in held.items() if s == sku)
        assert got + max(0, missing.get(sku, 0)) == quantity
