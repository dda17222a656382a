"""The import and the quota ledger: imported rows never take or move quota places unseen.

The rule (services/imports.py): ``quota_year`` is written only by the quota ledger. A new family
leaves it empty and is placed from its page; an existing family's value may stay as exported or be
emptied; a household holding places does not move region by import.
"""

import pytest
from django.urls import reverse

from resettlement.csv_format import PERSON_COLUMNS
from resettlement.models import Household, QuotaPlacement, Region, RegionQuota
from resettlement.selectors.quotas import with_usage
from resettlement.services.imports import commit_batch, create_batch
from resettlement.services.quota_ledger import place_in_quota

from .imports_fixtures import blank_row, exported_persons, make_family, to_csv

pytestmark = pytest.mark.django_db

COL = {name: index for index, name in enumerate(PERSON_COLUMNS)}


def upload(rows: list[list[str]], user):
    """Upload ``rows`` (without the header) as a persons CSV."""
    data = to_csv([list(PERSON_COLUMNS), *rows]).encode()
    return create_batch(data=data, file_name="people.csv", user=user)


def errors_of(batch) -> list[tuple]:
    return [(e["line"], e["column"], e["message"]) for e in batch.errors]


def used_places(region: str = "KZ-55", year: int = 2025) -> int:
    quotas = RegionQuota.objects.filter(program__code="KZ-KANDAS", region__code=region, year=year)
    return with_usage(quotas).get().places_used


def test_it_refuses_a_quota_year_on_a_new_family_and_reserves_nothing(admin_user):
    rows = [blank_row(household_reference="NEW-1", destination_region="KZ-55", quota_year="2025")]

    batch = upload(rows, admin_user)
    result = commit_batch(batch=batch, user=admin_user)

    assert errors_of(batch) == [
        (
            2,
            "quota_year",
            "A new family joins a regional quota from its page (“Place in quota”), which checks "
            "and reserves the places; leave quota_year empty.",
        )
    ]
    assert result is None or not result.committed
    assert not Household.objects.exists()
    assert used_places() == 0


def test_it_keeps_the_quota_year_as_exported_or_emptied_and_refuses_another(admin_user):
    household = make_family(quota_year=2025)
    place_in_quota(household=household, by=admin_user)
    exported = exported_persons()
    emptied = [list(row) for row in exported]
    changed = [list(row) for row in exported]
    for row in emptied[1:]:
        row[COL["quota_year"]] = ""
    for row in changed[1:]:
        row[COL["quota_year"]] = "2026"

    as_exported = upload(exported[1:], admin_user)
    empty = upload(emptied[1:], admin_user)
    other = upload(changed[1:], admin_user)
    commit_batch(batch=empty, user=admin_user)

    household.refresh_from_db()
    assert (as_exported.errors, empty.errors) == ([], [])
    assert household.quota_year == 2025
    assert [(e["line"], e["column"]) for e in other.errors] == [(2, "quota_year")]
    assert "changes only through “Place in quota”" in other.errors[0]["message"]
    assert used_places() == 3


def test_it_refuses_to_move_a_placed_family_to_another_region(admin_user):
    placed = make_family(quota_year=2025)
    place_in_quota(household=placed, by=admin_user)
    unplaced = make_family(surname="Ахметов", iin_start="75010130012")
    rows = [list(row) for row in exported_persons()[1:]]
    for row in rows:
        row[COL["destination_region"]] = "KZ-11"

    batch = upload(rows, admin_user)

    references = {row[COL["household_reference"]] for row in rows}
    assert references == {placed.reference, unplaced.reference}
    moved = [e for e in batch.errors if e["column"] == "destination_region"]
    assert {e["message"] for e in moved} == {
        f"{placed.reference} holds 3 place(s) in Pavlodar Region 2025: 1056; release them on "
        "its page before moving it to another region."
    }
    assert QuotaPlacement.objects.get().household == placed
    assert Region.objects.get(code="KZ-11").pk != placed.destination_region_id


def test_a_member_who_left_by_import_gives_back_the_place_and_a_newcomer_is_not_placed(
    admin_client, admin_user
):
    left = make_family(quota_year=2025)
    place_in_quota(household=left, by=admin_user)
    joined = make_family(surname="Ахметов", iin_start="75010130012", quota_year=2025)
    place_in_quota(household=joined, by=admin_user)
    rows = [list(row) for row in exported_persons()[1:]]
    leaving = next(r for r in rows if r[COL["household_reference"]] == left.reference)
    leaving[COL["member_status"]] = "left"
    newcomer = next(r for r in rows if r[COL["household_reference"]] == joined.reference)
    newcomer = [*newcomer]
    for column in ("person_id", "iin", "document_number"):
        newcomer[COL[column]] = ""
    newcomer[COL["given_name"]] = "Айжан"
    newcomer[COL["relation"]] = "child"

    batch = upload([*rows, newcomer], admin_user)
    preview = admin_client.get(reverse("admin:resettlement_importbatch_change", args=[batch.pk]))
    result = commit_batch(batch=batch, user=admin_user)
    committed = admin_client.get(reverse("admin:resettlement_importbatch_change", args=[batch.pk]))

    assert batch.errors == []
    assert "2 existing households gain or lose members" in preview.content.decode()
    assert (result.committed, result.households_members_changed) == (True, 2)
    assert result.quota_places_given_back == 1
    assert "were recomputed and 1 quota place(s) given back" in committed.content.decode()
    assert list(
        QuotaPlacement.objects.order_by("pk").values_list("household", "places", "status")
    ) == [
        (left.pk, 3, "released"),
        (joined.pk, 3, "reserved"),
        (left.pk, 2, "reserved"),
    ]
    assert used_places() == 5
