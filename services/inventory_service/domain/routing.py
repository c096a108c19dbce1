"""Routing rules: which locations fill an order, decided by an ordered rule list, explained.

Filters drop locations (the channel's allowed ones), choosers pick a set of locations (one
location for the whole order, the fewest shipments), orderings rank locations (nearest to the
ship-to, same country, priority). Every plan says which rule decided and why each other
candidate lost, so ops can read it back from the reservation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import combinations
from typing import TypedDict

from services.inventory_service.domain.base import Allocation, Shortage

Point = tuple[float, float]
"""Latitude and longitude in degrees."""

ALLOWED = "allowed"
SINGLE_LOCATION = "single_location"
FEWEST_SHIPMENTS = "fewest_shipments"
NEAREST = "nearest"
SAME_COUNTRY = "same_country"
PRIORITY = "priority"
ORDERINGS = (NEAREST, SAME_COUNTRY, PRIORITY)
RULES = frozenset({ALLOWED, SINGLE_LOCATION, FEWEST_SHIPMENTS, *ORDERINGS})
DEFAULT_RULES = (ALLOWED, SINGLE_LOCATION, FEWEST_SHIPMENTS, SAME_COUNTRY, PRIORITY)
"""Today's preference (same country, then priority) with fewer shipments first."""

# Facts, not configurable rules: a candidate without the units, a channel without splits.
STOCK = "stock"
NO_SPLITS = "no_splits"
ONLY_CANDIDATE = "only_candidate"
TIE = "location_id"

EXACT_LINES = 10
"""Orders with more SKUs than this are split greedily: the exact search is exponential."""
EXACT_BUDGET = 2_000
"""Sets of locations the exact search tries at most before it settles for greedy."""

EARTH_RADIUS_KM = 6371.0088


class PartialPolicy(StrEnum):
    """What a channel does with an order that cannot be filled in full now."""

    WAIT_ALL = "wait_all"  # hold nothing, wait until every line can be filled (today's way)
    BACKORDER_REST = "backorder_rest"  # hold what is there, the rest waits for stock
    SHIP_AVAILABLE = "ship_available"  # hold what is there, the rest is not waited for


class Candidate(TypedDict):
    """A location routing looked at; lost_on is None for the chosen ones."""

    location_id: str
    priority: int
    country: str
    distance_km: int | None
    lost_on: str | None
    why: str


class Explanation(TypedDict):
    """Why an order went where it went: the rules, the rule that decided, every candidate."""

    rules: list[str]
    decided_by: str
    search: str  # "single", "exact" or "greedy"
    shipments: int
    candidates: list[Candidate]


@dataclass(frozen=True)
class Site:
    """A location as routing sees it; point None: its coordinates are unknown."""

    location_id: str
    country: str
    priority: int
    point: Point | None = None


@dataclass(frozen=True)
class Destination:
    """Where the order goes: its ship-to country and coordinates, where known."""

    country: str | None
    point: Point | None = None


@dataclass(frozen=True)
class Policy:
    """The ordered rules, and the channel's locations, splits and partial policy."""

    rules: tuple[str, ...] = DEFAULT_RULES
    allowed: frozenset[str] | None = None
    splits: bool = True
    partial: PartialPolicy = PartialPolicy.WAIT_ALL
    exact_lines: int = EXACT_LINES
    exact_budget: int = EXACT_BUDGET


@dataclass
class Plan:
    """Where the units are held, what is short, and why."""

    allocations: list[Allocation]
    shortages: list[Shortage]
    explanation: Explanation
    losers: dict[str, tuple[str, str]] = field(default_factory=dict)
    waits_on: list[str] = field(default_factory=list)
    """SKUs whose arrival may fill what is short: the order waits in their queues."""
    short: list[Shortage] = field(default_factory=list)
    """Lines held only in part, the rest given up (the channel ships what is there)."""
    rest: list[Shortage] = field(default_factory=list)
    """Lines held only in part, the rest waits for stock (the channel backorders the rest)."""


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance between two points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def parse_rules(text: str) -> tuple[str, ...]:
    """A comma-separated rule list, checked: ValueError names an unknown or repeated rule."""
    rules = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [rule for rule in rules if rule not in RULES]
    if unknown:
        raise ValueError(f"unknown routing rules {unknown}; known: {sorted(RULES)}")
    if len(set(rules)) != len(rules):
        raise ValueError(f"a routing rule is listed twice: {list(rules)}")
    return rules


