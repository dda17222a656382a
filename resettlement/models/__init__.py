"""The tracker's models, one module per area; import them from here."""

from .audit import AccessKind, AccessLog
from .cases import Group, Household, Person, StatusChange
from .reference import Country, Program, QuotaRevision, Region, RegionQuota
from .reports import AgeBandLimits
from .staff import StaffProfile, profile_for

__all__ = [
    "AccessKind",
    "AccessLog",
    "AgeBandLimits",
    "Country",
    "Group",
    "Household",
    "Person",
    "Program",
    "QuotaRevision",
    "Region",
    "RegionQuota",
    "StaffProfile",
    "StatusChange",
    "profile_for",
]
