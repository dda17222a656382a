"""The demo data command: the 2021 events as in the domain brief, and idempotent re-runs."""

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.utils import timezone

from resettlement.enums import CaseStatus, MemberStatus
from resettlement.models import (
    Group,
    Household,
    Payment,
    PaymentBatch,
    Person,
    QuotaPlacement,
    RegionQuota,
    StatusChange,
)
from resettlement.selectors.quotas import with_usage

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list[tuple], ...]:
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
    payments = list(
        Payment.objects.order_by("pk").values_list(
            "grant__household__reference", "person", "period", "amount", "state", "batch__month"
        )
    )
    runs = list(
        PaymentBatch.objects.order_by("pk").values_list(
            "month", "state", "prepared_by__username", "approved_by__username"
        )
    )
    placements = list(
        QuotaPlacement.objects.order_by("pk").values_list("household__reference", "places")
    )
    return households, people, history, payments, runs, placements


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


def test_it_pays_the_evacuees_stipend_through_runs_made_by_two_officers() -> None:
    seed()
    payments = Payment.objects.count()

    second_output = seed()

    assert Payment.objects.count() == payments
    assert "Benefits added this run: 0 evacuee grants, 0 quota placements" in second_output
    flight = Group.objects.get(name="Evacuation flight Kabul–Almaty, 9 Sep 2021")
    stipend = Payment.objects.filter(
        grant__household__group=flight, grant__rule__code="basic-needs-2021"
    )
    paid_months = set(stipend.filter(state="paid").values_list("period", flat=True))
    assert paid_months == {
        dt.date(2021, 9, 1),
        dt.date(2021, 10, 1),
        dt.date(2021, 11, 1),
        dt.date(2021, 12, 1),
        dt.date(2022, 1, 1),
        dt.date(2022, 2, 1),
    }
    assert set(stipend.values_list("grant__household", flat=True)) == set(
        flight.households.values_list("pk", flat=True)
    )
    assert stipend.values("person").distinct().count() == 35
    makers = set(PaymentBatch.objects.values_list("prepared_by__username", "approved_by__username"))
    assert makers <= {("finance.kz", "approver.kz"), ("finance.kz", None)}
    assert QuotaPlacement.objects.filter(quota__year__in=[2025, 2026]).exists()
    assert Payment.objects.filter(
        grant__rule__code__in=["relocation", "rent"], state="paid"
    ).exists()