class _Router:
    """One routing decision; holds what the rules need to compare candidates."""

    def __init__(self, sites: Sequence[Site], destination: Destination, policy: Policy) -> None:
        self.policy = policy
        self.destination = destination
        self.sites = {site.location_id: site for site in sites}
        self.distance = {
            site.location_id: _distance(site.point, destination.point) for site in sites
        }
        self.orderings = [rule for rule in policy.rules if rule in ORDERINGS]

    def key(self, location_id: str) -> tuple[float | int | str, ...]:
        """The ranking key of a location: each ordering rule in turn, then its id."""
        return (*(self.measure(rule, location_id) for rule in self.orderings), location_id)

    def measure(self, rule: str, location_id: str) -> float | int:
        """How a location scores on one ordering rule; lower is preferred."""
        site = self.sites[location_id]
        if rule == NEAREST:
            known = self.distance[location_id]
            return math.inf if known is None else known
        if rule == SAME_COUNTRY:
            return int(site.country != self.destination.country)
        return site.priority

    def outranked(self, loser: str, winner: str) -> tuple[str, str]:
        """The first ordering rule on which the winner beats the loser, and how."""
        for rule in self.orderings:
            lost, won = self.measure(rule, loser), self.measure(rule, winner)
            if lost == won:
                continue
            if rule == NEAREST:
                return rule, f"{_km(lost)} from the ship-to, {winner} {_km(won)}"
            if rule == SAME_COUNTRY:
                country = self.sites[loser].country
                return rule, f"in {country}, not the ship-to country like {winner}"
            return rule, f"priority {lost}, {winner} has {won}"
        return TIE, f"equal to {winner} on every rule; ids decide"

    def candidate(self, location_id: str, lost_on: str | None, why: str) -> Candidate:
        """One candidate as the explanation lists it."""
        site = self.sites[location_id]
        distance = self.distance[location_id]
        return {
            "location_id": location_id,
            "priority": site.priority,
            "country": site.country,
            "distance_km": None if distance is None else round(distance),
            "lost_on": lost_on,
            "why": why,
        }


def plan(
    requested: Mapping[str, int],
    available: Mapping[str, Mapping[str, int]],
    sites: Sequence[Site],
    destination: Destination,
    policy: Policy = Policy(),
) -> Plan:
    """Where to hold an order's units, by the policy's rules; sites are the open locations."""
    router = _Router(sites, destination, policy)
    losers: dict[str, tuple[str, str]] = {}
    usable: list[str] = []
    restricted = ALLOWED in policy.rules and policy.allowed is not None
    for location_id in sorted(router.sites):
        if restricted and policy.allowed is not None and location_id not in policy.allowed:
            losers[location_id] = (ALLOWED, "not a location of the order's channel")
            continue
        if not any(_free(available, sku, location_id) for sku in requested):
            losers[location_id] = (STOCK, "holds none of the units")
            continue
        usable.append(location_id)
    ranked = sorted(usable, key=router.key)
    totals = {sku: sum(_free(available, sku, loc) for loc in ranked) for sku in requested}
    shortages = _shortages(requested, totals)
    target = dict(requested)
    if shortages:
        if policy.partial == PartialPolicy.WAIT_ALL:
            return _finish(router, [], shortages, [], losers, "none")
        target = {sku: min(q, totals[sku]) for sku, q in requested.items() if totals[sku] > 0}
    if not policy.splits:
        return _unsplit(router, requested, target, available, ranked, losers)
    fillers = [loc for loc in ranked if _fills(target, available, [loc])]
    if SINGLE_LOCATION in policy.rules and fillers:
        chosen = fillers[0]
        for loc in ranked:
            if loc == chosen:
                continue
            if loc in fillers:
                losers[loc] = router.outranked(loc, chosen)
            else:
                losers[loc] = (SINGLE_LOCATION, "cannot fill the whole order alone")
        allocations = _allocate(target, available, [chosen])
        return _finish(router, allocations, shortages, [chosen], losers, "single")
    search = "greedy"
    chosen_set: list[str] | None = None
    if FEWEST_SHIPMENTS in policy.rules and len(target) <= policy.exact_lines:
        chosen_set = _fewest(target, available, ranked, policy.exact_budget)
        search = "exact" if chosen_set is not None else "greedy"
    if chosen_set is not None:
        allocations = _allocate(target, available, chosen_set)
        _explain_fewest(router, target, available, ranked, chosen_set, losers)
    else:
        allocations = greedy(target, available, ranked)
        used = _locations_of(allocations)
        _explain_ranked(router, ranked, used, losers)
    return _finish(router, allocations, shortages, _locations_of(allocations), losers, search)


