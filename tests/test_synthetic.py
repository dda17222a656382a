"""The synthetic register is consistent with what the case services would have written."""

import datetime as dt
import itertools
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count

from resettlement.enums import TRANSITIONS, HistoryKind, Relation
from resettlement.models import (
    BatchState,
    BenefitGrant,
    BenefitRule,
    Group,
    Household,
    Payment,
    PaymentBatch,
    PaymentState,
    Person,
    PlacementStatus,
    Program,
    QuotaPlacement,
    RegionQuota,
    StatusChange,
)
from resettlement.selectors.quotas import with_usage
from resettlement.services.benefits import schedule_for, status_reached_on
from resettlement.services.cases import add_months
from resettlement.services.payments import approve_batch, due_payments, pay_batch, prepare_batch
from resettlement.synthetic import generate
from resettlement.synthetic_benefits import ADAPTATION_CODE
from resettlement.text import normalise_document_number
from resettlement.validators import iin_checksum_ok

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 30)


def clear_register() -> None:
    """Remove every generated row (the ledger's rows are protected from ordinary deletes)."""
    Payment.objects.filter(reversal_of__isnull=False)._raw_delete(Payment.objects.db)
    for model in (Payment, PaymentBatch, BenefitGrant, QuotaPlacement, StatusChange, Person):
        model.objects.all()._raw_delete(model.objects.db)
    Household.objects.all().delete()
    Group.objects.filter(name__startswith="Synthetic cohort").delete()


def snapshot() -> list[tuple]:
    return list(
        Person.objects.order_by("id").values_list(
            "household__reference", "surname", "given_name", "iin", "document_number", "birth_date"
        )
    )


def test_it_writes_the_number_of_people_asked_for_in_households_of_1_to_12():
    counts = generate(persons=600, seed=5, as_of=AS_OF)

    sizes = defaultdict(int)
    for household_id in Person.objects.values_list("household_id", flat=True):
        sizes[household_id] += 1
    assert counts["person"] == Person.objects.count() == 600
    assert counts["household"] == Household.objects.count() == len(sizes)
    assert set(sizes.values()) <= set(range(1, 13))
    assert Household.objects.filter(is_demo=False).count() == 0
    assert Person.objects.filter(is_demo=False).count() == 0


def test_it_walks_each_case_through_the_transition_table_with_dates_in_order():
    generate(persons=600, seed=6, as_of=AS_OF)

    history = defaultdict(list)
    for change in StatusChange.objects.order_by("household_id", "id"):
        history[change.household_id].append(change)
    for household in Household.objects.select_related("program"):
        changes = history[household.pk]
        assert changes[0].kind == HistoryKind.CREATED
        assert changes[0].to_status == "draft"
        for before, after in itertools.pairwise(changes):
            assert after.effective_on >= before.effective_on
            if after.kind == HistoryKind.TRANSITION:
                assert after.from_status == before.to_status
                assert after.to_status in TRANSITIONS[before.to_status]
        assert changes[-1].to_status == household.status
        assert all(c.effective_on <= AS_OF for c in changes)
        household.full_clean()  # the check constraints and the quota rule
        if household.status_granted_on and not household.extensions_used:
            assert household.status_expires_on == add_months(
                household.status_granted_on, household.program.status_validity_months
            )


def test_it_fills_the_derived_fields_as_saving_a_person_would():
    generate(persons=300, seed=7, as_of=AS_OF)

    for person in Person.objects.all()[:300]:
        stored = (person.surname_latin, person.search_key, person.document_key)
        person.surname_latin = ""
        person.refresh_derived_fields()
        assert (person.surname_latin, person.search_key, person.document_key) == stored
        assert person.document_key == normalise_document_number(person.document_number)


def test_it_gives_valid_unique_iins_unique_references_and_one_head_per_household():
    generate(persons=800, seed=8, as_of=AS_OF)

    iins = list(Person.objects.exclude(iin="").values_list("iin", flat=True))
    references = list(Household.objects.values_list("program_id", "reference"))
    assert iins
    assert all(iin_checksum_ok(iin) for iin in iins)
    assert len(set(iins)) == len(iins)
    assert len(set(references)) == len(references)
    assert all(ref.split("-")[0] in ("KZ", "KG") for _, ref in references)
    assert Person.objects.filter(relation=Relation.HEAD).count() == Household.objects.count()


def test_it_is_deterministic_for_a_seed_and_continues_numbering_after_existing_cases():
    generate(persons=200, seed=9, as_of=AS_OF)
    first = snapshot()
    clear_register()

    generate(persons=200, seed=9, as_of=AS_OF)
    again = snapshot()
    call_command("generate_synthetic", persons=50, seed=9, as_of=AS_OF, verbosity=0)

    assert [row[1:] for row in again] == [row[1:] for row in first]
    assert Household.objects.values("program", "reference").distinct().count() == (
        Household.objects.count()
    )


# --- benefits: quota placements, grants, payment runs and payments ---------------------------


@pytest.fixture(scope="module")
def register(django_db_setup, django_db_blocker):
    """One synthetic register with benefits for the tests below (built once, removed after)."""
    with django_db_blocker.unblock():
        generate(persons=5000, seed=11, as_of=AS_OF)
        yield
        clear_register()
        BenefitRule.objects.filter(code=ADAPTATION_CODE).delete()


