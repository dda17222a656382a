"""The tracker's models, one module per area; import them from here."""

from .cases import Group, Household, Person, StatusChange
from .reference import Country, Program, QuotaRevision, Region, RegionQuota

__all__ = [
    "Country",
    "Group",
    "Household",
    "Person",
    "Program",
    "QuotaRevision",
    "Region",
    "RegionQuota",
    "StatusChange",
]
