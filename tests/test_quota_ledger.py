"""The quota ledger: places reserved per household, over-quota overrides, releases."""

import datetime as dt

import pytest

from resettlement.models import QuotaPlacement, RegionQuota
from resettlement.selectors.quotas import with_usage
from resettlement.services.cases import case_transition
from resettlement.services.quota_ledger import (
    QuotaError,
    fit_placement_to_members,
    place_in_quota,
    release_places,
)
from resettlement.services.quotas import revise_quota

from . import benefits_fixtures as fx
from .benefits_fixtures import make_household, quota

pytestmark = pytest.mark.django_db
officer, quota_manager = fx.officer, fx.quota_manager


def usage(region: str = "KZ-27", year: int = 2025) -> tuple[int, int, int]:
    row = with_usage(RegionQuota.objects.filter(region__code=region, year=year)).get()
    return row.places, row.places_used, row.places_remaining


def family(by, members: int, region: str = "KZ-27", year: int = 2025):
    return make_household(by=by, members=members, region=region, quota_year=year, path=("applied",))


def test_it_reserves_one_place_per_member_arriving(officer):
    household = family(officer, 5)
    household.members.filter(pk=household.members.order_by("-pk")[0].pk).update(
        member_status="left"
    )

    placement = place_in_quota(household=household, by=officer)

    assert (placement.quota, placement.places, placement.status, placement.over_quota) == (
        quota("KZ-27"),
        4,
        "reserved",
        False,
    )
    assert usage() == (30, 4, 26)


def test_it_refuses_an_over_quota_placement_without_the_permission(officer):
    place_in_quota(household=family(officer, 28), by=officer)
    too_big = family(officer, 3)

    with pytest.raises(QuotaError, match="Only 2 place"):
        place_in_quota(household=too_big, by=officer)
    with pytest.raises(QuotaError, match="not allowed to place a household over"):
        place_in_quota(household=too_big, by=officer, override_reason="Ministry letter 5")

    assert usage() == (30, 28, 2)
    assert QuotaPlacement.objects.filter(household=too_big).count() == 0


def test_it_records_an_override_by_a_permitted_user(officer, quota_manager):
    place_in_quota(household=family(officer, 28), by=officer)
    too_big = family(officer, 3)

    placement = place_in_quota(
        household=too_big, by=quota_manager, override_reason="Ministry letter No. 5"
    )

    assert (
        placement.places,
        placement.over_quota,
        placement.override_reason,
        placement.placed_by,
    ) == (3, True, "Ministry letter No. 5", quota_manager)
    assert usage() == (30, 31, -1)


def test_it_releases_the_places_when_a_case_is_withdrawn(officer):
    household = family(officer, 4)
    place_in_quota(household=household, by=officer)

    case_transition(household=household, to="withdrawn", by=officer, reason="Stays in Mongolia")

    placement = QuotaPlacement.objects.get()
    assert (placement.status, placement.released_by, placement.release_reason) == (
        "released",
        officer,
        "Withdrawn: Stays in Mongolia",
    )
    assert placement.released_at is not None
    assert usage() == (30, 0, 30)


def test_it_releases_by_hand_and_allows_a_new_placement(officer):
    household = family(officer, 2)
    place_in_quota(household=household, by=officer)

    with pytest.raises(QuotaError, match="already holds 2 place"):
        place_in_quota(household=household, by=officer)
    release_places(household=household, by=officer, reason="Moved to the 2026 quota")
    household.quota_year = 2026
    household.save()
    place_in_quota(household=household, by=officer)

    assert usage(year=2025) == (30, 0, 30)
    assert usage(year=2026) == (30, 2, 28)
    assert list(QuotaPlacement.objects.order_by("pk").values_list("quota__year", "status")) == [
        (2025, "released"),
        (2026, "reserved"),
    ]


