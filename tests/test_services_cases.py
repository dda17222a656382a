"""The case workflow: opening cases, every allowed status change, refusals, status extensions."""

import datetime as dt
from collections import deque
from typing import Any

import pytest
from django.utils import timezone

from resettlement.enums import TRANSITIONS, CaseStatus, HistoryKind
from resettlement.models import Household, StatusChange
from resettlement.services.cases import (
    TransitionError,
    add_months,
    allowed_transitions,
    case_transition,
    extend_status,
    open_case,
)

from .factories import HouseholdFactory, make_household

pytestmark = pytest.mark.django_db

S = CaseStatus

#: The arrange steps of a test happen on consecutive days from here; the act step after them.
PATH_START = dt.date(2026, 1, 5)
ACT_DAY = dt.date(2026, 6, 15)

CASE_FIELDS = (
    "status",
    "applied_on",
    "decided_on",
    "status_granted_on",
    "status_expires_on",
    "extensions_used",
    "arrived_on",
    "citizenship_on",
)
HISTORY_FIELDS = (
    "household",
    "kind",
    "from_status",
    "to_status",
    "effective_on",
    "changed_by",
    "reason",
)


def case_row(household: Household) -> dict[str, Any]:
    return Household.objects.filter(pk=household.pk).values(*CASE_FIELDS).get()


def history(household: Household) -> list[dict[str, Any]]:
    return list(
        StatusChange.objects.filter(household=household).order_by("id").values(*HISTORY_FIELDS)
    )


def snapshot(household: Household) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return case_row(household), history(household)


def shortest_path(to: str) -> list[str]:
    """The statuses a draft case passes through to reach ``to`` by allowed moves (BFS)."""
    paths = {S.DRAFT: [S.DRAFT]}
    queue = deque([S.DRAFT])
    while queue:
        status = queue.popleft()
        for target in (s for s in S if s in TRANSITIONS[status]):
            if target not in paths:
                paths[target] = [*paths[status], target]
                queue.append(target)
    return paths[to][1:]


def walk_to(household: Household, status: str, by, start: dt.date = PATH_START) -> None:
    """Arrange: move a draft case to ``status`` along the shortest path, one day per step."""
    for day, step in enumerate(shortest_path(status)):
        case_transition(
            household=household,
            to=step,
            by=by,
            reason="arranged by the test",
            on=start + dt.timedelta(days=day),
        )


# The table


def test_it_allows_exactly_the_transitions_of_the_rules():
    table = {status.value: [s.value for s in allowed_transitions(status)] for status in S}

    assert table == {
        "draft": ["applied", "in_transit", "withdrawn", "returned"],
        "applied": ["under_review", "withdrawn", "returned"],
        "under_review": ["hearing", "granted", "withdrawn", "returned"],
        "hearing": ["granted", "refused", "withdrawn", "returned"],
        "granted": ["in_transit", "arrived", "settled", "withdrawn", "returned"],
        "in_transit": ["arrived", "withdrawn", "returned"],
        "arrived": ["applied", "settled", "withdrawn", "returned"],
        "settled": ["citizenship", "withdrawn", "returned"],
        "citizenship": ["closed"],
        "refused": ["closed"],
        "withdrawn": ["closed"],
        "returned": ["closed"],
        "closed": [],
    }


# Allowed transitions

#: The dates a move sets to its effective date (``status_expires_on`` is checked separately).
DATES_SET = {
    S.APPLIED: ("applied_on",),
    S.GRANTED: ("decided_on", "status_granted_on"),
    S.REFUSED: ("decided_on",),
    S.ARRIVED: ("arrived_on",),
    S.CITIZENSHIP: ("citizenship_on",),
}