def greedy(
    requested: Mapping[str, int], available: Mapping[str, Mapping[str, int]], ranked: list[str]
) -> list[Allocation]:
    """Each SKU at the best location that fills its line, else split down the ranking."""
    allocations: list[Allocation] = []
    for sku, quantity in requested.items():
        allocations.extend(_allocate({sku: quantity}, available, ranked))
    return allocations


def shipments(allocations: Sequence[Allocation]) -> int:
    """How many locations (so shipments) a set of allocations uses."""
    return len({a["location_id"] for a in allocations})


def _fewest(
    target: Mapping[str, int],
    available: Mapping[str, Mapping[str, int]],
    ranked: list[str],
    budget: int,
) -> list[str] | None:
    """The smallest set of locations that fills the order, best ranked first among equals;
    None when the budget ran out first (the caller goes greedy)."""
    tried = 0
    for size in range(1, len(ranked) + 1):
        for subset in combinations(ranked, size):
            tried += 1
            if tried > budget:
                return None
            if _fills(target, available, subset):
                return list(subset)
    return None


def _explain_fewest(
    router: _Router,
    target: Mapping[str, int],
    available: Mapping[str, Mapping[str, int]],
    ranked: list[str],
    chosen: list[str],
    losers: dict[str, tuple[str, str]],
) -> None:
    """Why each location outside the smallest set lost: it is in no set as small, or it is
    in one that ranks lower."""
    size = len(chosen)
    budget = router.policy.exact_budget
    for loc in ranked:
        if loc in chosen:
            continue
        others = [other for other in ranked if other != loc]
        as_small: bool | None = False  # None: the budget ran out before it could tell
        for rest in combinations(others, size - 1):
            budget -= 1
            if budget < 0:
                as_small = None
                break
            if _fills(target, available, (loc, *rest)):
                as_small = True
                break
        better = [c for c in chosen if router.key(c) < router.key(loc)]
        if as_small is None:
            losers[loc] = (FEWEST_SHIPMENTS, f"not in the first plan of {size} found")
        elif as_small and better:
            losers[loc] = router.outranked(loc, better[0])
        elif as_small:
            losers[loc] = (FEWEST_SHIPMENTS, f"a plan as small with it ranks below {chosen}")
        else:
            losers[loc] = (FEWEST_SHIPMENTS, f"every plan with it needs more than {size}")


def _explain_ranked(
    router: _Router, ranked: list[str], used: list[str], losers: dict[str, tuple[str, str]]
) -> None:
    """Why each location the greedy split did not use lost: better ranked ones sufficed."""
    for loc in ranked:
        if loc in used:
            continue
        better = [u for u in used if router.key(u) < router.key(loc)]
        losers[loc] = (
            router.outranked(loc, better[0]) if better else ("greedy", "not needed by the split")
        )


def _unsplit(
    router: _Router,
    requested: Mapping[str, int],
    target: Mapping[str, int],
    available: Mapping[str, Mapping[str, int]],
    ranked: list[str],
    losers: dict[str, tuple[str, str]],
) -> Plan:
    """The channel forbids splits: one location, the best ranked of those that fill the most."""
    if not ranked:
        return _finish(router, [], _shortages(requested, {}), [], losers, "single")

    def filled(loc: str) -> int:
        return sum(min(q, _free(available, sku, loc)) for sku, q in target.items())

    best = max(ranked, key=lambda loc: (filled(loc), -ranked.index(loc)))
    has = {sku: _free(available, sku, best) for sku in requested}
    shortages = _shortages(requested, has)
    for loc in ranked:
        if loc == best:
            continue
        if filled(loc) < filled(best):
            losers[loc] = (NO_SPLITS, "holds fewer of the units, and the channel ships in one")
        else:
            losers[loc] = router.outranked(loc, best)
    if shortages and router.policy.partial == PartialPolicy.WAIT_ALL:
        # Any SKU arriving where the others are may fill it from one location: wait on all.
        return _finish(router, [], shortages, [], losers, "single", waits_on=list(requested))
    held = {sku: min(q, has[sku]) for sku, q in requested.items() if has[sku] > 0}
    allocations = _allocate(held, available, [best])
    return _finish(router, allocations, shortages, [best], losers, "single")


