"""The demo data command: the 2021 events as in the domain brief, and idempotent re-runs."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.utils import timezone

from resettlement.enums import CaseStatus, MemberStatus
from resettlement.models import Group, Household, Person, RegionQuota, StatusChange
from resettlement.selectors.quotas import with_usage

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list[tuple], list[tuple], list[tuple]]:
    households = list(
        Household.objects.order_by("reference").values_list(
            "program__code",
            "reference",
            "status",
            "applied_on",
            "decided_on",
            "status_expires_on",
            "extensions_used",
            "citizenship_on",
            "quota_year",
            "destination_region__code",
        )
    )
    people = list(
        Person.objects.order_by("household__reference", "id").values_list(
            "household__reference", "relation", "surname", "given_name", "birth_date", "iin"
        )
    )
    history = list(
        StatusChange.objects.order_by("household__reference", "id").values_list(
            "household__reference", "kind", "to_status", "effective_on", "reason"
        )
    )
    return households, people, history


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def test_it_refuses_to_run_without_debug_or_force() -> None:
    with pytest.raises(CommandError, match="Refusing to load demo data"):
        call_command("seed_demo", stdout=io.StringIO())

    assert not Household.objects.exists()
    assert not get_user_model().objects.filter(username="admin").exists()


def test_it_loads_the_2021_events_and_a_second_run_changes_nothing() -> None:
    first_output = seed()
    first = snapshot()

    second_output = seed()

    assert snapshot() == first
    assert "0 household(s) and 0 people created" in second_output
    assert "demo-admin-2021" in first_output
    assert get_user_model().objects.get(username="admin").is_superuser

    flight = Group.objects.get(name="Evacuation flight Kabul–Almaty, 9 Sep 2021")
    evacuees = Person.objects.filter(household__group=flight)
    assert evacuees.count() == 35
    assert evacuees.values("household__destination_region").distinct().count() == 5
    assert set(evacuees.values_list("member_status", flat=True)) == {MemberStatus.ARRIVED}

    convoy = Group.objects.get(name="Badakhshan convoy, July 2021")
    assert Person.objects.filter(household__group=convoy).count() == 345
    assert set(convoy.households.values_list("status", flat=True)) == {CaseStatus.RETURNED}

    pamir = Group.objects.get(name="Pamir Kyrgyz resettlement to Chong-Alai")
    assert set(pamir.households.values_list("destination_region__code", flat=True)) == {"KG-O-CHA"}

    assert not Household.objects.filter(is_demo=False).exists()
    assert not Person.objects.filter(is_demo=False).exists()
    assert StatusChange.objects.aggregate(last=Max("effective_on"))["last"] <= (
        timezone.localdate()
    )
    for quota in with_usage(RegionQuota.objects.all()):
        assert quota.places_used <= quota.places
