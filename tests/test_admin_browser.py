"""A real browser edits a household in the admin: what the page renders is what gets saved.

(Tests that post a form built from the server's form objects once missed that the household page
did not render its hidden version field, so every save from a browser was refused as stale.)"""

import io

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from resettlement.models import QuotaPlacement
from tests import browser_fixtures
from tests.benefits_fixtures import quota, quota_family

browser_page = browser_fixtures.browser_page

pytestmark = browser_fixtures.MARKS


def test_a_member_marked_as_left_on_the_household_page_is_saved_and_gives_back_a_place(
    live_server, django_user_model, browser_page
):
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-tests-only")
    family = quota_family(by=boss, members=3)
    version = family.version
    page = browser_page

    page.goto(f"{live_server.url}/admin/resettlement/household/{family.pk}/change/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-tests-only")
    page.click("input[type=submit]")
    page.select_option("#id_members-2-member_status", "left")
    page.fill("#id_notes", "The son went back to Mazar-i-Sharif.")
    page.click("input[name=_continue]")
    page.wait_for_selector("ul.messagelist")

    messages = page.locator("ul.messagelist").inner_text()
    assert "was changed successfully" in messages, messages
    assert f"now holds 2 place(s) in {quota().region} 2025; 1 given back" in messages
    family.refresh_from_db()
    assert (family.notes, family.version) == ("The son went back to Mazar-i-Sharif.", version + 1)
    assert sorted(family.members.values_list("member_status", flat=True)) == [
        "arrived",
        "arrived",
        "left",
    ]
    assert list(QuotaPlacement.objects.order_by("pk").values_list("places", "status")) == [
        (3, "released"),
        (2, "reserved"),
    ]


def test_every_change_page_saves_unchanged_from_a_browser(live_server, browser_page):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo-admin-2021")
    page.click("input[type=submit]")
    saved, refused = [], []

    for model in admin.site._registry:
        record = model._default_manager.order_by("pk").first()
        if record is None:
            continue
        meta = model._meta
        try:
            url = reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change", args=[quote(record.pk)]
            )
        except NoReverseMatch:
            continue
        page.goto(live_server.url + url)
        if page.locator("input[name=_continue]").count() == 0:
            continue  # a read-only page (payments, the access log …)
        page.click("input[name=_continue]")
        page.wait_for_load_state()
        if (
            page.locator("ul.messagelist .success").count()
            and not page.locator(".errornote").count()
        ):
            saved.append(meta.model_name)
        else:
            refused.append(
                (meta.model_name, page.locator(".errornote, .errorlist").all_inner_texts())
            )

    assert refused == []
    assert {"household", "person", "group", "regionquota", "benefitrule", "user"} <= set(saved)


def test_two_browsers_editing_one_household_the_second_save_is_refused(
    live_server, django_user_model, browser_page
):
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-tests-only")
    family = quota_family(by=boss, members=2)
    url = f"{live_server.url}/admin/resettlement/household/{family.pk}/change/"
    first = browser_page
    second = first.context.browser.new_context().new_page()
    for page in (first, second):
        page.goto(url)
        page.fill("#id_username", "boss")
        page.fill("#id_password", "pw-for-tests-only")
        page.click("input[type=submit]")
        page.wait_for_selector("#household_form")

    first.fill("#id_notes", "Called the family on Monday.")
    first.click("input[name=_continue]")
    first.wait_for_selector("ul.messagelist")
    second.fill("#id_notes", "Visited on Tuesday.")
    second.click("input[name=_continue]")
    second.wait_for_selector(".errornote")

    assert "was changed successfully" in first.locator("ul.messagelist").inner_text()
    assert "Someone else saved this record" in second.locator("#content").inner_text()
    family.refresh_from_db()
    assert family.notes == "Called the family on Monday."