ALLOWED = sorted((source, target) for source, targets in TRANSITIONS.items() for target in targets)


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{s}->{t}" for s, t in ALLOWED])
def test_it_moves_a_case_along_every_allowed_transition(kz_program, officer, source, target):
    household = HouseholdFactory(program=kz_program)
    walk_to(household, source, officer)
    before, earlier_history = snapshot(household)

    change = case_transition(
        household=household, to=target, by=officer, reason="  Letter of 12 June  ", on=ACT_DAY
    )

    expected = {**before, "status": target}
    expected.update(dict.fromkeys(DATES_SET.get(target, ()), ACT_DAY))
    if target == S.GRANTED:
        expected["status_expires_on"] = dt.date(2027, 6, 15)
    new_row = {
        "household": household.pk,
        "kind": HistoryKind.TRANSITION,
        "from_status": source,
        "to_status": target,
        "effective_on": ACT_DAY,
        "changed_by": officer.pk,
        "reason": "Letter of 12 June",
    }
    assert snapshot(household) == (expected, [*earlier_history, new_row])
    assert change == StatusChange.objects.latest("id")
    assert household.status == target  # the caller's instance follows


def test_it_walks_a_kandas_case_from_application_to_closure(kz_program, officer):
    household = open_case(
        household=HouseholdFactory.build(program=kz_program, reference=""),
        by=officer,
        on=dt.date(2025, 2, 3),
    )
    steps = [
        (S.APPLIED, dt.date(2025, 2, 10)),
        (S.UNDER_REVIEW, dt.date(2025, 2, 11)),
        (S.HEARING, dt.date(2025, 3, 1)),
        (S.GRANTED, dt.date(2025, 3, 20)),
        (S.IN_TRANSIT, dt.date(2025, 5, 2)),
        (S.ARRIVED, dt.date(2025, 5, 4)),
        (S.SETTLED, dt.date(2025, 9, 1)),
        (S.CITIZENSHIP, dt.date(2026, 4, 1)),
        (S.CLOSED, dt.date(2026, 4, 2)),
    ]

    for to, on in steps:
        case_transition(household=household, to=to, by=officer, reason="hearing: letter", on=on)

    assert case_row(household) == {
        "status": S.CLOSED,
        "applied_on": dt.date(2025, 2, 10),
        "decided_on": dt.date(2025, 3, 20),
        "status_granted_on": dt.date(2025, 3, 20),
        "status_expires_on": dt.date(2026, 3, 20),
        "extensions_used": 0,
        "arrived_on": dt.date(2025, 5, 4),
        "citizenship_on": dt.date(2026, 4, 1),
    }
    assert [
        (h["kind"], h["from_status"], h["to_status"], h["effective_on"]) for h in history(household)
    ] == [
        (HistoryKind.CREATED, "", S.DRAFT, dt.date(2025, 2, 3)),
        *(
            (HistoryKind.TRANSITION, before, to, on)
            for before, (to, on) in zip(
                [S.DRAFT, *(to for to, _ in steps[:-1])], steps, strict=True
            )
        ),
    ]


