"""The benefit pages of the admin, used as officers use them: forms posted through the client."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from resettlement.models import (
    BatchExclusion,
    IndexValue,
    Payment,
    PaymentBatch,
    QuotaPlacement,
    Recalculation,
)
from resettlement.services.benefits import grant_benefit
from resettlement.services.payments import approve_batch, pay_batch, prepare_batch
from resettlement.services.quota_ledger import place_in_quota

from . import benefits_fixtures as fx
from .benefits_fixtures import make_household, quota, quota_family, rule, scoped_staff
from .html_forms import posted_form

pytestmark = pytest.mark.django_db
officer = fx.officer

D = Decimal
MARCH = dt.date(2025, 3, 1)


def staff(django_user_model, name: str, *codenames: str):
    return scoped_staff(django_user_model, name, *codenames)


@pytest.fixture
def checker_client(client, django_user_model):
    user = staff(
        django_user_model,
        "checker",
        "approve_payments",
        "record_payments",
        "view_paymentbatch",
        "view_payment",
        "view_household",
    )
    client.force_login(user)
    client.user = user
    return client


def prepared_run(admin_user) -> PaymentBatch:
    family = quota_family(by=admin_user, members=5)
    grant_benefit(household=family, rule=rule("relocation"), by=admin_user)
    return prepare_batch(program=family.program, month=MARCH, by=admin_user)


@pytest.mark.parametrize(
    "name",
    ["indexvalue", "benefitrule", "benefitgrant", "payment", "paymentbatch", "quotaplacement"],
)
def test_it_renders_every_benefit_list(admin_client, admin_user, name):
    prepared_run(admin_user)

    response = admin_client.get(reverse(f"admin:resettlement_{name}_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def test_it_shows_quota_places_and_benefit_totals_on_the_household_page(admin_client, admin_user):
    family = quota_family(by=admin_user, members=5)
    grant_benefit(household=family, rule=rule("relocation"), by=admin_user)

    response = admin_client.get(reverse("admin:resettlement_household_change", args=[family.pk]))

    content = response.content.decode()
    assert "Holds 5 place(s) in Pavlodar Region 2025: 1056" in content
    assert "1,376,200 ₸" in content
    assert reverse("admin:resettlement_household_benefits", args=[family.pk]) in content


def test_it_shows_why_not_paid_and_refuses_it_to_an_outsider(
    admin_client, admin_user, client, django_user_model
):
    family = make_household(by=admin_user, quota_year=2025, path=("applied",))
    url = reverse("admin:resettlement_household_benefits", args=[family.pk])
    client.force_login(staff(django_user_model, "outsider"))

    page = admin_client.get(url)
    refused = client.get(url)

    assert page.status_code == 200
    assert next((s.rule.code, s.reasons) for s in page.context["statuses"]) == (
        "employer",
        ["Not in the regional quota.", "The case has not reached “Arrived”."],
    )
    assert "Not in the regional quota." in page.content.decode()
    assert refused.status_code == 403


def test_it_prepares_a_run_from_the_form_and_reruns_it_without_duplicates(admin_client, admin_user):
    family = quota_family(by=admin_user, members=5)
    grant_benefit(household=family, rule=rule("relocation"), by=admin_user)
    url = reverse("admin:resettlement_paymentbatch_prepare")
    form = {"program": str(family.program_id), "month": "2025-03-15", "region": ""}

    first = admin_client.post(url, form)
    second = admin_client.post(url, form)

    batch = PaymentBatch.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == reverse("admin:resettlement_paymentbatch_change", args=[batch.pk])
    assert (batch.month, batch.prepared_by, batch.payments.count()) == (MARCH, admin_user, 5)


def test_it_refuses_approval_to_the_officer_who_prepared_the_run(admin_client, admin_user):
    batch = prepared_run(admin_user)
    url = reverse("admin:resettlement_paymentbatch_approve", args=[batch.pk])

    page = admin_client.get(reverse("admin:resettlement_paymentbatch_change", args=[batch.pk]))
    response = admin_client.post(url, {})

    assert "another officer must approve it" in page.content.decode()
    assert response.status_code == 200
    assert "another officer must approve it" in response.content.decode()
    batch.refresh_from_db()
    assert batch.state == "prepared"


def test_it_lets_a_checker_approve_and_record_a_run_as_paid(checker_client, admin_user):
    batch = prepared_run(admin_user)

    approved = checker_client.post(
        reverse("admin:resettlement_paymentbatch_approve", args=[batch.pk]), {}
    )
    paid = checker_client.post(
        reverse("admin:resettlement_paymentbatch_pay", args=[batch.pk]),
        {"paid_on": "2025-03-20", "reference": "REG-2025-03"},
    )

    assert approved.status_code == paid.status_code == 302
    batch.refresh_from_db()
    assert (batch.state, batch.approved_by, batch.paid_by, batch.payment_reference) == (
        "paid",
        checker_client.user,
        checker_client.user,
        "REG-2025-03",
    )
    assert set(batch.payments.values_list("state", "paid_on")) == {("paid", dt.date(2025, 3, 20))}


def test_it_refuses_the_run_pages_to_a_clerk_without_permissions(
    client, django_user_model, admin_user
):
    batch = prepared_run(admin_user)
    client.force_login(staff(django_user_model, "clerk", "view_paymentbatch"))

    responses = [
        client.post(reverse("admin:resettlement_paymentbatch_approve", args=[batch.pk]), {}),
        client.post(
            reverse("admin:resettlement_paymentbatch_pay", args=[batch.pk]),
            {"paid_on": "2025-03-20", "reference": "X"},
        ),
        client.post(reverse("admin:resettlement_paymentbatch_prepare"), {}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    batch.refresh_from_db()
    assert batch.state == "prepared"


def test_it_needs_a_reason_to_leave_a_household_out(admin_client, admin_user):
    batch = prepared_run(admin_user)
    household = batch.payments.first().grant.household
    url = reverse("admin:resettlement_paymentbatch_exclude", args=[batch.pk])

    refused = admin_client.post(url, {"household": str(household.pk), "reason": ""})
    done = admin_client.post(url, {"household": str(household.pk), "reason": "Account closed"})

    assert refused.status_code == 200
    assert done.status_code == 302
    assert list(BatchExclusion.objects.values_list("household", "reason")) == [
        (household.pk, "Account closed")
    ]
    assert batch.payments.count() == 0


def test_it_records_one_reversal_when_the_form_is_submitted_twice(checker_client, admin_user):
    batch = prepared_run(admin_user)
    approve_batch(batch=batch, by=checker_client.user)
    pay_batch(batch=batch, by=checker_client.user, paid_on=MARCH, reference="REG-1")
    payment = batch.payments.first()
    url = reverse("admin:resettlement_payment_reverse", args=[payment.pk])
    key = checker_client.get(url).context["form"]["idempotency_key"].initial
    form = {
        "idempotency_key": key,
        "reason": "Wrong account",
        "paid_on": "2025-04-01",
        "reference": "RET-1",
    }

    first = checker_client.post(url, form)
    second = checker_client.post(url, form)

    assert first.status_code == second.status_code == 302
    assert list(Payment.objects.filter(reversal_of=payment).values_list("amount", "state")) == [
        (D("-275240.00"), "paid")
    ]


def test_it_places_over_the_quota_only_with_the_override_permission(
    client, django_user_model, admin_user
):
    quota_family(by=admin_user, members=28, region="KZ-27")
    family = make_household(by=admin_user, members=3, region="KZ-27", quota_year=2025)
    url = reverse("admin:resettlement_household_place", args=[family.pk])
    form = {"quota": str(quota("KZ-27").pk), "places": "3", "override_reason": "Letter No. 5"}
    clerk = staff(django_user_model, "clerk", "add_quotaplacement", "view_household")
    manager = staff(
        django_user_model, "manager", "add_quotaplacement", "view_household", "override_quota"
    )

    client.force_login(clerk)
    refused = client.post(url, form)
    client.force_login(manager)
    placed = client.post(url, form)

    assert refused.status_code == 200
    assert "not allowed to place a household over the quota" in refused.content.decode()
    assert placed.status_code == 302
    assert list(
        QuotaPlacement.objects.filter(household=family).values_list(
            "places", "over_quota", "override_reason", "placed_by__username"
        )
    ) == [(3, True, "Letter No. 5", "manager")]


def test_it_releases_places_from_the_household_page(admin_client, admin_user):
    family = quota_family(by=admin_user, members=4)

    response = admin_client.post(
        reverse("admin:resettlement_household_release", args=[family.pk]),
        {"reason": "Family moved to Astana"},
    )

    assert response.status_code == 302
    assert list(QuotaPlacement.objects.values_list("status", "release_reason")) == [
        ("released", "Family moved to Astana")
    ]


def test_it_grants_a_benefit_from_the_page_or_shows_why_not(admin_client, admin_user):
    placed = quota_family(by=admin_user, members=2)
    waiting = make_household(by=admin_user, path=("applied",))
    rent = rule("rent")
    form = {"rule": str(rent.pk), "tier": "25", "tier_reason": "Own flat", "starts_on": ""}

    refused = admin_client.post(
        reverse("admin:resettlement_household_grant", args=[waiting.pk]), form
    )
    granted = admin_client.post(
        reverse("admin:resettlement_household_grant", args=[placed.pk]), form
    )

    assert refused.status_code == 200
    assert "Not in the regional quota." in refused.content.decode()
    assert granted.status_code == 302
    assert set(placed.grants.get().payments.values_list("amount", flat=True)) == {
        D("98300.00"),  # 25 × 3,932 (2025)
        D("108125.00"),  # 25 × 4,325 (2026)
    }


def test_it_needs_a_reason_to_correct_an_index_value_and_recomputes(admin_client, admin_user):
    family = quota_family(by=admin_user, members=2)
    grant_benefit(household=family, rule=rule("relocation"), by=admin_user)
    mci = IndexValue.objects.get(country="KZ", year=2025)
    url = reverse("admin:resettlement_indexvalue_change", args=[mci.pk])
    form = {"value": "4000", "legal_basis": "Budget law 2025", "change_reason": ""}

    refused = admin_client.post(url, form)
    saved = admin_client.post(url, {**form, "change_reason": "Correction of the typo"})

    assert refused.status_code == 200
    assert saved.status_code == 302
    mci.refresh_from_db()
    assert mci.value == D(4000)
    assert set(Payment.objects.values_list("amount", flat=True)) == {D("280000.00")}
    assert Recalculation.objects.count() == 1


def test_it_recomputes_planned_payments_when_a_member_dies_on_the_household_page(
    admin_client, admin_user
):
    family = quota_family(by=admin_user, members=3)
    grant = grant_benefit(household=family, rule=rule("relocation"), by=admin_user)
    url = reverse("admin:resettlement_household_change", args=[family.pk])
    data = posted_form(admin_client.get(url))
    data["members-2-member_status"] = "deceased"

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    deceased = family.members.get(member_status="deceased")
    assert not grant.payments.filter(person=deceased).exists()
    assert grant.payments.count() == 2
    (recalculation,) = Recalculation.objects.all()
    assert (recalculation.cause, recalculation.recalculated_by) == ("Members changed", admin_user)


def test_it_gives_back_quota_places_when_a_member_leaves_on_the_household_page(
    admin_client, admin_user
):
    family = quota_family(by=admin_user, members=4)
    url = reverse("admin:resettlement_household_change", args=[family.pk])
    data = posted_form(admin_client.get(url))
    data["members-3-member_status"] = "left"

    response = admin_client.post(url, data, follow=True)

    assert list(
        QuotaPlacement.objects.order_by("pk").values_list("places", "status", "placed_by")
    ) == [(4, "released", admin_user.pk), (3, "reserved", admin_user.pk)]
    assert (
        f"{family.reference} now holds 3 place(s) in {quota().region} 2025; "
        "1 given back to the quota."
    ) in response.content.decode()


def test_it_recomputes_and_gives_back_places_when_a_member_leaves_on_the_person_page(
    admin_client, admin_user
):
    family = quota_family(by=admin_user, members=3)
    grant = grant_benefit(household=family, rule=rule("relocation"), by=admin_user)
    leaving = family.members.order_by("pk").last()
    url = reverse("admin:resettlement_person_change", args=[leaving.pk])
    data = posted_form(admin_client.get(url))
    data["member_status"] = "left"

    response = admin_client.post(url, data, follow=True)

    assert response.redirect_chain, response.context["errors"] if response.context else ""
    assert not grant.payments.filter(person=leaving).exists()
    assert grant.payments.count() == 2
    assert list(
        QuotaPlacement.objects.filter(status="reserved").values_list("places", flat=True)
    ) == [2]
    assert "now holds 2 place(s)" in response.content.decode()


def test_it_warns_when_more_members_arrive_than_places_are_held(admin_client, admin_user):
    family = quota_family(by=admin_user, members=2)
    url = reverse("admin:resettlement_person_add")
    data = posted_form(admin_client.get(url))
    data.update(
        household=str(family.pk),
        relation="child",
        sex="F",
        surname="Масадыкова",
        given_name="Айгерим",
        birth_date="2024-05-01",
        birth_date_precision="day",
        member_status="abroad",
    )

    response = admin_client.post(url, data, follow=True)

    assert response.redirect_chain, response.context["adminform"].form.errors
    assert family.members.count() == 3
    assert list(QuotaPlacement.objects.values_list("places", "status")) == [(2, "reserved")]
    assert (
        f"{family.reference} holds 2 place(s) in {quota().region} 2025 and 3 member(s) are arriving"
        in response.content.decode()
    )


def test_it_offers_only_the_quotas_of_the_region_the_family_is_headed_for(admin_client, admin_user):
    family = make_household(by=admin_user, members=2, region="KZ-55", quota_year=2025)

    response = admin_client.get(reverse("admin:resettlement_household_place", args=[family.pk]))

    offered = {str(q.region.code) for q in response.context["form"].fields["quota"].queryset}
    assert offered == {"KZ-55"}


def test_an_edit_that_is_no_departure_gives_no_places_back(admin_client, admin_user):
    family = make_household(by=admin_user, members=1, region="KZ-55", quota_year=2025)
    place_in_quota(household=family, by=admin_user, places=3)  # two arrive later
    url = reverse("admin:resettlement_household_change", args=[family.pk])

    response = admin_client.post(
        url, {**posted_form(admin_client.get(url)), "members-0-phone": "+77011112233"}
    )

    assert response.status_code == 302
    assert family.members.get().phone == "+77011112233"
    assert list(QuotaPlacement.objects.values_list("places", "status")) == [(3, "reserved")]


def test_a_member_removed_from_a_draft_case_gives_back_their_place(admin_client, admin_user):
    family = make_household(by=admin_user, members=3, region="KZ-55", quota_year=2025)
    place_in_quota(household=family, by=admin_user)
    url = reverse("admin:resettlement_household_change", args=[family.pk])

    response = admin_client.post(
        url, {**posted_form(admin_client.get(url)), "members-2-DELETE": "on"}
    )

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert family.members.count() == 2
    assert list(QuotaPlacement.objects.order_by("pk").values_list("places", "status")) == [
        (3, "released"),
        (2, "reserved"),
    ]