def _finish(
    router: _Router,
    allocations: list[Allocation],
    shortages: list[Shortage],
    chosen: list[str],
    losers: dict[str, tuple[str, str]],
    search: str,
    waits_on: list[str] | None = None,
) -> Plan:
    """The plan with its explanation: the rule that decided is the last one that cut."""
    order = {rule: index for index, rule in enumerate((STOCK, NO_SPLITS, *router.policy.rules))}
    order.update({TIE: len(order), "greedy": len(order) + 1})
    cuts = sorted({rule for rule, _ in losers.values()}, key=lambda rule: order.get(rule, -1))
    decided_by = cuts[-1] if cuts else ONLY_CANDIDATE
    if not allocations:
        decided_by = STOCK if shortages else decided_by
    candidates = [
        router.candidate(loc, None, "chosen")
        if loc in chosen
        else router.candidate(loc, *losers.get(loc, (STOCK, "not used")))
        for loc in sorted(router.sites)
    ]
    explanation: Explanation = {
        "rules": list(router.policy.rules),
        "decided_by": decided_by,
        "search": search,
        "shipments": shipments(allocations),
        "candidates": candidates,
    }
    if waits_on is None:
        waits_on = [shortage["sku"] for shortage in shortages]
    return Plan(allocations, shortages, explanation, losers, waits_on)


def _allocate(
    target: Mapping[str, int], available: Mapping[str, Mapping[str, int]], ranked: Sequence[str]
) -> list[Allocation]:
    """Each line at the first of these locations that fills it, else split in their order."""
    allocations: list[Allocation] = []
    for sku, quantity in target.items():
        whole = next((loc for loc in ranked if _free(available, sku, loc) >= quantity), None)
        if whole is not None:
            allocations.append({"sku": sku, "location_id": whole, "quantity": quantity})
            continue
        rest = quantity
        for loc in ranked:
            take = min(rest, _free(available, sku, loc))
            if take:
                allocations.append({"sku": sku, "location_id": loc, "quantity": take})
                rest -= take
    return allocations


def _fills(
    target: Mapping[str, int], available: Mapping[str, Mapping[str, int]], locs: Sequence[str]
) -> bool:
    return all(sum(_free(available, sku, loc) for loc in locs) >= q for sku, q in target.items())


def _free(available: Mapping[str, Mapping[str, int]], sku: str, location_id: str) -> int:
    return max(0, available.get(sku, {}).get(location_id, 0))


def _shortages(requested: Mapping[str, int], has: Mapping[str, int]) -> list[Shortage]:
    return [
        {"sku": sku, "requested": q, "available": has.get(sku, 0)}
        for sku, q in requested.items()
        if has.get(sku, 0) < q
    ]


def _locations_of(allocations: Sequence[Allocation]) -> list[str]:
    return sorted({a["location_id"] for a in allocations})


def _distance(a: Point | None, b: Point | None) -> float | None:
    return None if a is None or b is None else haversine_km(a, b)


def _km(value: float | int) -> str:
    return "unknown distance" if value == math.inf else f"{round(value)} km"


@dataclass(frozen=True)
class Centroids:
    """Approximate coordinates per country and per postal-code prefix, for addresses
    without their own."""

    countries: Mapping[str, Point]
    postal: Mapping[str, Mapping[str, Point]] = field(default_factory=dict)

    def locate(self, country: str | None, postal_code: str | None = None) -> Point | None:
        """The longest known postal-code prefix of the country, else the country's centroid."""
        if country is None:
            return None
        prefixes = self.postal.get(country, {})
        code = (postal_code or "").replace(" ", "").upper()
        for length in range(len(code), 0, -1):
            point = prefixes.get(code[:length])
            if point is not None:
                return point
        return self.countries.get(country)


NO_CENTROIDS = Centroids({})
"""No table: only coordinates given explicitly are known."""
