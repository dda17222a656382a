"""The household and people lists run a fixed number of queries, however many rows there are;
and on PostgreSQL every search is served by an index (no sequential scan of the people table).

Rows are made with ``bulk_create``: these tests count queries, they never time anything (speed is
measured by ``bench/run.py``).
"""

import datetime as dt
import re

import pytest
from django.contrib.admin.views.main import SEARCH_VAR
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from resettlement.admin.scale import EstimatedCountPaginator, forget_filter_choices
from resettlement.enums import CaseStatus, Relation
from resettlement.models import Group, Household, Person, Program, Region
from resettlement.selectors import reports
from resettlement.selectors.search import search_households, search_persons
from resettlement.services.summaries import refresh_household_summaries
from resettlement.validators import make_iin

pytestmark = pytest.mark.django_db

HOUSEHOLDS = reverse("admin:resettlement_household_changelist")
PEOPLE = reverse("admin:resettlement_person_changelist")

LISTS = [
    (HOUSEHOLDS, {}),
    (HOUSEHOLDS, {SEARCH_VAR: "Ахметов"}),
    (HOUSEHOLDS, {"status__exact": CaseStatus.DRAFT}),
    (
        HOUSEHOLDS,
        {SEARCH_VAR: "KZ-2026", "quota_year": "2026", "origin_country__code__exact": "AF"},
    ),
    (PEOPLE, {}),
    (PEOPLE, {SEARCH_VAR: "akhmetov"}),
    (PEOPLE, {"sex__exact": "M"}),
    (PEOPLE, {SEARCH_VAR: "KZ-2026-00001", "household__program__id__exact": "1"}),
]


def head_iin(n: int) -> str:
    """A valid IIN for the head of household ``n`` (or none where no check digit fits)."""
    try:
        return make_iin(f"9001013{n:04d}")
    except ValueError:
        return ""


def make_register(households: int, first: int = 1) -> None:
    """``households`` households of two (a head and a child), numbered from ``first``."""
    program = Program.objects.get(code="KZ-KANDAS")
    region = Region.objects.get(code="KZ-55")
    created = Household.objects.bulk_create(
        Household(
            program=program,
            reference=f"KZ-2026-{n:05d}",
            origin_country_id="AF",
            destination_region=region,
            quota_year=2026 if n % 2 else None,
            status=CaseStatus.DRAFT if n % 3 else CaseStatus.APPLIED,
        )
        for n in range(first, first + households)
    )
    people = []
    for n, household in enumerate(created, start=first):
        for relation, sex, given in ((Relation.HEAD, "M", "Ерлан"), (Relation.CHILD, "F", "Айгүл")):
            person = Person(
                household=household,
                relation=relation,
                sex=sex,
                surname="Ахметов" if sex == "M" else "Ахметова",
                given_name=given,
                document_number=f"N{n:07d}{sex}",
                iin=head_iin(n) if relation == Relation.HEAD else "",
            )
            person.refresh_derived_fields()
            people.append(person)
    Person.objects.bulk_create(people)
    # A bulk write bypasses the signals: refresh the counts the reports read, as bulk writers do.
    refresh_household_summaries(h.pk for h in created)


def queries_per_list(client) -> list[int]:
    """Queries of each list page as a worker's first (its filter choices not yet kept)."""
    counts = []
    for url, params in LISTS:
        forget_filter_choices()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200, (url, params)
        counts.append(len(queries))
    return counts


def test_it_runs_the_same_queries_for_10_and_for_1000_households(admin_client):
    make_register(5)  # 10 people
    small = queries_per_list(admin_client)
    make_register(495, first=6)  # 1,000 people in 500 households
    large = queries_per_list(admin_client)

    assert small == large, (small, large)
    assert max(large) <= 10, large
    print("queries per list:", large)


def test_it_shows_the_rows_that_match_search_and_filters(admin_client):
    make_register(3)

    response = admin_client.get(PEOPLE, {SEARCH_VAR: "KZ-2026-00002"})
    shown = sorted((p.household.reference, p.relation) for p in response.context["cl"].result_list)

    assert shown == [("KZ-2026-00002", "child"), ("KZ-2026-00002", "head")]
    response = admin_client.get(HOUSEHOLDS, {"quota_year": "none"})
    assert [h.reference for h in response.context["cl"].result_list] == ["KZ-2026-00002"]
    response = admin_client.get(HOUSEHOLDS, {"quota_year": "2026", SEARCH_VAR: "N0000003F"})
    assert [h.reference for h in response.context["cl"].result_list] == ["KZ-2026-00003"]


def test_it_counts_small_tables_exactly():
    make_register(3)

    assert EstimatedCountPaginator(Person.objects.all(), 50).count == 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL statistics")
