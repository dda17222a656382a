"""What a user may see: the single place where record-level scope is applied.

Every list, page, autocomplete, report and export gets its base queryset from these functions,
so that scoping staff to their programs and regions is one change in one module.

The rule: a superuser sees everything. Any other user sees the cases of the programs on their
``StaffProfile`` and, when regions are given there, only the cases placed in those regions or
their districts. A user without programs (or without a profile) sees no case at all. Inactive
and anonymous users see nothing.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, Q, QuerySet

from ..models import (
    AccessLog,
    BenefitRule,
    Group,
    Household,
    IndexValue,
    PaymentBatch,
    Person,
    Program,
    QuotaPlacement,
    Region,
    RegionQuota,
)

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Scope:
    """The programs (ids) and, optionally, the regions (ids, districts included) a user covers."""

    program_ids: frozenset[int]
    region_ids: frozenset[int] | None  # None: every region of the programs


def descendant_region_ids(region_ids: set[int] | frozenset[int]) -> frozenset[int]:
    """The regions and everything under them (oblast → districts), a few small queries."""
    found = set(region_ids)
    frontier = set(region_ids)
    while frontier:
        frontier = (
            set(Region.objects.filter(parent__in=frontier).values_list("pk", flat=True)) - found
        )
        found |= frontier
    return frozenset(found)


def scope_of(user: User) -> Scope | None:
    """The user's scope, or ``None`` for "everything" (superusers). Cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(frozenset(), frozenset())
    if user.is_superuser:
        return None
    cached = getattr(user, "_resettlement_scope", None)
    if cached is not None:
        return cached
    from ..models import StaffProfile

    # One query for both lists (a few rows: programs × regions); no profile, no rows.
    rows = StaffProfile.objects.filter(user=user).values_list("programs", "regions")
    program_ids = frozenset(program for program, _region in rows if program is not None)
    region_ids = {region for _program, region in rows if region is not None}
    if not program_ids:
        scope = Scope(frozenset(), frozenset())
    else:
        scope = Scope(program_ids, descendant_region_ids(region_ids) if region_ids else None)
    user._resettlement_scope = scope
    return scope


def forget_scope(user: User) -> None:
    """Drop the cached scope (after the profile's programs or regions changed)."""
    if hasattr(user, "_resettlement_scope"):
        del user._resettlement_scope


def _path(prefix: str, field: str) -> str:
    return f"{prefix}__{field}" if prefix else field


def scope_queryset(user: User, queryset: QuerySet, household_path: str = "household") -> QuerySet:
    """Restrict ``queryset`` (of any model reaching ``Household`` by ``household_path``) to scope.

    ``household_path`` is the lookup from the model to its household, e.g. ``"household"`` for
    people, ``"person__household"`` for a person's payments, ``""`` for households themselves.
    """
    scope = scope_of(user)
    if scope is None:
        return queryset
    condition = Q(**{f"{_path(household_path, 'program')}__in": scope.program_ids})
    if scope.region_ids is not None:
        condition &= Q(**{f"{_path(household_path, 'destination_region')}__in": scope.region_ids})
    return queryset.filter(condition)


def households_for(user: User) -> QuerySet[Household]:
    """The households ``user`` may see."""
    return scope_queryset(user, Household.objects.all(), household_path="")


def persons_for(user: User) -> QuerySet[Person]:
    """The people ``user`` may see."""
    return scope_queryset(user, Person.objects.all(), household_path="household")


def programs_for(user: User) -> QuerySet[Program]:
    """The programs ``user`` works in (for choices and report filters)."""
    scope = scope_of(user)
    if scope is None:
        return Program.objects.all()
    return Program.objects.filter(pk__in=scope.program_ids)


def groups_for(user: User) -> QuerySet[Group]:
    """The groups (cohorts) of the user's programs. Groups hold no personal data themselves."""
    scope = scope_of(user)
    if scope is None:
        return Group.objects.all()
    return Group.objects.filter(program__in=scope.program_ids)


