"""What a user may see: the single place where record-level scope is applied.

Every list, page, autocomplete, report and export gets its base queryset from these functions,
so that scoping staff to their programs and regions is one change in one module.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from ..models import Group, Household, Person


def households_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Household]:
    """The households ``user`` may see."""
    return Household.objects.all()


def persons_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Person]:
    """The people ``user`` may see."""
    return Person.objects.filter(household__in=households_for(user))


def groups_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Group]:
    """The groups ``user`` may see."""
    return Group.objects.all()