def test_it_estimates_big_unfiltered_tables_from_the_statistics():
    make_register(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE resettlement_person")
        cursor.execute("DELETE FROM resettlement_person WHERE relation = 'child'")

    class EstimateEverything(EstimatedCountPaginator):
        estimate_from = 1

    # The statistics still say 60 (as autovacuum would until it runs); a filter counts exactly.
    assert EstimateEverything(Person.objects.all(), 50).count == 60
    assert EstimatedCountPaginator(Person.objects.all(), 50).count == 30
    assert EstimateEverything(Person.objects.filter(sex="M"), 50).count == 30
    filtered = EstimateEverything(Person.objects.filter(sex="M"), 50, estimate_filtered=True)
    assert 20 <= filtered.count <= 60  # the planner's estimate, from the statistics


SEARCHES = [
    "Ахметов",  # a name in Cyrillic
    "akhmetov erlan",  # two words in Latin
    head_iin(1),  # an IIN
    "N0000001M",  # a document number
    "KZ-2026-00001",  # a reference
    "zzzqqq",  # no hit
]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram index is PostgreSQL's")
@pytest.mark.parametrize("term", SEARCHES)
def test_it_searches_without_scanning_the_people_table(term):
    make_register(20)
    with connection.cursor() as cursor:
        # Tiny tables are cheapest to scan; forbid it so the plan shows whether an index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = [
            search_persons(Person.objects.all(), term)[:50].explain(),
            search_households(Household.objects.all(), term).order_by("-id")[:50].explain(),
        ]

    for plan in plans:
        assert "Seq Scan on resettlement_person" not in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL storage settings")
def test_bulk_written_tables_are_vacuumed_soon_and_trigram_pending_lists_stay_small():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
            [
                [
                    "resettlement_person",
                    "resettlement_household",
                    "person_search_key_trgm",
                    "household_reference_trgm",
                ]
            ],
        )
        options = {name: set(opts or []) for name, opts in cursor.fetchall()}

    for table in ("resettlement_person", "resettlement_household"):
        assert "autovacuum_vacuum_insert_scale_factor=0.02" in options[table]
        assert "autovacuum_vacuum_scale_factor=0.02" in options[table]
    for index in ("person_search_key_trgm", "household_reference_trgm"):
        assert options[index] == {"gin_pending_list_limit=1024"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="covering indexes are PostgreSQL's")
def test_arrivals_and_status_grants_have_indexes_that_cover_what_they_read():
    """Every column of the household these two reports read is in the index, so PostgreSQL can
    answer them from the index alone (checked at 1.2 M people in docs/benchmarks.md)."""
    make_register(5)
    scope = reports.Scope(households=Household.objects.all(), groups=Group.objects.all())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
            [["household_arrivals", "household_status_granted"]],
        )
        indexes = dict(cursor.fetchall())
    for report, index in (
        (reports.arrivals, "household_arrivals"),
        (reports.status_grants, "household_status_granted"),
    ):
        with CaptureQueriesContext(connection) as queries:
            report(scope)
        sql = next(
            q["sql"]
            for q in queries.captured_queries
            if 'FROM "resettlement_household"' in q["sql"]
        )
        read = set(re.findall(r'"resettlement_household"\."(\w+)"', sql))
        covered = set(re.findall(r'"?(\w+)"?', indexes[index].split(" USING btree ")[1]))
        assert len(read) >= 3, sql
        assert read <= covered, (index, read - covered)


def test_likely_duplicates_are_looked_up_by_name_and_birth_year_in_one_statement():
    """The import's look-up of people with the same name and year of birth (a common name is
    shared by thousands in a national register) reads only the rows of that year."""
    from resettlement.services.imports import _people_named, name_key

    make_register(20)
    heads = Person.objects.filter(relation=Relation.HEAD).order_by("pk")
    Person.objects.filter(pk__in=[p.pk for p in heads[:5]]).update(birth_date=dt.date(1980, 5, 17))
    Person.objects.filter(pk__in=[p.pk for p in heads[5:]]).update(birth_date=dt.date(1981, 1, 2))
    key = name_key("Ахметов", "Ерлан")

    with CaptureQueriesContext(connection) as queries:
        found = _people_named([(key, 1980), (name_key("Жумабаев", "Нурлан"), 1980)])

    assert sorted(p.pk for p in found) == sorted(p.pk for p in heads[:5])
    # One statement for the look-up and one to load the people, however many names.
    assert len(queries) == 2


def test_reference_filters_link_and_render_their_choices_as_django_does(rf, admin_user):
    from django.contrib import admin
    from django.contrib.admin.filters import RelatedFieldListFilter
    from django.template.loader import get_template

    from resettlement.admin.scale import ReferenceListFilter

    from .factories import GroupFactory

    make_register(4)
    groups = GroupFactory.create_batch(3)
    Household.objects.filter(pk__in=Household.objects.order_by("pk")[:2]).update(group=groups[0])
    request = rf.get(
        HOUSEHOLDS,
        {SEARCH_VAR: "Ахмет ов", "status__exact": "draft", "group__id__exact": str(groups[1].pk)},
    )
    request.user = admin_user
    changelist = admin.site._registry[Household].get_changelist_instance(request)
    specs = [s for s in changelist.filter_specs if isinstance(s, ReferenceListFilter)]
    assert len(specs) == 4  # program, region, group, origin country

    def html(template: str, spec, choices: list) -> str:
        text = get_template(template).render({"title": spec.title, "choices": choices})
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", text)).strip()

    for spec in specs:
        ours = list(spec.choices(changelist))
        djangos = list(RelatedFieldListFilter.choices(spec, changelist))
        assert ours == djangos
        assert html(spec.template, spec, ours) == html("admin/filter.html", spec, djangos)
    group_links = [c["query_string"] for c in specs[2].choices(changelist)]
    assert any(f"group__id__exact={groups[2].pk}" in link for link in group_links)