@pytest.mark.parametrize(
    ("program_code", "granted_on", "expires_on"),
    [
        ("KZ-KANDAS", dt.date(2026, 6, 15), dt.date(2027, 6, 15)),
        ("KG-KAYRYLMAN", dt.date(2026, 6, 15), dt.date(2029, 6, 15)),
        ("KZ-KANDAS", dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
    ],
)
def test_it_grants_status_for_the_programs_validity(
    officer, program_code, granted_on, expires_on, kz_program, kg_program
):
    program = {p.code: p for p in (kz_program, kg_program)}[program_code]
    household = HouseholdFactory(program=program)
    walk_to(household, S.UNDER_REVIEW, officer, start=granted_on - dt.timedelta(days=30))

    case_transition(household=household, to=S.GRANTED, by=officer, on=granted_on)

    row = case_row(household)
    assert (row["decided_on"], row["status_granted_on"], row["status_expires_on"]) == (
        granted_on,
        granted_on,
        expires_on,
    )


def test_it_records_a_move_without_a_reason_when_none_is_required(kz_program, officer):
    household = HouseholdFactory(program=kz_program)

    case_transition(household=household, to=S.APPLIED, by=officer, on=ACT_DAY)

    assert history(household)[-1]["reason"] == ""


def test_it_dates_a_move_today_by_default(kz_program, officer):
    household = HouseholdFactory(program=kz_program)

    change = case_transition(household=household, to=S.APPLIED, by=officer)

    today = timezone.localdate()
    assert (change.effective_on, case_row(household)["applied_on"]) == (today, today)


# Refused transitions


@pytest.mark.parametrize("source", list(S))
def test_it_refuses_every_move_that_is_not_in_the_table(kz_program, officer, source):
    household = HouseholdFactory(program=kz_program)
    Household.objects.filter(pk=household.pk).update(status=source)  # arrange only
    before = snapshot(household)
    not_allowed = [t for t in S if t not in TRANSITIONS[source]]

    refusals = []
    for target in not_allowed:
        with pytest.raises(TransitionError) as error:
            case_transition(household=household, to=target, by=officer, reason="x", on=ACT_DAY)
        refusals.append((error.value.code, error.value.messages))

    assert refusals == [
        (
            "transition_not_allowed",
            [f"A case cannot go from “{S(source).label}” to “{S(target).label}”."],
        )
        for target in not_allowed
    ]
    assert snapshot(household) == before


def test_it_refuses_a_status_that_does_not_exist(kz_program, officer):
    household = HouseholdFactory(program=kz_program)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        case_transition(household=household, to="approved", by=officer, on=ACT_DAY)

    assert error.value.messages == ["A case cannot go from “Draft” to “approved”."]
    assert snapshot(household) == before


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.UNDER_REVIEW, S.HEARING),
        (S.HEARING, S.REFUSED),
        (S.DRAFT, S.WITHDRAWN),
        (S.SETTLED, S.RETURNED),
    ],
)
@pytest.mark.parametrize("reason", ["", "   \n "])
def test_it_refuses_a_move_without_the_reason_it_needs(kz_program, officer, source, target, reason):
    household = HouseholdFactory(program=kz_program)
    walk_to(household, source, officer)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        case_transition(household=household, to=target, by=officer, reason=reason, on=ACT_DAY)

    assert (error.value.code, error.value.messages) == (
        "reason_required",
        [f"Give a reason for “{S(target).label}”."],
    )
    assert snapshot(household) == before


def test_it_refuses_a_move_dated_in_the_future(kz_program, officer):
    household = HouseholdFactory(program=kz_program)
    before = snapshot(household)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    with pytest.raises(TransitionError) as error:
        case_transition(household=household, to=S.APPLIED, by=officer, on=tomorrow)

    assert (error.value.code, error.value.messages) == (
        "future",
        ["A status change cannot be dated in the future."],
    )
    assert snapshot(household) == before


def test_it_refuses_a_decision_dated_before_the_application(kz_program, officer):
    household = HouseholdFactory(program=kz_program)
    walk_to(household, S.UNDER_REVIEW, officer)  # applied on PATH_START
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        case_transition(
            household=household, to=S.GRANTED, by=officer, on=PATH_START - dt.timedelta(days=1)
        )

    assert error.value.messages == ["The decision date cannot be before the application date."]
    assert snapshot(household) == before


def test_it_refuses_citizenship_dated_before_the_residence_permit(kz_program, officer):
    household = HouseholdFactory(program=kz_program, residence_permit_on=ACT_DAY)
    walk_to(household, S.SETTLED, officer)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        case_transition(
            household=household,
            to=S.CITIZENSHIP,
            by=officer,
            on=ACT_DAY - dt.timedelta(days=1),
        )

    assert error.value.messages == ["Citizenship cannot come before the residence permit."]
    assert snapshot(household) == before


def test_it_checks_the_move_against_the_status_in_the_database(kz_program, officer):
    household = HouseholdFactory(program=kz_program)
    stale = Household.objects.get(pk=household.pk)
    case_transition(household=household, to=S.APPLIED, by=officer, on=ACT_DAY)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        case_transition(household=stale, to=S.APPLIED, by=officer, on=ACT_DAY)

    assert error.value.messages == ["A case cannot go from “Applied” to “Applied”."]
    assert snapshot(household) == before


# Extensions


def granted_case(program, officer, on: dt.date = ACT_DAY) -> Household:
    household = HouseholdFactory(program=program)
    walk_to(household, S.UNDER_REVIEW, officer)
    case_transition(household=household, to=S.GRANTED, by=officer, on=on)
    return household


