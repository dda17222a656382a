"""The quota ledger: places reserved per household, over-quota overrides, releases."""

import datetime as dt

import pytest

from resettlement.models import QuotaPlacement, Region, RegionQuota
from resettlement.selectors.quotas import with_usage
from resettlement.services.cases import case_transition
from resettlement.services.quota_ledger import (
    QuotaError,
    fit_placement_to_members,
    place_in_quota,
    quota_regions,
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


def test_it_gives_back_the_places_of_members_who_left_and_keeps_both_rows(officer, quota_manager):
    household = family(officer, 5)
    place_in_quota(household=household, by=quota_manager)
    leave(household, 1)
    leave(household, 2, status="deceased")

    released, smaller = fit_placement_to_members(household=household, by=officer, left=3)

    assert usage() == (30, 3, 27)
    assert list(
        QuotaPlacement.objects.order_by("pk").values_list("places", "status", "release_reason")
    ) == [
        (5, "released", "Members left or died: 5 place(s) held, 3 kept."),
        (3, "reserved", ""),
    ]
    # Released by whoever recorded the departures; still placed by whoever placed the family.
    assert (smaller.quota, smaller.placed_by, released.released_by) == (
        quota("KZ-27"),
        quota_manager,
        officer,
    )


def test_it_releases_every_place_when_nobody_arrives_any_more(officer):
    household = family(officer, 2)
    place_in_quota(household=household, by=officer)
    leave(household, 2)

    released, smaller = fit_placement_to_members(household=household, by=officer, left=2)

    assert (released.status, smaller) == ("released", None)
    assert usage() == (30, 0, 30)


def test_the_smaller_placement_is_over_the_quota_only_while_it_still_is(officer, quota_manager):
    place_in_quota(household=family(officer, 28), by=officer)
    household = family(officer, 4)
    place_in_quota(household=household, by=quota_manager, override_reason="Ministry letter 9")
    leave(household, 1)

    _released, still_over = fit_placement_to_members(household=household, by=officer, left=1)
    leave(household, 2)
    _released, fits = fit_placement_to_members(household=household, by=officer, left=1)

    assert (still_over.places, still_over.over_quota, still_over.override_reason) == (
        3,
        True,
        "Ministry letter 9",
    )
    assert (fits.places, fits.over_quota, fits.override_reason) == (2, False, "Ministry letter 9")
    assert usage() == (30, 30, 0)


def test_it_gives_back_no_more_than_who_left_and_never_adds_places(officer):
    household = family(officer, 2)
    place_in_quota(household=household, by=officer, places=4)  # two more arrive later
    leave(household, 1)
    fits = family(officer, 4)
    place_in_quota(household=fits, by=officer, places=2)  # two arrive later
    leave(fits, 1)
    unplaced = family(officer, 3)

    _released, kept = fit_placement_to_members(household=household, by=officer, left=1)

    assert kept.places == 3  # one place back for the one who left, not the two spare ones
    assert fit_placement_to_members(household=household, by=officer, left=0) is None
    assert fit_placement_to_members(household=fits, by=officer, left=1) is None
    assert fit_placement_to_members(household=unplaced, by=officer, left=1) is None
    assert usage() == (30, 5, 25)


def test_it_refuses_the_quota_of_a_region_the_family_is_not_headed_for(officer):
    household = family(officer, 3)  # headed for KZ-27
    other = RegionQuota.objects.get(program__code="KZ-KANDAS", region__code="KZ-55", year=2025)

    with pytest.raises(QuotaError, match=r"is headed for .* and this quota is"):
        place_in_quota(household=household, by=officer, quota=other)

    assert not QuotaPlacement.objects.exists()
    assert usage() == (30, 0, 30)


def test_a_district_takes_its_oblasts_quota_and_a_city_or_oblast_only_its_own():
    district = Region.objects.get(code="KG-N-NAR")
    city, oblast = Region.objects.get(code="KZ-75"), Region.objects.get(code="KZ-55")

    assert quota_regions(district) == [district.pk, district.parent_id]
    assert quota_regions(city) == [city.pk]  # not the whole country above it
    assert quota_regions(oblast) == [oblast.pk]