def regions_for(user: User) -> QuerySet[Region]:
    """The regions a user may place cases in and report on.

    Their own regions with every district under them; without regions, every region of the
    countries of their programs.
    """
    scope = scope_of(user)
    if scope is None:
        return Region.objects.all()
    if scope.region_ids is not None:
        return Region.objects.filter(pk__in=scope.region_ids)
    countries = set(
        Program.objects.filter(pk__in=scope.program_ids).values_list("country", flat=True)
    )
    roots = set(
        Region.objects.filter(parent__isnull=True, code__in=countries).values_list("pk", flat=True)
    )
    return Region.objects.filter(pk__in=descendant_region_ids(roots))


def quotas_for(user: User) -> QuerySet[RegionQuota]:
    """The regional quotas of the user's programs (and regions, when the user has some)."""
    scope = scope_of(user)
    if scope is None:
        return RegionQuota.objects.all()
    quotas = RegionQuota.objects.filter(program__in=scope.program_ids)
    if scope.region_ids is not None:
        quotas = quotas.filter(region__in=scope.region_ids)
    return quotas


def countries_for(user: User) -> frozenset[str] | None:
    """The country codes of the user's programs, or ``None`` for every country (superusers)."""
    scope = scope_of(user)
    if scope is None:
        return None
    return frozenset(
        Program.objects.filter(pk__in=scope.program_ids).values_list("country", flat=True)
    )


def index_values_for(user: User) -> QuerySet[IndexValue]:
    """Index values (MCI) of the countries of the user's programs: public, country-wide figures."""
    countries = countries_for(user)
    if countries is None:
        return IndexValue.objects.all()
    return IndexValue.objects.filter(country__in=countries)


def rules_for(user: User) -> QuerySet[BenefitRule]:
    """The benefit rules of the user's programs (rules hold no personal data, but belong to one)."""
    scope = scope_of(user)
    if scope is None:
        return BenefitRule.objects.all()
    return BenefitRule.objects.filter(program__in=scope.program_ids)


def batches_for(user: User) -> QuerySet[PaymentBatch]:
    """The payment runs of the user's programs.

    A region-bound user sees only the runs of their regions: a program-wide run (no region)
    pays households outside them, so they neither see nor approve it.
    """
    scope = scope_of(user)
    if scope is None:
        return PaymentBatch.objects.all()
    batches = PaymentBatch.objects.filter(program__in=scope.program_ids)
    if scope.region_ids is not None:
        batches = batches.filter(region__in=scope.region_ids)
    return batches


def placements_for(user: User) -> QuerySet[QuotaPlacement]:
    """Quota placements of the households the user may see."""
    return scope_queryset(user, QuotaPlacement.objects.all(), household_path="household")


def access_log_for(user: User) -> QuerySet[AccessLog]:
    """Log rows a program administrator may read: their own, and those of staff in their programs."""
    scope = scope_of(user)
    if scope is None:
        return AccessLog.objects.all()
    colleagues = Q(user__staff_profile__programs__in=scope.program_ids)
    return AccessLog.objects.filter(colleagues | Q(user=user.pk)).distinct()


def is_region_scoped(user: User) -> bool:
    scope = scope_of(user)
    return scope is not None and scope.region_ids is not None


#: Querysets for foreign-key choices and autocomplete boxes, by target model.
CHOICES = {
    Program: programs_for,
    Group: groups_for,
    Region: regions_for,
    Household: households_for,
    Person: persons_for,
    RegionQuota: quotas_for,
    BenefitRule: rules_for,
    PaymentBatch: batches_for,
}


def choices_for(user: User, model: type[Model]) -> QuerySet | None:
    """The scoped queryset of ``model`` rows a user may pick in a form, or ``None`` if unscoped."""
    selector = CHOICES.get(model)
    return selector(user) if selector else None
