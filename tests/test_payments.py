"""The payment cycle: runs, maker-checker, the ledger's guarantees, reversals, "why not paid"."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from resettlement.models import BatchExclusion, Payment, PaymentBatch, Program, Region
from resettlement.selectors.benefits import why_not_paid
from resettlement.services.benefits import grant_benefit
from resettlement.services.cases import case_transition
from resettlement.services.payments import (
    PaymentError,
    add_payment,
    approve_batch,
    exclude_from_batch,
    pay_batch,
    prepare_batch,
    refuse_payment,
    reverse_payment,
)

from . import benefits_fixtures as fx
from .benefits_fixtures import make_household, quota_family, rule

pytestmark = pytest.mark.django_db
officer, checker = fx.officer, fx.checker

D = Decimal
MARCH = dt.date(2025, 3, 1)


def kandas() -> Program:
    return Program.objects.get(code="KZ-KANDAS")


def relocation_for(household, by):
    return grant_benefit(household=household, rule=rule("relocation"), by=by)


def test_it_prepares_a_run_once_however_often_it_is_run(officer):
    first = quota_family(by=officer, members=5)
    relocation_for(first, officer)

    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)
    again = prepare_batch(program=kandas(), month=dt.date(2025, 3, 17), by=officer)
    second = quota_family(by=officer, members=2)
    relocation_for(second, officer)
    topped_up = prepare_batch(program=kandas(), month=MARCH, by=officer)

    assert batch == again == topped_up
    assert PaymentBatch.objects.count() == 1
    assert (
        sorted(batch.payments.values_list("grant__household__reference", flat=True))
        == [first.reference] * 5 + [second.reference] * 2
    )
    assert Payment.objects.filter(batch__isnull=True).count() == 0


def test_it_refuses_approval_by_the_officer_who_prepared_the_run(officer):
    relocation_for(quota_family(by=officer), officer)
    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)

    with pytest.raises(PaymentError, match="another officer must approve"):
        approve_batch(batch=batch, by=officer)

    batch.refresh_from_db()
    assert (batch.state, batch.approved_by) == ("prepared", None)
    assert set(batch.payments.values_list("state", flat=True)) == {"planned"}


def test_it_holds_maker_checker_in_the_database_too(officer):
    relocation_for(quota_family(by=officer), officer)
    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)

    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentBatch.objects.filter(pk=batch.pk).update(state="approved", approved_by=officer)


def test_it_approves_and_pays_a_run_recording_who_and_when(officer, checker):
    family = quota_family(by=officer, members=2)
    relocation_for(family, officer)
    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)

    approve_batch(batch=batch, by=checker)
    with pytest.raises(PaymentError, match="already approved by checker"):
        approve_batch(batch=batch, by=checker)
    pay_batch(batch=batch, by=checker, paid_on=dt.date(2025, 3, 20), reference="REG-2025-03")

    batch.refresh_from_db()
    assert (batch.state, batch.prepared_by, batch.approved_by, batch.paid_by, batch.paid_on) == (
        "paid",
        officer,
        checker,
        checker,
        dt.date(2025, 3, 20),
    )
    assert batch.approved_at is not None
    assert batch.paid_at is not None
    assert [
        (p.state, p.amount, p.approved_by, p.paid_by, p.paid_on, p.payment_reference)
        for p in batch.payments.all()
    ] == [("paid", D("275240.00"), checker, checker, dt.date(2025, 3, 20), "REG-2025-03")] * 2


def test_it_refuses_to_pay_a_run_before_approval_or_twice(officer, checker):
    relocation_for(quota_family(by=officer), officer)
    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)

    with pytest.raises(PaymentError, match="only after it is approved"):
        pay_batch(batch=batch, by=checker, paid_on=MARCH, reference="R1")
    approve_batch(batch=batch, by=checker)
    pay_batch(batch=batch, by=checker, paid_on=MARCH, reference="R1")
    with pytest.raises(PaymentError, match="already paid"):
        pay_batch(batch=batch, by=checker, paid_on=MARCH, reference="R2")
    with pytest.raises(PaymentError, match="already paid"):
        prepare_batch(program=kandas(), month=MARCH, by=officer)


def test_it_excludes_a_household_only_with_a_reason_and_keeps_it_out(officer, checker):
    kept, left_out = quota_family(by=officer), quota_family(by=officer, members=3)
    relocation_for(kept, officer)
    relocation_for(left_out, officer)
    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)

    with pytest.raises(PaymentError, match="Give the reason"):
        exclude_from_batch(batch=batch, household=left_out, reason=" ", by=officer)
    exclude_from_batch(batch=batch, household=left_out, reason="Bank account closed", by=officer)
    prepare_batch(program=kandas(), month=MARCH, by=officer)

    assert set(batch.payments.values_list("grant__household", flat=True)) == {kept.pk}
    assert list(batch.exclusions.values_list("household", "reason", "excluded_by")) == [
        (left_out.pk, "Bank account closed", officer.pk)
    ]
    explanations = {line.explanation for line in why_not_paid(left_out)[1].lines}
    assert explanations == {f"Excluded from payment run {batch}: Bank account closed"}


def test_it_leaves_withdrawn_cases_out_of_a_run_with_the_reason(officer):
    family = quota_family(by=officer)
    relocation_for(family, officer)
    case_transition(household=family, to="withdrawn", by=officer, reason="Moved to Almaty")

    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)

    assert batch.payments.count() == 0
    assert list(BatchExclusion.objects.values_list("household", "reason")) == [
        (family.pk, "The case is “Withdrawn”.")
    ]


def test_it_prepares_a_run_for_one_region(officer):
    pavlodar = quota_family(by=officer, region="KZ-55")
    akmola = quota_family(by=officer, region="KZ-11")
    relocation_for(pavlodar, officer)
    relocation_for(akmola, officer)

    batch = prepare_batch(
        program=kandas(), month=MARCH, region=Region.objects.get(code="KZ-11"), by=officer
    )

    assert set(batch.payments.values_list("grant__household", flat=True)) == {akmola.pk}


def test_it_lets_the_database_refuse_a_second_live_payment_for_a_month(officer):
    family = quota_family(by=officer)
    relocation = relocation_for(family, officer)
    rent = grant_benefit(
        household=family, rule=rule("rent"), by=officer, tier=D(15), tier_reason="Shared flat"
    )
    person_payment = relocation.payments.first()
    household_payment = rent.payments.first()

    for original in (person_payment, household_payment):  # per person, and per household (NULL)
        copy = Payment.objects.get(pk=original.pk)
        copy.pk = None
        with pytest.raises(IntegrityError), transaction.atomic():
            copy.save()


def test_it_refuses_to_plan_a_month_twice_but_reissues_after_a_refusal(officer, checker):
    family = quota_family(by=officer)
    rent = grant_benefit(
        household=family, rule=rule("rent"), by=officer, tier=D(15), tier_reason="Shared flat"
    )
    march = rent.payments.get(period=MARCH)

    with pytest.raises(PaymentError, match="2025-03 of this benefit already has a live payment"):
        add_payment(grant=rent, period=MARCH, by=officer)
    refuse_payment(payment=march, by=checker, reason="Family was abroad in March")
    reissued = add_payment(grant=rent, period=MARCH, by=officer, idempotency_key="form-1")
    resubmitted = add_payment(grant=rent, period=MARCH, by=officer, idempotency_key="form-1")

    assert reissued == resubmitted
    assert [(p.state, p.decision_reason, p.amount) for p in rent.payments.filter(period=MARCH)] == [
        ("refused", "Family was abroad in March", D("58980.00")),
        ("planned", "", D("58980.00")),
    ]


def paid_relocation(officer, checker):
    family = quota_family(by=officer, members=1)
    relocation_for(family, officer)
    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)
    approve_batch(batch=batch, by=checker)
    pay_batch(batch=batch, by=checker, paid_on=dt.date(2025, 3, 20), reference="REG-1")
    return Payment.objects.get()


def test_it_reverses_a_paid_payment_with_a_new_entry_and_one_entry_per_form(officer, checker):
    paid = paid_relocation(officer, checker)

    reversal = reverse_payment(
        payment=paid,
        by=checker,
        reason="Paid to a wrong account",
        paid_on=dt.date(2025, 4, 2),
        reference="RET-7",
        idempotency_key="rev-form-1",
    )
    resubmitted = reverse_payment(
        payment=paid,
        by=checker,
        reason="Paid to a wrong account",
        paid_on=dt.date(2025, 4, 2),
        reference="RET-7",
        idempotency_key="rev-form-1",
    )

    original = Payment.objects.get(pk=paid.pk)
    assert reversal == resubmitted
    assert (original.state, original.amount, original.paid_on, original.payment_reference) == (
        "reversed",
        D("275240.00"),
        dt.date(2025, 3, 20),
        "REG-1",
    )
    assert (
        reversal.reversal_of,
        reversal.amount,
        reversal.state,
        reversal.paid_on,
        reversal.payment_reference,
        reversal.decision_reason,
    ) == (
        original,
        D("-275240.00"),
        "paid",
        dt.date(2025, 4, 2),
        "RET-7",
        "Paid to a wrong account",
    )
    with pytest.raises(PaymentError, match="already “Reversed”"):
        reverse_payment(
            payment=paid,
            by=checker,
            reason="again",
            paid_on=MARCH,
            reference="X",
            idempotency_key="2",
        )
    reissued = add_payment(grant=original.grant, person=original.person, period=MARCH, by=officer)
    assert reissued.state == "planned"


def test_it_never_edits_a_paid_payment(officer, checker):
    paid = paid_relocation(officer, checker)
    paid.amount = D(1)

    with pytest.raises(ValidationError, match="never edited"):
        paid.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=paid.pk).update(payment_reference="")


def test_it_explains_why_each_benefit_is_or_is_not_paid(officer, checker):
    waiting = make_household(by=officer, quota_year=2025, path=("applied",))
    placed = quota_family(by=officer, members=2)
    relocation_for(placed, officer)
    rent = grant_benefit(
        household=placed, rule=rule("rent"), by=officer, tier=D(15), tier_reason="Shared flat"
    )
    batch = prepare_batch(program=kandas(), month=MARCH, by=officer)
    approve_batch(batch=batch, by=checker)
    pay_batch(batch=batch, by=checker, paid_on=dt.date(2025, 3, 20), reference="REG-1")
    refuse_payment(
        payment=rent.payments.get(period=dt.date(2025, 4, 1)), by=checker, reason="Abroad"
    )
    prepare_batch(program=kandas(), month=dt.date(2025, 5, 1), by=officer)

    not_placed = {s.rule.code: s.reasons for s in why_not_paid(waiting)}
    placed_rows = {s.rule.code: s for s in why_not_paid(placed)}

    assert not_placed == {
        "employer": ["Not in the regional quota.", "The case has not reached “Arrived”."],
        "relocation": ["Not in the regional quota.", "The case has not reached “Arrived”."],
        "rent": ["Not in the regional quota.", "The case has not reached “Arrived”."],
    }
    assert placed_rows["employer"].reasons == ["Eligible, but not granted yet."]
    assert [line.explanation for line in placed_rows["relocation"].lines] == [
        "Paid on 2025-03-20, reference REG-1"
    ] * 2
    assert placed_rows["relocation"].paid_total == "550,480 ₸"
    assert [(line.amount, line.explanation) for line in placed_rows["rent"].lines[:4]] == [
        ("58,980 ₸", "Paid on 2025-03-20, reference REG-1"),
        ("58,980 ₸", "Refused: Abroad"),
        ("58,980 ₸", "In payment run KZ-KANDAS 2025-05, awaiting approval"),
        ("58,980 ₸", "Due; not yet in a payment run"),
    ]


def test_it_explains_a_household_in_a_fixed_number_of_queries(
    officer, checker, django_assert_max_num_queries
):
    small = quota_family(by=officer, members=1)
    large = quota_family(by=officer, members=8)
    for family in (small, large):
        relocation_for(family, officer)
        grant_benefit(household=family, rule=rule("rent"), by=officer, tier=D(20), tier_reason="x")
    prepare_batch(program=kandas(), month=dt.date(2025, 6, 1), by=officer)

    with django_assert_max_num_queries(12) as small_queries:
        why_not_paid(small)
    with django_assert_max_num_queries(12) as large_queries:
        why_not_paid(large)

    assert len(small_queries) == len(large_queries)


def test_it_names_a_payment_with_its_amount_as_the_pages_show_it(officer):
    family = quota_family(by=officer, members=2)
    grant = grant_benefit(household=family, rule=rule("relocation"), by=officer)
    payment = grant.payments.order_by("pk").first()

    with translation.override("en"):
        english = str(payment)
    with translation.override("ru"):
        russian = str(payment)

    assert english.endswith("2025-03: 275,240\xa0₸")
    assert russian.endswith("2025-03: 275\xa0240\xa0₸")
