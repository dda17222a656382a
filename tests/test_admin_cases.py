"""Data entry through the admin, as a clerk does it: forms posted through the test client."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from resettlement.enums import CaseStatus
from resettlement.models import (
    Country,
    Group,
    Household,
    Person,
    Program,
    QuotaRevision,
    Region,
    RegionQuota,
    profile_for,
)
from resettlement.selectors.quotas import with_usage
from resettlement.services.cases import case_transition, open_case
from resettlement.services.quota_ledger import place_in_quota
from resettlement.validators import make_iin

from .html_forms import posted_form

pytestmark = pytest.mark.django_db


def member_row(index: int, **fields: str) -> dict[str, str]:
    row = {
        "relation": "child",
        "member_status": "abroad",
        "sex": "F",
        "surname": "Ахметова",
        "given_name": f"Дочь{index}",
        "patronymic": "",
        "surname_latin": "",
        "given_name_latin": "",
        "patronymic_latin": "",
        "birth_date": "2010-05-01",
        "birth_date_precision": "day",
        "citizenship": "AF",
        "document_type": "passport",
        "document_number": f"P{index:07d}",
        "iin": "",
        "education": "primary",
        "occupation": "",
        "languages": "Kazakh, Dari",
        "phone": "",
    }
    row.update(fields)
    return {f"members-{index}-{key}": value for key, value in row.items()}


def household_post(members: list[dict[str, str]], **fields: str) -> dict[str, str]:
    data = {
        "program": str(Program.objects.get(code="KZ-KANDAS").pk),
        "reference": "",
        "group": "",
        "application_channel": "consulate",
        "origin_country": "AF",
        "origin_area": "Balkh, Mazar-i-Sharif",
        "destination_region": str(Region.objects.get(code="KZ-55").pk),
        "quota_year": "",
        "residence_permit_on": "",
        "commission_on": "",
        "certificate_number": "",
        "notes": "",
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
        "status_changes-TOTAL_FORMS": "0",
        "status_changes-INITIAL_FORMS": "0",
        "status_changes-MIN_NUM_FORMS": "0",
        "status_changes-MAX_NUM_FORMS": "1000",
    }
    for member in members:
        data.update(member)
    data.update(fields)
    return data


def family_of_eight() -> list[dict[str, str]]:
    rows = [
        member_row(
            0,
            relation="head",
            sex="M",
            given_name="Ерлан",
            surname="Ахметов",
            birth_date="1975-01-01",
            birth_date_precision="year",
            iin=make_iin("75010130012"),
        ),
        member_row(1, relation="spouse", given_name="Әлия", birth_date="1979-03-12"),
    ]
    rows += [member_row(i) for i in range(2, 8)]
    return rows


def test_it_saves_a_family_of_eight_in_one_post(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:resettlement_household_add"), household_post(family_of_eight())
    )

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    household = Household.objects.get()
    assert household.reference == f"KZ-{dt.date.today().year}-00001"
    assert household.status == CaseStatus.DRAFT
    assert household.members.count() == 8
    head = household.members.get(relation="head")
    assert (head.surname, head.surname_latin, head.birth_display) == ("Ахметов", "Akhmetov", "1975")
    change = household.status_changes.get()
    assert (change.kind, change.to_status, change.changed_by) == ("created", "draft", admin_user)


def test_it_saves_nothing_when_one_member_row_is_invalid(admin_client):
    members = family_of_eight()
    members[5] = member_row(5, iin="123456789012")  # wrong check digit

    response = admin_client.post(
        reverse("admin:resettlement_household_add"), household_post(members)
    )

    assert response.status_code == 200
    assert "This IIN is not valid" in response.content.decode()
    assert Household.objects.count() == 0
    assert Person.objects.count() == 0


@pytest.mark.parametrize("heads", [0, 2])
def test_it_refuses_a_household_without_exactly_one_head(admin_client, heads):
    members = [member_row(i, relation="head" if i < heads else "child") for i in range(3)]

    response = admin_client.post(
        reverse("admin:resettlement_household_add"), household_post(members)
    )

    assert response.status_code == 200
    assert "A household has exactly one head" in response.content.decode()
    assert Household.objects.count() == 0


def make_case(user, status_path=()) -> Household:
    household = open_case(
        household=Household(
            program=Program.objects.get(code="KZ-KANDAS"),
            origin_country=Country.objects.get(code="AF"),
            destination_region=Region.objects.get(code="KZ-55"),
            group=Group.objects.get_or_create(
                program=Program.objects.get(code="KZ-KANDAS"),
                name="Flight 1",
                defaults={"origin_country": Country.objects.get(code="AF")},
            )[0],
        ),
        by=user,
        on=dt.date(2025, 1, 10),
    )
    Person.objects.create(
        household=household, relation="head", surname="Масадыков", given_name="Нурлан", sex="M"
    )
    for step in status_path:
        case_transition(household=household, to=step, by=user, on=dt.date(2025, 2, 1))
    return household


def test_it_changes_the_status_through_the_status_page(admin_client, admin_user):
    household = make_case(admin_user, ["applied", "under_review"])
    url = reverse("admin:resettlement_household_transition", args=[household.pk])

    page = admin_client.get(url)
    response = admin_client.post(
        url, {"to": "granted", "on": "2025-03-01", "reason": "Commission decision"}
    )

    assert page.status_code == 200
    assert [c[0] for c in page.context["form"].fields["to"].choices] == [
        "hearing",
        "granted",
        "withdrawn",
        "returned",
    ]
    assert response.status_code == 302
    household.refresh_from_db()
    assert (household.status, household.status_granted_on, household.status_expires_on) == (
        "granted",
        dt.date(2025, 3, 1),
        dt.date(2026, 3, 1),
    )
    last = household.status_changes.latest("id")
    assert (last.from_status, last.to_status, last.reason, last.changed_by) == (
        "under_review",
        "granted",
        "Commission decision",
        admin_user,
    )


def test_it_refuses_a_withdrawal_without_reason_and_changes_nothing(admin_client, admin_user):
    household = make_case(admin_user, ["applied"])
    url = reverse("admin:resettlement_household_transition", args=[household.pk])

    response = admin_client.post(url, {"to": "withdrawn", "on": "2025-03-01", "reason": " "})

    assert response.status_code == 200
    assert "Give a reason for “Withdrawn”" in response.content.decode()
    household.refresh_from_db()
    assert household.status == "applied"
    assert household.status_changes.count() == 2


def test_it_refuses_the_status_page_to_a_clerk_without_the_permission(
    client, django_user_model, admin_user
):
    household = make_case(admin_user)
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_household", "change_household"])
    )
    profile_for(clerk).programs.add(household.program)  # in scope: refused for the permission
    client.force_login(clerk)

    response = client.post(
        reverse("admin:resettlement_household_transition", args=[household.pk]),
        {"to": "applied", "on": "2025-03-01"},
    )

    assert response.status_code == 403
    household.refresh_from_db()
    assert household.status == "draft"


@pytest.mark.parametrize("query", ["masadykov", "МАСАДЫКОВ", "масадыков нурлан", "Masadikov"])
def test_it_finds_a_household_in_the_changelist_by_name_in_any_script(
    admin_client, admin_user, query
):
    household = make_case(admin_user)
    make_case(admin_user).members.update(surname="Другой", search_key="drugoi")

    response = admin_client.get(reverse("admin:resettlement_household_changelist"), {"q": query})

    assert [h.reference for h in response.context["cl"].result_list] == [household.reference]


def test_it_lists_households_with_head_and_member_count(admin_client, admin_user):
    household = make_case(admin_user)
    Person.objects.create(household=household, relation="spouse", surname="Масадыкова", sex="F")

    response = admin_client.get(reverse("admin:resettlement_household_changelist"))

    row = response.context["cl"].result_list[0]
    assert (row.reference, row.member_count, row.head_surname) == (
        household.reference,
        2,
        "Масадыков",
    )


def test_it_records_a_quota_revision_with_its_reason(admin_client, admin_user):
    quota = RegionQuota.objects.get(region__code="KZ-55", year=2026)
    url = reverse("admin:resettlement_regionquota_change", args=[quota.pk])

    form = {**posted_form(admin_client.get(url)), "places": "1000", "effective_on": "2026-06-01"}

    refused = admin_client.post(url, {**form, "revision_reason": ""})
    saved = admin_client.post(url, {**form, "revision_reason": "Order No. 12"})

    assert refused.status_code == 200
    assert "Give the reason or legal act" in refused.content.decode()
    assert saved.status_code == 302, saved.context["errors"]
    quota.refresh_from_db()
    assert quota.places == 1000
    revision = QuotaRevision.objects.filter(quota=quota).latest("id")
    assert (
        revision.places_before,
        revision.places_after,
        revision.reason,
        revision.created_by,
    ) == (
        977,
        1000,
        "Order No. 12",
        admin_user,
    )


def test_it_asks_to_confirm_a_quota_cut_below_the_places_already_reserved(admin_client, admin_user):
    household = make_case(admin_user)
    Household.objects.filter(pk=household.pk).update(quota_year=2026)
    place_in_quota(household=household, by=admin_user)  # 1 place
    quota = RegionQuota.objects.get(region__code="KZ-55", year=2026)
    url = reverse("admin:resettlement_regionquota_change", args=[quota.pk])
    form = {
        **posted_form(admin_client.get(url)),
        "places": "0",
        "revision_reason": "Order No. 40",
    }

    refused = admin_client.post(url, form)
    quota.refresh_from_db()
    places_after_refusal = quota.places
    saved = admin_client.post(url, {**form, "below_reserved": "on"})

    assert refused.status_code == 200
    assert (
        "Families already hold 1 place(s) in this quota; 0 would leave it 1 over."
        in refused.content.decode()
    )
    assert places_after_refusal == 977
    assert saved.status_code == 302, saved.context["errors"]
    used = with_usage(RegionQuota.objects.filter(pk=quota.pk)).get()
    assert (used.places, used.places_used, used.places_remaining) == (0, 1, -1)
    assert QuotaRevision.objects.filter(quota=quota).latest("id").reason == "Order No. 40"


def test_it_shows_places_used_and_remaining_on_the_quota_list(admin_client, admin_user):
    household = make_case(admin_user)
    Household.objects.filter(pk=household.pk).update(quota_year=2026)
    place_in_quota(household=household, by=admin_user)  # places come from the quota ledger

    response = admin_client.get(
        reverse("admin:resettlement_regionquota_changelist"), {"year": "2026"}
    )

    rows = {
        q.region.code: (q.places, q.places_used, q.places_remaining)
        for q in response.context["cl"].result_list
    }
    assert rows["KZ-55"] == (977, 1, 976)
    assert rows["KZ-11"] == (285, 0, 285)


@pytest.mark.parametrize(
    "name", ["household", "person", "group", "region", "regionquota", "program", "country"]
)
def test_it_renders_every_changelist_and_add_page(admin_client, admin_user, name):
    make_case(admin_user)

    listing = admin_client.get(reverse(f"admin:resettlement_{name}_changelist"))
    adding = admin_client.get(reverse(f"admin:resettlement_{name}_add"))

    assert listing.status_code == 200
    assert adding.status_code == 200
    assert listing.context["cl"].result_count >= 1


def test_it_shows_the_household_page_with_members_and_history(admin_client, admin_user):
    household = make_case(admin_user, ["applied"])

    response = admin_client.get(reverse("admin:resettlement_household_change", args=[household.pk]))

    content = response.content.decode()
    assert "Масадыков" in content
    assert "Change status" in content
    assert response.context["inline_admin_formsets"][1].formset.queryset.count() == 2


def test_it_keeps_quota_year_and_a_placed_familys_region_out_of_the_household_form(
    admin_client, admin_user
):
    household = make_case(admin_user)
    place_in_quota(
        household=household,
        by=admin_user,
        quota=RegionQuota.objects.get(region__code="KZ-55", year=2026),
    )
    url = reverse("admin:resettlement_household_change", args=[household.pk])

    form = admin_client.get(url).context["adminform"].form

    assert "quota_year" not in form.fields
    assert "destination_region" not in form.fields
    household.refresh_from_db()
    assert (household.quota_year, household.destination_region.code) == (2026, "KZ-55")


@pytest.mark.parametrize(
    ("page", "label"),
    [
        ("status", '<label for="id_on" class="required">Effective date:</label>'),
        ("prepare", '<label for="id_month" class="required">Month:</label>'),
        ("upload", '<label for="id_file" class="required">CSV file:</label>'),
    ],
)
def test_it_lays_out_its_own_form_pages_as_the_admin_does(admin_client, admin_user, page, label):
    household = make_case(admin_user, ["applied"])
    url = {
        "status": reverse("admin:resettlement_household_transition", args=[household.pk]),
        "prepare": reverse("admin:resettlement_paymentbatch_prepare"),
        "upload": reverse("admin:resettlement_importbatch_add"),
    }[page]

    html = admin_client.get(url).content.decode()

    assert "admin/css/forms.css" in html
    assert '<fieldset class="module aligned">' in html
    assert label in html
    if page != "upload":  # the date fields' calendar needs the admin's core script
        assert "admin/js/core.js" in html
        assert "admin/js/admin/DateTimeShortcuts.js" in html


def test_it_takes_a_year_alone_as_the_date_of_birth_and_shows_it_so_again(admin_client, admin_user):
    household = make_case(admin_user)
    add_url = reverse("admin:resettlement_person_add")
    form = {
        **posted_form(admin_client.get(add_url)),
        "household": str(household.pk),
        "relation": "parent",
        "sex": "F",
        "surname": "Масадыкова",
        "given_name": "Гульнара",
    }

    refused = admin_client.post(add_url, {**form, "birth_date": "19755"})
    saved = admin_client.post(add_url, {**form, "birth_date": " 1952 "})

    assert refused.status_code == 200
    assert "Enter a valid date." in refused.content.decode()
    assert saved.status_code == 302
    person = Person.objects.get(given_name="Гульнара")
    assert (person.birth_date, person.birth_date_precision) == (dt.date(1952, 1, 1), "year")
    page = admin_client.get(reverse("admin:resettlement_person_change", args=[person.pk]))
    assert 'name="birth_date" value="1952"' in page.content.decode()
    assert 'placeholder="date or year"' in page.content.decode()


def test_it_takes_a_year_alone_for_a_member_on_the_household_page(admin_client, admin_user):
    household = make_case(admin_user)
    url = reverse("admin:resettlement_household_change", args=[household.pk])

    response = admin_client.post(
        url, {**posted_form(admin_client.get(url)), "members-0-birth_date": "1961"}
    )

    assert response.status_code == 302
    head = household.members.get()
    assert (head.birth_date, head.birth_date_precision) == (dt.date(1961, 1, 1), "year")


def test_it_leaves_the_households_history_alone_when_only_a_member_changed(
    admin_client, admin_user
):
    household = make_case(admin_user)
    entries = household.history.count()
    url = reverse("admin:resettlement_household_change", args=[household.pk])

    response = admin_client.post(
        url, {**posted_form(admin_client.get(url)), "members-0-occupation": "driver"}
    )

    assert response.status_code == 302
    assert household.members.get().occupation == "driver"
    assert household.members.get().history.first().occupation == "driver"
    assert household.history.count() == entries


def test_a_year_alone_saved_unchanged_writes_nothing_and_a_full_date_over_it_is_kept(
    admin_client, admin_user
):
    household = make_case(admin_user)
    Person.objects.filter(household=household).update(
        birth_date=dt.date(1961, 1, 1), birth_date_precision="year"
    )
    head = household.members.get()
    url = reverse("admin:resettlement_household_change", args=[household.pk])
    person_url = reverse("admin:resettlement_person_change", args=[head.pk])
    entries = head.history.count()

    unchanged = admin_client.post(url, posted_form(admin_client.get(url)))
    head.refresh_from_db()
    version_after_unchanged = head.version
    full_date = admin_client.post(
        person_url, {**posted_form(admin_client.get(person_url)), "birth_date": "1961-03-12"}
    )
    head.refresh_from_db()

    assert unchanged.status_code == 302
    assert version_after_unchanged == 0
    assert head.history.count() == entries + 1  # the full date only
    assert full_date.status_code == 302
    assert (head.birth_date, head.birth_date_precision) == (dt.date(1961, 3, 12), "day")


def test_it_refuses_a_year_of_birth_out_of_range_with_a_message(admin_client, admin_user):
    head = make_case(admin_user).members.get()
    url = reverse("admin:resettlement_person_change", args=[head.pk])
    form = posted_form(admin_client.get(url))

    responses = [admin_client.post(url, {**form, "birth_date": year}) for year in ("0000", "2999")]

    for response in responses:
        assert response.status_code == 200
        assert "A year of birth from 1900 to" in response.content.decode()
    head.refresh_from_db()
    assert head.birth_date is None


def test_it_refuses_contradictory_or_out_of_range_year_only_dates(admin_client, admin_user):
    year_only, exact = make_case(admin_user).members.get(), make_case(admin_user).members.get()
    Person.objects.filter(pk=year_only.pk).update(
        birth_date=dt.date(1961, 1, 1), birth_date_precision="year"
    )

    def post(person, **cells):
        url = reverse("admin:resettlement_person_change", args=[person.pk])
        return admin_client.post(url, {**posted_form(admin_client.get(url)), **cells})

    exact_year = post(year_only, birth_date="1961", birth_date_precision="day")
    too_early = post(exact, birth_date="1899-03-15", birth_date_precision="year")

    assert "This is a year alone: type the full date, or choose" in exact_year.content.decode()
    assert "A year of birth from 1900 to" in too_early.content.decode()
    assert list(
        Person.objects.filter(pk__in=[year_only.pk, exact.pk])
        .order_by("pk")
        .values_list("birth_date", "birth_date_precision", "version")
    ) == [(dt.date(1961, 1, 1), "year", 0), (None, "day", 0)]
