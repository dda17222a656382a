"""Every role against every admin page: allowed or refused as the README's Roles matrix says."""

import io

import pytest
from django.contrib.auth.models import Group as AuthGroup
from django.core.management import call_command
from django.urls import reverse

from resettlement import roles
from resettlement.demo_users import DEMO_PASSWORD, demo_users, ensure_demo_users
from resettlement.services.benefits import grant_benefit
from resettlement.services.payments import prepare_batch

from .access_fixtures import household_in, staff_user
from .benefits_fixtures import quota_family, rule

pytestmark = pytest.mark.django_db

PAGES = [
    "household",
    "person",
    "group",
    "regionquota",
    "region",
    "program",
    "country",
    "accesslog",
    "staffprofile",
    "retentionrun",
    "indexvalue",
    "benefitrule",
    "benefitgrant",
    "payment",
    "paymentbatch",
    "quotaplacement",
]

REFERENCE_LISTS = {"regionquota:list", "region:list", "program:list", "country:list"}
CASE_LISTS = {"household:list", "person:list", "group:list"}
BENEFIT_REFERENCE = {"indexvalue:list", "benefitrule:list"}
LEDGER_LISTS = BENEFIT_REFERENCE | {
    "benefitgrant:list",
    "payment:list",
    "paymentbatch:list",
    "quotaplacement:list",
}

#: role → the admin pages (model:list / model:add) it may open; every other one answers 403.
ALLOWED = {
    roles.REGISTRAR: REFERENCE_LISTS | CASE_LISTS | {"household:add", "person:add", "group:add"},
    roles.CASE_OFFICER: REFERENCE_LISTS | CASE_LISTS,
    roles.FINANCE_OFFICER: REFERENCE_LISTS
    | CASE_LISTS
    | LEDGER_LISTS
    | {"benefitgrant:add", "paymentbatch:add"},
    roles.APPROVER: REFERENCE_LISTS | CASE_LISTS | LEDGER_LISTS,
    roles.QUOTA_MANAGER: REFERENCE_LISTS
    | {"regionquota:add", "quotaplacement:list", "quotaplacement:add"},
    roles.ANALYST: REFERENCE_LISTS | BENEFIT_REFERENCE,
    roles.PROGRAM_ADMINISTRATOR: REFERENCE_LISTS
    | CASE_LISTS
    | LEDGER_LISTS
    | {
        "indexvalue:add",
        "benefitrule:add",
        "benefitgrant:add",
        "paymentbatch:add",
        "quotaplacement:add",
        "household:add",
        "person:add",
        "group:add",
        "regionquota:add",
        "accesslog:list",
        "staffprofile:list",
        "staffprofile:add",
        "retentionrun:list",
    },
}


def test_it_creates_every_role_group_with_the_permissions_of_the_table():
    for role, codenames in roles.ROLE_PERMISSIONS.items():
        group = AuthGroup.objects.get(name=role)
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        expected = {c if "." in c else f"resettlement.{c}" for c in codenames}
        assert granted == expected, role


def test_it_resynchronises_roles_after_someone_changed_a_group():
    registrar = AuthGroup.objects.get(name=roles.REGISTRAR)
    registrar.permissions.clear()

    call_command("sync_roles", stdout=io.StringIO())

    assert registrar.permissions.count() == len(roles.ROLE_PERMISSIONS[roles.REGISTRAR])


@pytest.mark.parametrize("role", list(ALLOWED))
def test_it_allows_each_role_exactly_its_admin_pages(client, role):
    household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    user = staff_user("someone", role, programs=("KZ-KANDAS", "KG-KAYRYLMAN"))
    client.force_login(user)

    outcome = {}
    for name in PAGES:
        for page, url_name in (("list", "changelist"), ("add", "add")):
            response = client.get(reverse(f"admin:resettlement_{name}_{url_name}"))
            outcome[f"{name}:{page}"] = response.status_code

    expected = {key: (200 if key in ALLOWED[role] else 403) for key in outcome}
    # The add pages of grants and runs lead on to the household page and the run form.
    expected.update(
        {key: 302 for key in ("benefitgrant:add", "paymentbatch:add") if key in ALLOWED[role]}
    )
    assert outcome == expected