def test_it_refuses_to_place_a_withdrawn_case_or_one_without_a_quota(officer):
    withdrawn = family(officer, 2)
    case_transition(household=withdrawn, to="withdrawn", by=officer, reason="x")
    elsewhere = family(officer, 2, region="KZ-75")  # Almaty city has no quota

    with pytest.raises(QuotaError, match="closed, refused or withdrawn"):
        place_in_quota(household=withdrawn, by=officer)
    with pytest.raises(QuotaError, match="no quota"):
        place_in_quota(household=elsewhere, by=officer)


def test_it_keeps_reserved_plus_free_equal_to_the_quota_through_revisions(officer):
    place_in_quota(household=family(officer, 10), by=officer)

    revise_quota(
        quota=quota("KZ-27"),
        places=45,
        effective_on=dt.date(2025, 6, 1),
        reason="Order No. 77",
        by=officer,
    )

    places, used, remaining = usage()
    assert (places, used, remaining, used + remaining) == (45, 10, 35, 45)
    assert list(quota("KZ-27").revisions.values_list("places_before", "places_after")) == [
        (None, 30),
        (30, 45),
    ]


def leave(household, count: int, status: str = "left") -> None:
    """Mark the last ``count`` members of ``household`` as gone."""
    last = household.members.order_by("-pk").values_list("pk", flat=True)[:count]
    household.members.filter(pk__in=list(last)).update(member_status=status)


def test_it_gives_back_the_places_of_members_who_left_and_keeps_both_rows(officer):
    household = family(officer, 5)
    place_in_quota(household=household, by=officer)
    leave(household, 1)
    leave(household, 2, status="deceased")

    released, smaller = fit_placement_to_members(household=household, by=officer)

    assert usage() == (30, 3, 27)
    assert list(
        QuotaPlacement.objects.order_by("pk").values_list("places", "status", "release_reason")
    ) == [
        (5, "released", "Members left or died: 5 place(s) held, 3 member(s) arriving."),
        (3, "reserved", ""),
    ]
    assert (smaller.quota, smaller.placed_by, released.released_by) == (
        quota("KZ-27"),
        officer,
        officer,
    )


def test_it_releases_every_place_when_nobody_arrives_any_more(officer):
    household = family(officer, 2)
    place_in_quota(household=household, by=officer)
    leave(household, 2)

    released, smaller = fit_placement_to_members(household=household, by=officer)

    assert (released.status, smaller) == ("released", None)
    assert usage() == (30, 0, 30)


def test_it_keeps_an_override_on_the_smaller_placement(officer, quota_manager):
    place_in_quota(household=family(officer, 28), by=officer)
    household = family(officer, 4)
    place_in_quota(household=household, by=quota_manager, override_reason="Ministry letter 9")
    leave(household, 1)

    _released, smaller = fit_placement_to_members(household=household, by=officer)

    assert (smaller.places, smaller.over_quota, smaller.override_reason) == (
        3,
        True,
        "Ministry letter 9",
    )
    assert usage() == (30, 31, -1)


def test_it_never_adds_places_nor_touches_a_placement_that_still_fits(officer):
    household = family(officer, 4)
    place_in_quota(household=household, by=officer, places=2)  # two arrive later
    leave(household, 1)
    unplaced = family(officer, 3)

    assert fit_placement_to_members(household=household, by=officer) is None
    assert fit_placement_to_members(household=unplaced, by=officer) is None
    assert list(QuotaPlacement.objects.values_list("places", "status")) == [(2, "reserved")]


def test_it_refuses_the_quota_of_a_region_the_family_is_not_headed_for(officer):
    household = family(officer, 3)  # headed for KZ-27
    other = RegionQuota.objects.get(program__code="KZ-KANDAS", region__code="KZ-55", year=2025)

    with pytest.raises(QuotaError, match=r"is headed for .* and this quota is"):
        place_in_quota(household=household, by=officer, quota=other)

    assert not QuotaPlacement.objects.exists()
    assert usage() == (30, 0, 30)
