"""Scope leaks in benefits and payments: a Kazakhstan finance officer never meets a Kyrgyz
grant, payment or run — not in a list, a filter, a page reached by id, or a run page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from resettlement import roles
from resettlement.models import BenefitRule, PaymentBatch, Program, Region, RegionQuota
from resettlement.services.benefits import grant_benefit
from resettlement.services.payments import prepare_batch

from .access_fixtures import staff_user
from .benefits_fixtures import make_household, quota_family, rule, som_stipend

pytestmark = pytest.mark.django_db

JANUARY = dt.date(2026, 1, 1)


@pytest.fixture
def ledger(admin_user):
    """A granted, batched benefit in each program: Pavlodar and Akmola (KZ), Chong-Alai (KG)."""
    pavlodar = quota_family(by=admin_user, members=2, year=2025, region="KZ-55")
    akmola = quota_family(by=admin_user, members=3, year=2025, region="KZ-11")
    kyrgyz = make_household(by=admin_user, members=2, program="KG-KAYRYLMAN", region="KG-O-CHA")
    for family in (pavlodar, akmola):
        grant_benefit(household=family, rule=rule("relocation"), by=admin_user)
    kg_grant = grant_benefit(household=kyrgyz, rule=som_stipend(), by=admin_user, starts_on=JANUARY)
    kz_run = prepare_batch(program=pavlodar.program, month=dt.date(2025, 3, 1), by=admin_user)
    kg_run = prepare_batch(program=kyrgyz.program, month=JANUARY, by=admin_user)
    return {
        "pavlodar": pavlodar,
        "akmola": akmola,
        "kyrgyz": kyrgyz,
        "kg_grant": kg_grant,
        "kg_payment": kg_run.payments.order_by("pk").first(),
        "kz_run": kz_run,
        "kg_run": kg_run,
    }


def login(client, role: str, *, regions: tuple[str, ...] = ()):
    user = staff_user(
        "kz-" + role.replace(" ", "-"), role, programs=("KZ-KANDAS",), regions=regions
    )
    client.force_login(user)
    return user


def listed(client, name: str) -> list[str]:
    response = client.get(reverse(f"admin:resettlement_{name}_changelist"))
    assert response.status_code == 200
    return sorted(str(row) for row in response.context["cl"].result_list)


def test_it_lists_only_kazakh_grants_payments_and_runs_to_a_kazakh_finance_officer(client, ledger):
    login(client, roles.FINANCE_OFFICER)

    grants = listed(client, "benefitgrant")
    payments = listed(client, "payment")
    runs = listed(client, "paymentbatch")
    rules = listed(client, "benefitrule")

    assert grants == sorted(str(ledger[k].grants.get()) for k in ("pavlodar", "akmola"))
    assert len(payments) == 5
    assert not [p for p in payments if ledger["kyrgyz"].reference in p]
    assert runs == [str(ledger["kz_run"])]
    assert sorted(rules) == sorted(
        str(r) for r in BenefitRule.objects.filter(program__code="KZ-KANDAS")
    )


def test_it_answers_404_for_every_page_of_a_kyrgyz_grant_payment_and_run(client, ledger):
    login(client, roles.FINANCE_OFFICER)
    grant, payment, run = ledger["kg_grant"], ledger["kg_payment"], ledger["kg_run"]
    kyrgyz = ledger["kyrgyz"]
    urls = [
        reverse("admin:resettlement_benefitgrant_change", args=[grant.pk]),
        reverse("admin:resettlement_benefitgrant_history", args=[grant.pk]),
        reverse("admin:resettlement_grant_tier", args=[grant.pk]),
        reverse("admin:resettlement_payment_change", args=[payment.pk]),
        reverse("admin:resettlement_payment_refuse", args=[payment.pk]),
        reverse("admin:resettlement_payment_reverse", args=[payment.pk]),
        reverse("admin:resettlement_paymentbatch_change", args=[run.pk]),
        reverse("admin:resettlement_paymentbatch_approve", args=[run.pk]),
        reverse("admin:resettlement_paymentbatch_pay", args=[run.pk]),
        reverse("admin:resettlement_paymentbatch_exclude", args=[run.pk]),
        reverse("admin:resettlement_benefitrule_change", args=[grant.rule_id]),
        reverse("admin:resettlement_benefitrule_history", args=[grant.rule_id]),
        reverse("admin:resettlement_household_benefits", args=[kyrgyz.pk]),
        reverse("admin:resettlement_household_grant", args=[kyrgyz.pk]),
        reverse("admin:resettlement_household_place", args=[kyrgyz.pk]),
        reverse("admin:resettlement_household_release", args=[kyrgyz.pk]),
    ]

    codes = {url: client.get(url).status_code for url in urls}
    posted = client.post(
        reverse("admin:resettlement_paymentbatch_exclude", args=[run.pk]),
        {"household": kyrgyz.pk, "reason": "leak"},
    )

    assert codes == dict.fromkeys(urls, 404)
    assert posted.status_code == 404
    assert not run.exclusions.exists()


def test_it_answers_404_to_an_approver_of_another_program(client, ledger):
    login(client, roles.APPROVER)
    run = ledger["kg_run"]

    response = client.post(reverse("admin:resettlement_paymentbatch_approve", args=[run.pk]), {})

    run.refresh_from_db()
    assert response.status_code == 404
    assert run.state == "prepared"


def test_it_offers_only_kazakh_choices_in_the_list_filters(client, ledger):
    login(client, roles.FINANCE_OFFICER)

    response = client.get(reverse("admin:resettlement_payment_changelist"))

    choices = {
        spec.title: {str(c["display"]) for c in spec.choices(response.context["cl"])}
        for spec in response.context["cl"].filter_specs
    }
    assert "KG-KAYRYLMAN" not in str(choices)
    assert "Adaptation allowance" not in choices["rule"]
    assert str(ledger["kg_run"]) not in choices["run"]
    assert str(ledger["kz_run"]) in choices["run"]


def test_it_prepares_runs_only_for_the_officers_programs(client, ledger):
    login(client, roles.FINANCE_OFFICER)
    kyrgyz = Program.objects.get(code="KG-KAYRYLMAN")

    response = client.post(
        reverse("admin:resettlement_paymentbatch_prepare"),
        {"program": kyrgyz.pk, "month": "2026-02-01", "region": ""},
    )

    assert response.status_code == 200
    assert "program" in response.context["form"].errors
    assert not PaymentBatch.objects.filter(program=kyrgyz, month=dt.date(2026, 2, 1)).exists()


def test_it_keeps_a_region_bound_officer_to_runs_of_their_region(client, admin_user, ledger):
    for family in (ledger["pavlodar"], ledger["akmola"]):
        grant_benefit(
            household=family,
            rule=rule("rent"),
            by=admin_user,
            tier=Decimal(20),
            tier_reason="test",
            starts_on=dt.date(2025, 4, 1),
        )
    login(client, roles.FINANCE_OFFICER, regions=("KZ-55",))
    kandas = Program.objects.get(code="KZ-KANDAS")
    url = reverse("admin:resettlement_paymentbatch_prepare")
    month = {"program": kandas.pk, "month": "2025-04-01"}

    whole_program = client.post(url, {**month, "region": ""})
    pavlodar = client.post(url, {**month, "region": Region.objects.get(code="KZ-55").pk})

    assert "region" in whole_program.context["form"].errors
    run = PaymentBatch.objects.get(month=dt.date(2025, 4, 1))
    assert pavlodar["Location"] == reverse("admin:resettlement_paymentbatch_change", args=[run.pk])
    assert {p.grant.household for p in run.payments.all()} == {ledger["pavlodar"]}
    # The program-wide March run pays Akmola too: a Pavlodar officer neither sees nor opens it.
    assert listed(client, "paymentbatch") == [str(run)]
    assert (
        client.get(
            reverse("admin:resettlement_paymentbatch_change", args=[ledger["kz_run"].pk])
        ).status_code
        == 404
    )


def test_it_lists_quota_placements_only_of_the_users_regions(client, ledger):
    login(client, roles.QUOTA_MANAGER, regions=("KZ-55",))

    placements = listed(client, "quotaplacement")

    assert placements == [str(ledger["pavlodar"].quota_placements.get())]


def test_it_lets_a_quota_manager_place_a_household_by_reference_within_scope(
    client, admin_user, ledger
):
    waiting = make_household(by=admin_user, members=4, quota_year=2026, path=("applied",))
    kyrgyz = ledger["kyrgyz"]
    login(client, roles.QUOTA_MANAGER)
    url = reverse("admin:resettlement_quotaplacement_add")
    quota = RegionQuota.objects.get(program__code="KZ-KANDAS", region__code="KZ-55", year=2026)

    placed = client.post(url, {"reference": waiting.reference, "quota": quota.pk})
    foreign = client.post(url, {"reference": kyrgyz.reference, "quota": quota.pk})

    assert placed.status_code == 302
    assert list(waiting.quota_placements.values_list("quota", "places", "placed_by__username")) == [
        (quota.pk, 4, "kz-quota-manager")
    ]
    assert foreign.status_code == 200
    assert list(foreign.context["form"].errors) == ["reference"]
    assert not kyrgyz.quota_placements.exists()