@pytest.mark.parametrize("model", [Household, Person])
def test_row_checkboxes_are_djangos_html_written_directly(rf, admin_user, model):
    from django.contrib import admin
    from django.contrib.admin import ModelAdmin

    make_register(1)
    obj = model.objects.order_by("pk").first()
    # A name that needs escaping in the checkbox's label.
    if model is Household:
        obj.reference = "KZ-<b>\"&'-1"
    else:
        obj.surname, obj.given_name = '<b>"Ахметов"</b>', "Ерлан & Co"
    model_admin = admin.site._registry[model]

    ours = model_admin.action_checkbox(obj)
    djangos = ModelAdmin.action_checkbox(model_admin, obj)

    assert ours == djangos
    assert "&lt;b&gt;" in ours
    assert 'class="action-select"' in ours


def test_a_household_search_is_counted_from_the_ids_it_found(admin_client):
    """No second run of the search to count it: the ids were looked up once; with a list
    filter the count is the database's, and both are right."""
    make_register(6)
    Household.objects.filter(reference="KZ-2026-00002").update(status=CaseStatus.CLOSED)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(HOUSEHOLDS, {SEARCH_VAR: "Ахметов"})
    filtered = admin_client.get(
        HOUSEHOLDS, {SEARCH_VAR: "Ахметов", "status__exact": CaseStatus.CLOSED}
    )

    assert response.context["cl"].result_count == 6
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    assert filtered.context["cl"].result_count == 1
    assert [h.reference for h in filtered.context["cl"].result_list] == ["KZ-2026-00002"]


@pytest.mark.parametrize(
    "params",
    [{}, {SEARCH_VAR: "Ахметов «Ерлан» & co"}, {SEARCH_VAR: "KZ", "status__exact": "draft"}],
)
def test_row_links_are_djangos_with_the_lists_filters(rf, admin_user, params):
    from django.contrib import admin
    from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
    from django.contrib.admin.views.main import ChangeList

    make_register(2)
    request = rf.get(HOUSEHOLDS, params)
    request.user = admin_user
    request.resolver_match = resolve(HOUSEHOLDS)
    model_admin = admin.site._registry[Household]
    changelist = model_admin.get_changelist_instance(request)
    household = Household.objects.order_by("pk").first()

    ours = add_preserved_filters(
        {"preserved_filters": changelist.preserved_filters, "opts": changelist.opts},
        changelist.url_for_result(household),
    )
    djangos = add_preserved_filters(
        {"preserved_filters": model_admin.get_preserved_filters(request), "opts": changelist.opts},
        ChangeList.url_for_result(changelist, household),
    )

    assert ours == djangos
    assert f"/{household.pk}/change/" in ours
    if params:
        assert "_changelist_filters=" in ours


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index kinds")
def test_the_people_and_households_have_no_pattern_ops_twin_indexes():
    # Every person written updates every index of the table: a LIKE twin of an index on codes
    # or document keys, which are only ever compared whole, was paid for by each import.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexdef LIKE '%%pattern_ops%%'",
            [["resettlement_person", "resettlement_household"]],
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)",
            [["person_document_key", "person_citizenship", "household_origin_country"]],
        )
        assert len(cursor.fetchall()) == 3


HOUSEHOLD_LIST = "/admin/resettlement/household/"
REFERENCE_TABLES = (
    "resettlement_program",
    "resettlement_region",
    "resettlement_group",
    "resettlement_country",
)


def reference_reads(client, url: str = HOUSEHOLD_LIST) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [
        table
        for q in queries
        for table in REFERENCE_TABLES
        if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
    ]


def test_the_household_list_reads_its_filter_choices_once_and_again_after_a_change(
    admin_client, django_capture_on_commit_callbacks
):
    make_register(3)
    program = Program.objects.get(code="KZ-KANDAS")

    first, second = reference_reads(admin_client), reference_reads(admin_client)
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(program=program, name="Рейс 77", origin_country_id="AF")
    third = reference_reads(admin_client)
    page = admin_client.get(HOUSEHOLD_LIST).content.decode()

    assert sorted(first) == sorted(REFERENCE_TABLES)
    assert second == []
    assert sorted(third) == sorted(REFERENCE_TABLES)  # all four: a new stamp for all
    assert "Рейс 77" in page