@pytest.mark.parametrize(
    ("months", "expires_on"), [(1, dt.date(2027, 7, 15)), (6, dt.date(2027, 12, 15))]
)
def test_it_extends_a_kandas_status_once_by_up_to_six_months(
    kz_program, officer, months, expires_on
):
    household = granted_case(kz_program, officer)
    row, earlier_history = snapshot(household)

    change = extend_status(
        household=household,
        months=months,
        by=officer,
        reason=" Still abroad: border closed ",
        on=dt.date(2026, 11, 2),
    )

    assert snapshot(household) == (
        {**row, "status_expires_on": expires_on, "extensions_used": 1},
        [
            *earlier_history,
            {
                "household": household.pk,
                "kind": HistoryKind.EXTENSION,
                "from_status": S.GRANTED,
                "to_status": S.GRANTED,
                "effective_on": dt.date(2026, 11, 2),
                "changed_by": officer.pk,
                "reason": "Still abroad: border closed",
            },
        ],
    )
    assert change == StatusChange.objects.latest("id")
    assert household.status_expires_on == expires_on  # the caller's instance follows


def test_it_refuses_a_second_kandas_extension(kz_program, officer):
    household = granted_case(kz_program, officer)
    extend_status(household=household, months=3, by=officer, reason="first", on=ACT_DAY)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        extend_status(household=household, months=1, by=officer, reason="second", on=ACT_DAY)

    assert (error.value.code, error.value.messages) == (
        "no_extension_left",
        [
            "Kandas program (formerly Oralman), Kazakhstan allows 1 extension(s); "
            "none is left for this case."
        ],
    )
    assert snapshot(household) == before


@pytest.mark.parametrize("months", [7, 12, 0, -1])
def test_it_refuses_a_kandas_extension_outside_one_to_six_months(kz_program, officer, months):
    household = granted_case(kz_program, officer)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        extend_status(household=household, months=months, by=officer, reason="long", on=ACT_DAY)

    assert (error.value.code, error.value.messages) == (
        "extension_too_long",
        ["An extension is 1 to 6 months."],
    )
    assert snapshot(household) == before


def test_it_refuses_any_kayrylman_extension(kg_program, officer):
    household = granted_case(kg_program, officer)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        extend_status(household=household, months=1, by=officer, reason="asked", on=ACT_DAY)

    assert (error.value.code, error.value.messages) == (
        "no_extension_left",
        ["Kayrylman program, Kyrgyzstan allows 0 extension(s); none is left for this case."],
    )
    assert snapshot(household) == before


def test_it_refuses_an_extension_without_a_reason(kz_program, officer):
    household = granted_case(kz_program, officer)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        extend_status(household=household, months=3, by=officer, reason="  ", on=ACT_DAY)

    assert (error.value.code, error.value.messages) == (
        "reason_required",
        ["Give a reason for the extension."],
    )
    assert snapshot(household) == before


def test_it_refuses_to_extend_a_case_that_has_no_status(kz_program, officer):
    household = HouseholdFactory(program=kz_program)
    walk_to(household, S.UNDER_REVIEW, officer)
    before = snapshot(household)

    with pytest.raises(TransitionError) as error:
        extend_status(household=household, months=3, by=officer, reason="asked", on=ACT_DAY)

    assert (error.value.code, error.value.messages) == (
        "no_status",
        ["This case has no status in force to extend."],
    )
    assert snapshot(household) == before


# Opening cases


def test_it_numbers_new_cases_per_program_and_year(kz_program, kg_program, officer):
    make_household(members=2)  # a factory case of 2099 does not disturb the 2026 series
    opened = []

    for program, on in [
        (kz_program, dt.date(2026, 3, 2)),
        (kz_program, dt.date(2026, 3, 2)),
        (kg_program, dt.date(2026, 3, 3)),
        (kz_program, dt.date(2025, 12, 31)),
        (kz_program, dt.date(2026, 3, 4)),
    ]:
        household = HouseholdFactory.build(program=program, reference="")
        opened.append(open_case(household=household, by=officer, on=on).reference)

    assert opened == [
        "KZ-2026-00001",
        "KZ-2026-00002",
        "KG-2026-00001",
        "KZ-2025-00001",
        "KZ-2026-00003",
    ]


def test_it_continues_the_numbering_after_the_highest_reference(kz_program, officer):
    HouseholdFactory(program=kz_program, reference="KZ-2026-00009")
    HouseholdFactory(program=kz_program, reference="KZ-2026-00041")

    household = open_case(
        household=HouseholdFactory.build(program=kz_program, reference=""),
        by=officer,
        on=dt.date(2026, 3, 2),
    )

    assert household.reference == "KZ-2026-00042"