def test_it_places_quota_families_in_their_own_quota_within_its_places(register):
    placements = list(QuotaPlacement.objects.select_related("quota", "household"))
    members = dict(Household.objects.annotate(n=Count("members")).values_list("pk", "n"))

    assert placements
    for placement in placements:
        household, quota = placement.household, placement.quota
        assert (household.program_id, household.destination_region_id, household.quota_year) == (
            quota.program_id,
            quota.region_id,
            quota.year,
        )
        assert (placement.places, placement.status, placement.over_quota) == (
            members[household.pk],
            PlacementStatus.RESERVED,
            False,
        )
    in_quota = Household.objects.filter(quota_year__isnull=False)
    assert sorted(in_quota.values_list("pk", flat=True)) == sorted(
        p.household_id for p in placements
    )
    for quota in with_usage(RegionQuota.objects.all()):
        assert quota.places_remaining >= 0


def test_it_plans_each_grant_the_payments_its_rule_gives(register):
    grants = BenefitGrant.objects.select_related("rule__program", "household").order_by("pk")
    checked = 0
    for grant in list(grants[:150]) + list(grants.exclude(rule__code=ADAPTATION_CODE)):
        payments = grant.payments.filter(reversal_of__isnull=True)
        stored = sorted(
            (p.period, p.person_id or 0, p.amount, p.index_value, p.index_year, p.currency)
            for p in payments
        )
        expected = sorted(
            (line.period, line.person_id or 0, line.amount, line.index_value, line.index_year,
             grant.rule.program.currency)
            for line in schedule_for(grant)
        )  # fmt: skip
        assert stored == expected, grant
        assert not condition_problems_then(grant)
        checked += 1
    assert checked > 150
    assert (
        grants.filter(rule__code="rent").exclude(tier=None).count()
        == grants.filter(rule__code="rent").count()
    )


def condition_problems_then(grant: BenefitGrant) -> list[str]:
    """The grant's conditions as they stood when it was made (the case reached the status)."""
    problems = []
    if grant.rule.from_status and status_reached_on(grant.household, grant.rule.from_status) > (
        grant.starts_on
    ):
        problems.append("granted before the status was reached")
    if grant.rule.quota_participants_only and not grant.household.quota_placements.exists():
        problems.append("not in the quota")
    return problems


def test_it_keeps_the_ledger_states_runs_and_reversals_consistent(register):
    this_month = AS_OF.replace(day=1)
    last_month = add_months(this_month, -1)
    people = Person.objects.count()
    entries = Payment.objects.filter(reversal_of__isnull=True)
    states = dict(entries.values("state").annotate(n=Count("pk")).values_list("state", "n"))

    assert 2.5 <= entries.count() / people <= 3.5
    assert states[PaymentState.PAID] > 0.95 * entries.count()
    assert states[PaymentState.REFUSED] > 0
    assert states[PaymentState.REVERSED] > 0
    assert states[PaymentState.PLANNED] > 0
    assert states[PaymentState.APPROVED] > 0
    for batch in PaymentBatch.objects.all():
        expected = (
            BatchState.PREPARED if batch.month == this_month
            else BatchState.APPROVED if batch.month == last_month
            else BatchState.PAID
        )  # fmt: skip
        assert batch.state == expected
        assert batch.approved_by_id != batch.prepared_by_id
        in_run = batch.payments.exclude(state__in=[PaymentState.REFUSED, PaymentState.REVERSED])
        assert {p.period for p in batch.payments.all()} == {batch.month}
        if batch.state == BatchState.PAID:
            assert set(in_run.values_list("state", "paid_on", "payment_reference")) <= {
                (PaymentState.PAID, batch.paid_on, batch.payment_reference)
            }
        else:
            assert set(in_run.values_list("state", flat=True)) <= {
                PaymentState.APPROVED
                if batch.state == BatchState.APPROVED
                else PaymentState.PLANNED
            }
    for original in Payment.objects.filter(state=PaymentState.REVERSED):
        reversal = original.reversal
        assert (reversal.amount, reversal.state, reversal.period, reversal.person_id) == (
            -original.amount,
            PaymentState.PAID,
            original.period,
            original.person_id,
        )
    assert not Payment.objects.filter(period__gt=this_month).exclude(batch=None).exists()
    assert not Payment.objects.filter(period__gt=AS_OF).exclude(state=PaymentState.PLANNED).exists()


def test_it_leaves_next_months_run_to_the_payment_services(register):
    program = Program.objects.get(code="KZ-KANDAS")
    maker, checker = (
        get_user_model().objects.create_user(username=name, is_staff=True)
        for name in ("bench_maker", "bench_checker")
    )
    month = add_months(AS_OF.replace(day=1), 1)
    due = set(due_payments(program=program, month=month).values_list("pk", flat=True))

    batch = prepare_batch(program=program, month=month, by=maker)
    approve_batch(batch=batch, by=checker)
    pay_batch(batch=batch, by=checker, paid_on=month, reference="BENCH-1")

    assert due
    paid = set(batch.payments.values_list("pk", flat=True))
    excluded = set(
        Payment.objects.filter(
            pk__in=due, grant__household__in=batch.exclusions.values("household")
        ).values_list("pk", flat=True)
    )
    assert paid | excluded == due
    assert set(batch.payments.values_list("state", flat=True)) == {PaymentState.PAID}
