"""A real browser signs in, opens the arrivals report and finds the chart drawn."""

from tests import browser_fixtures
from tests.reports_fixtures import build_world, user_with

browser_page = browser_fixtures.browser_page

pytestmark = browser_fixtures.MARKS


def test_it_draws_the_arrivals_chart_for_a_signed_in_manager(
    live_server, django_user_model, browser_page
):
    build_world()
    user_with(django_user_model, "manager", "view_reports")
    page = browser_page

    page.goto(f"{live_server.url}/reports/arrivals/?date_from=2021-09-01&date_to=2021-09-30")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "pw-for-tests-only")
    page.click("input[type=submit]")
    page.wait_for_selector("svg.chart")

    assert page.url.endswith("/reports/arrivals/?date_from=2021-09-01&date_to=2021-09-30")
    bars = page.locator("svg.chart").first.locator("rect.bar")
    assert bars.count() == 5  # five regions
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(5)]
    assert all(width > 0 for width in widths)
    assert page.locator("table[data-table=by_region] tfoot").inner_text().split() == [
        "Total",
        "35",
        "35",
    ]