def test_it_opens_a_case_as_a_draft_with_a_created_history_row(kz_program, officer):
    household = HouseholdFactory.build(program=kz_program, reference="")

    open_case(household=household, by=officer, on=dt.date(2026, 3, 2))

    assert snapshot(household) == (
        {
            "status": S.DRAFT,
            "applied_on": None,
            "decided_on": None,
            "status_granted_on": None,
            "status_expires_on": None,
            "extensions_used": 0,
            "arrived_on": None,
            "citizenship_on": None,
        },
        [
            {
                "household": household.pk,
                "kind": HistoryKind.CREATED,
                "from_status": "",
                "to_status": S.DRAFT,
                "effective_on": dt.date(2026, 3, 2),
                "changed_by": officer.pk,
                "reason": "",
            }
        ],
    )


def test_it_keeps_a_reference_given_to_a_new_case(kz_program, officer):
    household = HouseholdFactory.build(program=kz_program, reference="KZ-2019-00417")

    open_case(household=household, by=officer, on=dt.date(2026, 3, 2))

    assert Household.objects.values_list("reference", flat=True).get() == "KZ-2019-00417"


def test_it_refuses_to_open_a_saved_household(kz_program, officer):
    household = HouseholdFactory(program=kz_program)

    with pytest.raises(ValueError, match="new household"):
        open_case(household=household, by=officer)

    assert history(household) == []


# Month arithmetic


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
        (dt.date(2026, 3, 31), 1, dt.date(2026, 4, 30)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
        (dt.date(2026, 6, 15), 36, dt.date(2029, 6, 15)),
        (dt.date(2026, 6, 15), 0, dt.date(2026, 6, 15)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
    ],
)
def test_it_adds_months_clamping_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


def test_it_refuses_a_second_application_from_a_family_that_has_status(kz_program, officer):
    household = make_household(members=2, program=kz_program)
    for step in ("applied", "under_review", "granted", "arrived"):
        case_transition(household=household, to=step, by=officer, on=dt.date(2025, 3, 1))

    with pytest.raises(TransitionError) as refused:
        case_transition(household=household, to="applied", by=officer, on=dt.date(2025, 4, 1))

    household.refresh_from_db()
    assert (refused.value.code, household.status, household.applied_on) == (
        "has_status",
        "arrived",
        dt.date(2025, 3, 1),
    )


def test_it_reports_dates_out_of_order_with_a_code_and_a_message(kz_program, officer):
    household = make_household(members=1, program=kz_program)
    case_transition(household=household, to="applied", by=officer, on=dt.date(2025, 3, 1))
    case_transition(household=household, to="under_review", by=officer, on=dt.date(2025, 3, 2))

    with pytest.raises(TransitionError) as refused:
        case_transition(household=household, to="granted", by=officer, on=dt.date(2025, 2, 1))

    assert (refused.value.code, refused.value.messages) == (
        "dates",
        ["The decision date cannot be before the application date."],
    )
    household.refresh_from_db()
    assert (household.status, household.decided_on) == ("under_review", None)


def test_it_refuses_to_extend_a_withdrawn_case_or_a_future_date(kz_program, officer):
    withdrawn = make_household(members=1, program=kz_program)
    granted = make_household(members=1, program=kz_program)
    for household in (withdrawn, granted):
        for step in ("applied", "under_review", "granted"):
            case_transition(household=household, to=step, by=officer, on=dt.date(2025, 3, 1))
    case_transition(
        household=withdrawn, to="withdrawn", by=officer, reason="Left", on=dt.date(2025, 4, 1)
    )
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    with pytest.raises(TransitionError) as not_in_force:
        extend_status(household=withdrawn, months=6, by=officer, reason="Asked")
    with pytest.raises(TransitionError) as future:
        extend_status(household=granted, months=6, by=officer, reason="Asked", on=tomorrow)

    assert (not_in_force.value.code, future.value.code) == ("no_status", "future")
    assert StatusChange.objects.filter(kind=HistoryKind.EXTENSION).count() == 0
