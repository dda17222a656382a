"""A real browser edits a household in the admin: what the page renders is what gets saved.

(Tests that post a form built from the server's form objects once missed that the household page
did not render its hidden version field, so every save from a browser was refused as stale.)"""

import pytest

from resettlement.models import QuotaPlacement
from tests import browser_fixtures
from tests.benefits_fixtures import quota, quota_family

CHROMIUM, browser_page = browser_fixtures.CHROMIUM, browser_fixtures.browser_page

pytestmark = [
    # serialized_rollback: the flush after a transactional test would drop the reference data.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


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
    assert f"now holds 2 place(s) in {quota()}, for the members still arriving; 1 given" in messages
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