#: The payment and quota pages, by the role that may open them (every other role gets 403).
PAYMENT_PAGES = {
    "why not paid": {
        roles.REGISTRAR,
        roles.CASE_OFFICER,
        roles.FINANCE_OFFICER,
        roles.APPROVER,
        roles.PROGRAM_ADMINISTRATOR,
    },
    "grant a benefit": {roles.FINANCE_OFFICER, roles.PROGRAM_ADMINISTRATOR},
    "prepare a run": {roles.FINANCE_OFFICER, roles.PROGRAM_ADMINISTRATOR},
    "leave a household out": {roles.FINANCE_OFFICER, roles.PROGRAM_ADMINISTRATOR},
    "approve a run": {roles.APPROVER, roles.PROGRAM_ADMINISTRATOR},
    "record a run paid": {roles.APPROVER, roles.PROGRAM_ADMINISTRATOR},
    "refuse a payment": {roles.APPROVER, roles.PROGRAM_ADMINISTRATOR},
    "reverse a payment": {roles.APPROVER, roles.PROGRAM_ADMINISTRATOR},
    "run page": {roles.FINANCE_OFFICER, roles.APPROVER, roles.PROGRAM_ADMINISTRATOR},
    "payment page": {roles.FINANCE_OFFICER, roles.APPROVER, roles.PROGRAM_ADMINISTRATOR},
    "place in quota": {roles.QUOTA_MANAGER, roles.PROGRAM_ADMINISTRATOR},
    "release places": {roles.QUOTA_MANAGER, roles.PROGRAM_ADMINISTRATOR},
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_it_allows_each_role_exactly_its_payment_and_quota_pages(client, admin_user, role):
    family = quota_family(by=admin_user, members=3)
    grant_benefit(household=family, rule=rule("relocation"), by=admin_user)
    batch = prepare_batch(program=family.program, month=family.arrived_on, by=admin_user)
    payment = batch.payments.first()
    user = staff_user("someone", role, programs=("KZ-KANDAS",))
    client.force_login(user)
    urls = {
        "why not paid": reverse("admin:resettlement_household_benefits", args=[family.pk]),
        "grant a benefit": reverse("admin:resettlement_household_grant", args=[family.pk]),
        "prepare a run": reverse("admin:resettlement_paymentbatch_prepare"),
        "leave a household out": reverse(
            "admin:resettlement_paymentbatch_exclude", args=[batch.pk]
        ),
        "approve a run": reverse("admin:resettlement_paymentbatch_approve", args=[batch.pk]),
        "record a run paid": reverse("admin:resettlement_paymentbatch_pay", args=[batch.pk]),
        "refuse a payment": reverse("admin:resettlement_payment_refuse", args=[payment.pk]),
        "reverse a payment": reverse("admin:resettlement_payment_reverse", args=[payment.pk]),
        "run page": reverse("admin:resettlement_paymentbatch_change", args=[batch.pk]),
        "payment page": reverse("admin:resettlement_payment_change", args=[payment.pk]),
        "place in quota": reverse("admin:resettlement_household_place", args=[family.pk]),
        "release places": reverse("admin:resettlement_household_release", args=[family.pk]),
    }

    outcome = {page: client.get(url).status_code for page, url in urls.items()}

    assert outcome == {page: 200 if role in PAYMENT_PAGES[page] else 403 for page in urls}


def test_it_never_lets_the_approver_prepare_and_the_finance_officer_approve():
    approver = set(roles.ROLE_PERMISSIONS[roles.APPROVER])
    finance = set(roles.ROLE_PERMISSIONS[roles.FINANCE_OFFICER])

    assert not approver & {"add_paymentbatch", "change_paymentbatch", "add_benefitgrant"}
    assert not finance & {"approve_payments", "record_payments"}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_it_shows_names_only_to_roles_that_handle_personal_data(client, role):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    person = household.members.get()
    user = staff_user("someone", role, programs=("KZ-KANDAS",))
    client.force_login(user)

    pages = [
        reverse("admin:resettlement_person_change", args=[person.pk]),
        reverse("admin:resettlement_person_history", args=[person.pk]),
        reverse("admin:resettlement_household_history", args=[household.pk]),
    ]
    codes = [client.get(url).status_code for url in pages]

    sees_people = role in roles.PERSONAL_DATA_ROLES
    assert codes == [200 if sees_people else 403] * 3
    assert (role == roles.ANALYST) <= (not sees_people)


def test_it_creates_one_scoped_demo_user_per_role(client):
    names = ensure_demo_users(force=True)
    ensure_demo_users(force=True)  # idempotent

    listed = demo_users()
    assert [row[0] for row in listed] == names
    assert {row[2] for row in listed} == set(roles.ROLE_PERMISSIONS)
    response = client.post(
        reverse("admin:login"), {"username": "registrar.pavlodar", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302


def test_it_explains_a_refused_page_in_the_site_layout_and_the_users_language(client):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    registrar = staff_user("registrar", roles.REGISTRAR, programs=("KZ-KANDAS",))
    client.force_login(registrar)
    client.cookies["django_language"] = "ru"

    response = client.get(reverse("admin:resettlement_household_transition", args=[household.pk]))

    page = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Доступ запрещён</h1>" in page
    assert "Ваша роль не даёт доступа к этой странице." in page
    assert 'rel="stylesheet"' in page
    assert "resettlement/site.css" in page
